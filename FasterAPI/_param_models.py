"""Parameter models: one argument, a model marked ``Query()``, ``Header()`` or ``Cookie()``,
whose fields are read from that source one by one."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

import msgspec

from FasterAPI import params
from FasterAPI._compile import (
    Field,
    RouteDefinitionError,
    SourceReader,
    is_bool_type,
    is_class,
    normalise_bool,
    unwrap_annotated,
)
from FasterAPI._dataclass_defaults import completer
from FasterAPI._errors import EXTRA_MSG, from_message, missing
from FasterAPI._extract import all_headers, parse_query, pick_headers, read_cookies
from FasterAPI._types import Scope
from FasterAPI.security.base import SecurityBase

if TYPE_CHECKING:
    from FasterAPI._compile import Plan


_PARAM_CLASSES: dict[str, type[params.Param]] = {
    "query": params.Query,
    "header": params.Header,
    "cookie": params.Cookie,
}
_EMPTY_CONTAINERS = (list, dict, set, frozenset, tuple)


def _meta_description(annotation: Any) -> str | None:
    for extra in unwrap_annotated(annotation)[1]:
        if isinstance(extra, msgspec.Meta) and extra.description:
            return extra.description
    return None


class ParamModel(SourceReader):
    """One argument whose type is a model (Struct, dataclass or TypedDict) marked
    ``Query()``, ``Header()`` or ``Cookie()``: each field is read from that source.

    Everything is planned here, at start-up: the request key of each field (its msgspec
    ``rename``d name; for headers the name with ``-`` for ``_`` unless
    ``convert_underscores=False`` or renamed), which fields collect repeated values and
    which are booleans. A request costs one pass over the source and one
    ``msgspec.convert`` into the model; errors carry ``loc`` ``[source, field name]``
    (the model's name of the field, as FastAPI reports it). A Struct with
    ``forbid_unknown_fields=True`` rejects keys no parameter of the route reads
    (``settle_extra_keys`` widens ``known`` to the whole route).
    """

    def __init__(self, name: str, model: Any, marker: params.Param, owner: str) -> None:
        self.source = source = marker.source
        self.name = name
        self.model = model
        # Only ``single[0]`` (the argument's name) is read for a model: ``load`` returns it whole.
        self.single = (name, name, model, params.Required)
        try:
            info = msgspec.inspect.type_info(model)
            if issubclass(model, msgspec.Struct):
                hints = {f.name: f.type for f in msgspec.structs.fields(model)}
            else:
                hints = typing.get_type_hints(model, include_extras=True)
        except (TypeError, ValueError, NameError) as exc:
            raise RouteDefinitionError(f"{owner}: bad {source} model {model!r}: {exc}") from exc
        convert_underscores = getattr(marker, "convert_underscores", True)
        fields: list[Field] = []
        keys: list[tuple[str, str]] = []  # (request key, the model's key)
        checks: list[tuple[str, Any, bool]] = []  # (the model's key, annotation, required)
        for item in info.fields:  # type: ignore[attr-defined]
            annotation = hints[item.name]
            key = item.encode_name
            if source == "header":
                if key == item.name and convert_underscores:
                    key = key.replace("_", "-")
                key = key.lower()
            keys.append((key, item.encode_name))
            checks.append((item.encode_name, annotation, item.required))
            fields.append(Field(item.name, key, annotation, self._marker(item, marker, annotation)))
        self.fields = fields
        self.keys = tuple(keys)
        self.checks = tuple(checks)
        self.sequences = frozenset(f.alias for f in fields if f.is_sequence)
        self.bools = tuple(encoded for encoded, annotation, _ in checks if is_bool_type(annotation))
        self.header_names = {key.encode("latin-1"): key for key, _ in keys}
        config = getattr(model, "__struct_config__", None)
        self.forbid = bool(getattr(config, "forbid_unknown_fields", False))
        self.known = frozenset(key for key, _ in keys)
        self.complete = completer(model)

    @staticmethod
    def _marker(item: Any, marker: params.Param, annotation: Any) -> params.Param:
        """A marker for one field, as a plain parameter of the source would have it."""
        cls = _PARAM_CLASSES[marker.source]
        factory = item.default_factory
        if item.required:
            field_marker = cls()
        elif factory is msgspec.NODEFAULT:
            field_marker = cls(item.default)
        elif factory in _EMPTY_CONTAINERS:
            field_marker = cls(factory())  # documented as its value, like msgspec's schema
        else:
            field_marker = cls(default_factory=factory)
        field_marker.description = _meta_description(annotation)
        field_marker.include_in_schema = marker.include_in_schema
        field_marker.deprecated = marker.deprecated
        return field_marker

    def extract(self, scope: Scope, path_params: dict[str, Any]) -> dict[str, Any]:
        """The raw values by request key: every key of the source (only the model's
        headers, unless extra headers are forbidden)."""
        source = self.source
        if source == "query":
            return parse_query(scope["query_string"], self.sequences)
        if source == "header":
            if self.forbid:
                return all_headers(scope["headers"], self.sequences)
            return pick_headers(scope["headers"], self.header_names, self.sequences)
        return read_cookies(scope["headers"])

    def convert(self, raw: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        value, errors = self.convert_raw(raw)
        if errors:
            return {}, errors
        return {self.name: value}, []

    def load(
        self, scope: Scope, path_params: dict[str, Any]
    ) -> tuple[Any, list[dict[str, Any]] | None]:
        return self.convert_raw(self.extract(scope, path_params))

    def convert_raw(self, raw: dict[str, Any]) -> tuple[Any, list[dict[str, Any]] | None]:
        """The model built from ``raw``, or the errors (every field's and every extra key)."""
        data = {encoded: raw[key] for key, encoded in self.keys if key in raw}
        if self.bools:
            for encoded in self.bools:
                if encoded in data:
                    data[encoded] = normalise_bool(data[encoded])
        if self.forbid:
            known = self.known
            extras = [key for key in raw if key not in known]
            if extras:
                try:
                    msgspec.convert(data, self.model, strict=False)
                    errors = []
                except msgspec.ValidationError as exc:
                    errors = self.explain(data, exc)
                for key in extras:
                    errors.append(
                        {
                            "type": "extra_forbidden",
                            "loc": [self.source, key],
                            "msg": EXTRA_MSG,
                            "input": raw[key],
                        }
                    )
                return None, errors
        try:
            value = msgspec.convert(data, self.model, strict=False)
        except msgspec.ValidationError as exc:
            return None, self.explain(data, exc)
        if self.complete is not None:
            self.complete(value)
        return value, None

    def explain(self, data: dict[str, Any], exc: msgspec.ValidationError) -> list[dict[str, Any]]:
        """Every field's error (the slow path, taken only on failure)."""
        source = self.source
        errors = []
        for encoded, annotation, required in self.checks:
            if encoded not in data:
                if required:
                    errors.append(missing([source, encoded], data))
                continue
            value = data[encoded]
            try:
                msgspec.convert(value, annotation, strict=False)
            except msgspec.ValidationError as field_exc:
                errors.append(from_message(str(field_exc), [source, encoded], value))
        if not errors:  # the fields are fine one by one: the model itself refused them
            errors.append(from_message(str(exc), [source], data))
        return errors


def parameter_model(name: str, annotation: Any, marker: params.Param, owner: str) -> ParamModel:
    """The reader of a model-typed ``Query()``/``Header()``/``Cookie()`` argument."""
    if marker.source == "path":
        raise RouteDefinitionError(
            f"{owner}: path parameter {name!r} cannot be a model ({annotation!r}); "
            "declare each path parameter on its own"
        )
    if not is_class(annotation):
        raise RouteDefinitionError(
            f"{owner}: {marker.source} model {name!r} must be the model class itself, "
            f"not {annotation!r}"
        )
    return ParamModel(name, annotation, marker, owner)


def settle_extra_keys(plan: Plan) -> None:
    """Tell each model that forbids extra keys every key its source has in ``plan`` (a
    handler with its dependencies): a key that some parameter or security scheme of the
    route reads (an API key, the ``Authorization`` header) is not extra."""
    forbidding = [
        model
        for step in plan.walk()
        for model in step.sources
        if isinstance(model, ParamModel) and model.forbid
    ]
    if not forbidding:
        return
    secured = _security_keys(plan)
    for model in forbidding:
        keys = {field.alias for field in plan.all_fields(model.source)}
        keys.update(key for source, key in secured if source == model.source)
        model.known = frozenset(keys)


def _security_keys(plan: Plan) -> set[tuple[str, str]]:
    """``(source, key)`` read by the security dependencies of ``plan``."""
    keys: set[tuple[str, str]] = set()
    for step in plan.walk():
        for spec, _ in step.dependencies:
            if not isinstance(spec.call, SecurityBase):
                continue
            scheme = spec.call.openapi_scheme
            if scheme.get("type") == "apiKey":
                source, name = str(scheme.get("in")), str(scheme.get("name"))
                keys.add((source, name.lower() if source == "header" else name))
            else:  # HTTP schemes, OAuth2, OpenID Connect: credentials come in Authorization
                keys.add(("header", "authorization"))
    return keys
