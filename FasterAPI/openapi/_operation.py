"""One route's OpenAPI operations: metadata, parameters, request body and responses."""

from __future__ import annotations

import collections.abc
import copy
import inspect
import re
import typing
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import msgspec

from FasterAPI import params
from FasterAPI._form_body import is_upload_annotation
from FasterAPI.openapi.schema import HTTPValidationError, SchemaRegistry, deep_merge
from FasterAPI.response import JSONResponse, Response, status_allows_body
from FasterAPI.routing import HTTP_METHODS

if TYPE_CHECKING:
    from FasterAPI._compile import Field, Plan
    from FasterAPI.routing import APIRoute

_CONVERTER = re.compile(r"{([^}:]+):[^}]*}")
_RANGES = {
    "1XX": "Information",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client Error",
    "5XX": "Server Error",
    "default": "Default Response",
}
_VALIDATION_ERROR = "Validation Error"
_SOURCES = ("path", "query", "header", "cookie")


def path_format(path: str) -> str:
    """``/files/{name:path}`` -> ``/files/{name}``: the path as OpenAPI writes it."""
    return _CONVERTER.sub(r"{\1}", path)


def security_for(plan: Plan) -> tuple[list[dict[str, list[str]]], dict[str, Any]]:
    """(the operation's ``security``, its ``securitySchemes`` entries).

    Security dependencies (``FasterAPI.security``; every one a ``SecurityBase`` with
    ``scheme_name`` and ``openapi_scheme``) are found by walking ``plan`` and its
    dependencies; OAuth2/OpenID scopes come from ``Security(..., scopes=[...])`` along the
    chain above each scheme.
    """
    from FasterAPI.security.base import SecurityBase

    required: dict[str, list[str]] = {}
    schemes: dict[str, Any] = {}

    def visit(current: Plan, scopes: list[str]) -> None:
        for spec, sub_plan in current.dependencies:
            chain = scopes + spec.scopes
            call = spec.call
            if isinstance(call, SecurityBase):
                schemes[call.scheme_name] = call.openapi_scheme
                entry = required.setdefault(call.scheme_name, [])
                if call.openapi_scheme.get("type") in ("oauth2", "openIdConnect"):
                    entry.extend(scope for scope in chain if scope not in entry)
            visit(sub_plan, chain)

    visit(plan, [])
    return [{name: scopes} for name, scopes in required.items()], schemes


def path_operations(
    route: APIRoute, registry: SchemaRegistry
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``{method: operation}`` for ``route`` and the security schemes they reference."""
    operations: dict[str, dict[str, Any]] = {}
    security, schemes = security_for(route.plan)
    methods = [method for method in HTTP_METHODS if method in route.methods]
    for method in methods:
        operation = _metadata(route, _operation_id(route, method, len(methods) > 1))
        parameters = _parameters(route, registry)
        if parameters:
            operation["parameters"] = parameters
        body = _request_body(route, operation["operationId"], registry)
        if body is not None:
            operation["requestBody"] = body
        operation["responses"] = _responses(route, registry)
        if security:
            operation["security"] = security
        if route.openapi_extra:
            deep_merge(operation, copy.deepcopy(route.openapi_extra))
        operations[method.lower()] = operation
    return operations, schemes


def _operation_id(route: APIRoute, method: str, several: bool) -> str:
    if route.operation_id:
        return f"{route.operation_id}_{method.lower()}" if several else route.operation_id
    if route.generate_unique_id_function is not None:
        return route.generate_unique_id_function(route)
    base = re.sub(r"\W", "_", f"{route.name}{path_format(route.path)}")
    return f"{base}_{method.lower()}"


def _metadata(route: APIRoute, operation_id: str) -> dict[str, Any]:
    operation: dict[str, Any] = {}
    if route.tags:
        operation["tags"] = list(route.tags)
    operation["summary"] = route.summary or route.name.replace("_", " ").title()
    description = route.description
    if description is None:
        description = inspect.cleandoc(route.endpoint.__doc__ or "")
        # FastAPI's convention: a form feed ends the part shown in the docs.
        description = description.split("\f", 1)[0].strip()
    if description:
        operation["description"] = description
    operation["operationId"] = operation_id
    if route.deprecated:
        operation["deprecated"] = True
    return operation


def _title(field: Field) -> str:
    return field.marker.title or field.name.replace("_", " ").title()


def _schema_extra(field: Field) -> dict[str, Any]:
    extra: dict[str, Any] = {"title": _title(field)}
    marker = field.marker
    if marker.default is not params.Required and marker.default_factory is None:
        try:
            extra["default"] = msgspec.to_builtins(marker.default)
        except (TypeError, ValueError):
            pass
    return extra


def _parameters(route: APIRoute, registry: SchemaRegistry) -> list[dict[str, Any]]:
    """Path, query, header then cookie parameters of the route and its dependencies."""
    found: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for source in _SOURCES:
        for field in route.plan.all_fields(source):
            key = (source, field.alias)
            if key in seen:
                continue
            seen.add(key)
            if source != "path" and not field.marker.include_in_schema:
                continue
            found.append(_parameter(source, field, registry))
        if source == "path":
            # OpenAPI wants every templated name declared, used by the handler or not.
            for name, converter in route.template.params.items():
                if (source, name) not in seen:
                    title = name.replace("_", " ").title()
                    schema = registry.schema(converter.python_type, title=title)
                    found.append({"name": name, "in": "path", "required": True, "schema": schema})
    return found


def _parameter(source: str, field: Field, registry: SchemaRegistry) -> dict[str, Any]:
    marker = field.marker
    parameter: dict[str, Any] = {
        "name": field.alias,
        "in": source,
        "required": source == "path" or marker.required,
        "schema": registry.schema(field.typed(), **_schema_extra(field)),
    }
    if marker.description:
        parameter["description"] = marker.description
    if marker.deprecated:
        parameter["deprecated"] = True
    return parameter


def _is_file(field: Field) -> bool:
    return isinstance(field.marker, params.File) or is_upload_annotation(field.annotation)


def _request_body(
    route: APIRoute, operation_id: str, registry: SchemaRegistry
) -> dict[str, Any] | None:
    body_plan = route.body_plan
    if body_plan is None:
        return None
    fields = [field for field in body_plan.fields if field.marker.include_in_schema]
    if not fields:
        return None
    first = fields[0]
    media_type = getattr(first.marker, "media_type", "application/json")
    schema: dict[str, Any]
    if body_plan.is_form:
        form_body = body_plan.form_body
        if form_body.whole_takes_files or any(_is_file(field) for field in fields):
            media_type = "multipart/form-data"
        whole = form_body.whole
        if whole is not None:
            schema = registry.schema(whole.typed())
        else:
            schema = _body_component(f"Body_{operation_id}", fields, registry)
    elif body_plan.whole:
        schema = registry.schema(first.typed(), **_schema_extra(first))
    else:
        schema = _body_component(f"Body_{operation_id}", fields, registry)
    body: dict[str, Any] = {"content": {media_type: {"schema": schema}}}
    if body_plan.required:
        body["required"] = True
    return body


def _body_component(name: str, fields: list[Field], registry: SchemaRegistry) -> dict[str, Any]:
    properties = {
        field.alias: registry.schema(field.typed(), binary=_is_file(field), **_schema_extra(field))
        for field in fields
    }
    schema: dict[str, Any] = {"properties": properties, "type": "object", "title": name}
    required = [field.alias for field in fields if field.required]
    if required:
        schema["required"] = required
    return registry.component(name, schema)


def _is_json(response_class: type[Response]) -> bool:
    media_type = response_class.media_type or ""
    return (
        issubclass(response_class, JSONResponse)
        or media_type == "application/json"
        or media_type.endswith("+json")
    )


_STREAMS = frozenset(
    {
        collections.abc.AsyncIterable,
        collections.abc.AsyncIterator,
        collections.abc.AsyncGenerator,
        collections.abc.Iterable,
        collections.abc.Iterator,
        collections.abc.Generator,
    }
)


def _is_stream(annotation: Any) -> bool:
    """A generator endpoint's return annotation (``AsyncIterable[Item]`` for a stream of
    events): the body is the stream, which no JSON Schema describes as a whole."""
    return typing.get_origin(annotation) in _STREAMS or annotation in _STREAMS


def _allows_body(key: str) -> bool:
    return not key.isdigit() or status_allows_body(int(key))


def _can_fail_validation(route: APIRoute) -> bool:
    return route.body_plan is not None or any(plan.sources for plan in route.plan.walk())


def _responses(route: APIRoute, registry: SchemaRegistry) -> dict[str, Any]:
    media_type = route.response_class.media_type
    status = str(route.status_code)
    main: dict[str, Any] = {"description": route.response_description}
    if media_type and status_allows_body(route.status_code):
        if route.response_model is not None and not _is_stream(route.response_model):
            schema = registry.schema(route.response_model)
        elif _is_json(route.response_class):
            schema = {}
        else:
            schema = {"type": "string"}
        main["content"] = {media_type: {"schema": schema}}
    responses: dict[str, Any] = {status: main}
    for code, declared in route.responses.items():
        # str(int()): on Python 3.10 str(HTTPStatus.NOT_FOUND) is "HTTPStatus.NOT_FOUND".
        key = str(int(code)) if isinstance(code, int) else str(code).upper()
        key = "default" if key == "DEFAULT" else key
        extra = copy.deepcopy(dict(declared))
        model = extra.pop("model", None)
        target = responses.setdefault(key, {})
        # A response that lists its own content (and no model) has only that content.
        if _allows_body(key) and (model is not None or "content" not in extra):
            content = target.setdefault("content", {})
            media = content.setdefault(media_type or "application/json", {})
            if model is not None:
                media["schema"] = registry.schema(model)
            else:
                media.setdefault("schema", {})
        deep_merge(target, extra)
        target["description"] = (
            extra.get("description")
            or target.get("description")
            or _phrase(key)
            or "Additional Response"
        )
    if _can_fail_validation(route) and not {"422", "4XX", "default"} & responses.keys():
        schema = registry.schema(HTTPValidationError)
        responses["422"] = {
            "description": _VALIDATION_ERROR,
            "content": {"application/json": {"schema": schema}},
        }
    return responses


def _phrase(key: str) -> str:
    if key in _RANGES:
        return _RANGES[key]
    try:
        return HTTPStatus(int(key)).phrase
    except ValueError:
        return ""
