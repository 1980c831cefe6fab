"""The OpenAPI 3.1 document of an app, generated from its routes with msgspec.

``get_openapi`` walks the routes once, asking a ``SchemaRegistry`` for the JSON Schema of
every type it meets (parameters, bodies, responses). The registry hands back empty dicts
and fills them all after a single ``msgspec.json.schema_components`` call, which also
yields the shared components (Structs, dataclasses, TypedDicts, Enums) under
``#/components/schemas`` with clash-free names: two Structs called ``Item`` in different
modules become ``a.Item`` and ``b.Item``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any

import msgspec

from FasterAPI._patterns import restore_patterns
from FasterAPI._type_parts import Composite, type_parts
from FasterAPI.datastructures import UploadFile

__all__ = [
    "OPENAPI_VERSION",
    "REF_TEMPLATE",
    "HTTPValidationError",
    "SchemaRegistry",
    "ValidationError",
    "deep_merge",
    "get_openapi",
    "schema_components",
]

logger = logging.getLogger("FasterAPI")

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{name}"
_REF_PREFIX = REF_TEMPLATE.format(name="")


# The 422 answer's shape, as components named after the classes (no docstrings: they
# would become the schemas' descriptions).


class ValidationError(msgspec.Struct):
    loc: Annotated[list[str | int], msgspec.Meta(title="Location")]
    msg: Annotated[str, msgspec.Meta(title="Message")]
    type: Annotated[str, msgspec.Meta(title="Error Type")]
    input: Annotated[Any, msgspec.Meta(title="Input")] | msgspec.UnsetType = msgspec.UNSET
    ctx: Annotated[dict[str, Any], msgspec.Meta(title="Context")] | msgspec.UnsetType = (
        msgspec.UNSET
    )


class HTTPValidationError(msgspec.Struct):
    detail: Annotated[list[ValidationError], msgspec.Meta(title="Detail")]


def _schema_hook(annotation: Any) -> dict[str, Any]:
    """Schemas for types msgspec does not know: uploads are binary, anything else is open."""
    if isinstance(annotation, type) and issubclass(annotation, UploadFile):
        return {"type": "string", "format": "binary"}
    return {}


def _binary(schema: Any) -> Any:
    """``bytes`` read from an uploaded file is binary, not base64 text."""
    if isinstance(schema, dict):
        if schema.get("contentEncoding") == "base64" and schema.get("type") == "string":
            return {"type": "string", "format": "binary"}
        return {key: _binary(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_binary(item) for item in schema]
    return schema


class SchemaRegistry:
    """Collects the types of one document and turns them into schemas in one msgspec call.

    ``schema(annotation)`` returns a dict that is empty until ``resolve()`` fills it in
    place, so operations can be assembled before any schema exists. ``extra`` keys
    (``title``, ``default``) are added where the generated schema has none; a ``title`` is
    never put next to a ``$ref``.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Any, dict[str, Any], dict[str, Any], bool]] = []
        # name -> (schema, the $ref handed out for it, renamed in place on a clash)
        self._components: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}

    def schema(self, annotation: Any, *, binary: bool = False, **extra: Any) -> dict[str, Any]:
        placeholder: dict[str, Any] = {}
        self._pending.append((annotation, placeholder, extra, binary))
        return placeholder

    def component(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Register a hand-built component (such as ``Body_<operation id>``); returns its ref."""
        unique, number = name, 2
        while unique in self._components:
            unique, number = f"{name}_{number}", number + 1
        ref = {"$ref": REF_TEMPLATE.format(name=unique)}
        self._components[unique] = (schema, ref)
        return ref

    def resolve(self) -> dict[str, Any]:
        """Fill every schema handed out; returns ``components.schemas`` sorted by name."""
        pending, self._pending = self._pending, []
        schemas, components = schema_components([annotation for annotation, *_ in pending])
        for (_, placeholder, extra, binary), schema in zip(pending, schemas, strict=True):
            placeholder.update(_binary(schema) if binary else schema)
            for key, value in extra.items():
                if key == "title" and "$ref" in schema:
                    continue
                placeholder.setdefault(key, value)
        for name, (schema, ref) in self._components.items():
            # A model of the same name (a Struct called ``Body_create_items_post``) keeps
            # its name; the hand-built component moves aside and its $ref follows.
            unique = name
            while unique in components or (unique != name and unique in self._components):
                unique += "_"
            components[unique] = schema
            ref["$ref"] = REF_TEMPLATE.format(name=unique)
        for _, placeholder, _, _ in pending:
            restore_patterns(placeholder)
            type_enums(placeholder)
        restore_patterns(components)
        type_enums(components)
        return dict(sorted(components.items()))


_USER_VALUES = frozenset({"default", "examples", "example", "const"})


def type_enums(schema: Any) -> None:
    """Give every ``enum`` of one JSON type its ``type`` (in place), as client generators
    expect: msgspec writes ``{"enum": ["a", "b"]}`` alone."""
    if isinstance(schema, dict):
        values = schema.get("enum")
        if isinstance(values, list) and values and "type" not in schema:
            kind = _json_type(values)
            if kind is not None:
                schema["type"] = kind
        for key, value in schema.items():
            if key not in _USER_VALUES:
                type_enums(value)
    elif isinstance(schema, list):
        for item in schema:
            type_enums(item)


def _json_type(values: list[Any]) -> str | None:
    kinds = {type(value) for value in values}
    if kinds == {str}:
        return "string"
    if kinds == {bool}:
        return "boolean"
    if kinds == {int}:
        return "integer"
    return None


def schema_components(
    types: Sequence[Any],
) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    """``msgspec.json.schema_components`` with uploads understood and a fallback.

    msgspec (0.18-0.19) fails with ``KeyError`` when two parametrised generics share a
    name, e.g. ``Page[a.Item]`` and ``Page[b.Item]``, and with ``TypeError`` for a type it
    rejects (``Meta(max_length=...)`` on an optional). Then each type is generated on its
    own, the components are merged (renaming the ones whose names clash) and a rejected
    type gets the open schema ``{}`` with a warning logged.
    """
    try:
        return msgspec.json.schema_components(
            types, schema_hook=_schema_hook, ref_template=REF_TEMPLATE
        )
    except (KeyError, TypeError):
        return _one_by_one(types)


def _one_by_one(types: Iterable[Any]) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    components: dict[str, Any] = {}
    schemas: list[dict[str, Any]] = []
    for annotation in types:
        try:
            (schema,), found = msgspec.json.schema_components(
                [annotation], schema_hook=_schema_hook, ref_template=REF_TEMPLATE
            )
        except (KeyError, TypeError) as exc:
            shape = _composite(annotation)
            if shape is None:
                logger.warning("No OpenAPI schema for %r: %s", annotation, exc)
                schemas.append({})
                continue
            parts, assemble = shape
            part_schemas, found = _one_by_one(parts)
            schema = assemble(list(part_schemas))
        renames = _renames(found, components)
        for name, component in found.items():
            components.setdefault(renames.get(name, name), _rename_refs(component, renames))
        schemas.append(_rename_refs(schema, renames))
    return tuple(schemas), components


def _composite(
    annotation: Any,
) -> tuple[tuple[Any, ...], Callable[[list[dict[str, Any]]], dict[str, Any]]] | None:
    """A type msgspec rejects as a whole (e.g. a union of untagged Structs) as the parts
    to generate and how their schemas combine; None when it has no parts."""
    found = type_parts(annotation)
    if found is None:
        return None
    kind, parts = found
    if kind is Composite.UNION:
        return parts, lambda schemas: {"anyOf": schemas}
    if kind is Composite.ARRAY:
        return parts, lambda schemas: {"type": "array", "items": schemas[0]}
    return parts[1:], lambda schemas: {"type": "object", "additionalProperties": schemas[0]}


def _renames(found: dict[str, Any], components: dict[str, Any]) -> dict[str, str]:
    """New names for the components in ``found`` that differ from same-named existing ones."""
    renames: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for name, component in found.items():
            target = renames.get(name, name)
            existing = components.get(target)
            if existing is not None and existing != _rename_refs(component, renames):
                number = 2
                while f"{name}{number}" in components or f"{name}{number}" in found:
                    number += 1
                renames[name] = f"{name}{number}"
                changed = True
    return renames


def _rename_refs(schema: Any, renames: dict[str, str]) -> Any:
    if not renames:
        return schema
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF_PREFIX):
                name = value[len(_REF_PREFIX) :]
                value = REF_TEMPLATE.format(name=renames.get(name, name))
            out[key] = _rename_refs(value, renames)
        return out
    if isinstance(schema, list):
        return [_rename_refs(item, renames) for item in schema]
    return schema


def deep_merge(target: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Merge ``extra`` into ``target`` in place: dicts recursively, lists concatenated."""
    for key, value in extra.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            deep_merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            target[key] = current + value
        else:
            target[key] = value
    return target


def get_openapi(
    *,
    title: str,
    version: str,
    openapi_version: str = OPENAPI_VERSION,
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[Any],
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, Any] | None = None,
    license_info: dict[str, Any] | None = None,
    external_docs: dict[str, Any] | None = None,
    **_: Any,
) -> dict[str, Any]:
    """The OpenAPI document for ``routes`` (FastAPI's signature; other route kinds skipped).

    Use it to customise the document, as with FastAPI::

        def custom_openapi():
            if app.openapi_schema is None:
                document = get_openapi(title="Shop", version="2.0", routes=app.routes)
                document["info"]["x-logo"] = {"url": "/logo.png"}
                app.openapi_schema = document
            return app.openapi_schema

        app.openapi = custom_openapi
    """
    from FasterAPI.openapi._operation import path_format, path_operations
    from FasterAPI.routing import APIRoute

    info: dict[str, Any] = {"title": title}
    if summary:
        info["summary"] = summary
    if description:
        info["description"] = description
    if terms_of_service:
        info["termsOfService"] = terms_of_service
    if contact:
        info["contact"] = contact
    if license_info:
        info["license"] = license_info
    info["version"] = version
    document: dict[str, Any] = {"openapi": openapi_version, "info": info}
    if servers:
        document["servers"] = servers
    registry = SchemaRegistry()
    paths: dict[str, dict[str, Any]] = {}
    security_schemes: dict[str, Any] = {}
    used_ids: set[str] = set()
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        operations, schemes = path_operations(route, registry)
        for operation in operations.values():
            operation["operationId"] = _unique_id(operation["operationId"], used_ids, route)
        paths.setdefault(path_format(route.path), {}).update(operations)
        security_schemes.update(schemes)
    document["paths"] = paths
    components: dict[str, Any] = {}
    schemas = registry.resolve()
    if schemas:
        components["schemas"] = schemas
    if security_schemes:
        components["securitySchemes"] = security_schemes
    if components:
        document["components"] = components
    if tags:
        document["tags"] = tags
    if external_docs:
        document["externalDocs"] = external_docs
    return document


def _unique_id(operation_id: str, used: set[str], route: Any) -> str:
    if operation_id not in used:
        used.add(operation_id)
        return operation_id
    warnings.warn(
        f"Duplicate operation ID {operation_id!r} for {route!r}; suffixed to keep it unique",
        stacklevel=3,
    )
    number = 2
    while f"{operation_id}_{number}" in used:
        number += 1
    unique = f"{operation_id}_{number}"
    used.add(unique)
    return unique
