"""Signature analysis, done once per route at start-up: which argument comes from where.

A handler (or dependency) becomes a ``Plan``: msgspec models for its path, query,
header and cookie parameters, the body fields it reads, its sub-dependencies and the
special objects (Request, BackgroundTasks, ...) it asks for. ``_solve`` runs plans.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Optional, Union

import msgspec
import msgspec.inspect

from FasterAPI import params
from FasterAPI._errors import from_message, missing
from FasterAPI._extract import parse_query, pick_headers, read_cookies
from FasterAPI._patterns import end_anchored_meta
from FasterAPI._rsgi_scope import RSGIScope
from FasterAPI._types import Scope
from FasterAPI.background import BackgroundTasks
from FasterAPI.request import HTTPConnection, Request
from FasterAPI.response import Response
from FasterAPI.security.scopes import SecurityScopes
from FasterAPI.websocket import WebSocket

_NONE_TYPE = type(None)
_SEQUENCE_ORIGINS = (list, set, frozenset, tuple, Sequence)
_TRUE_WORDS = frozenset({"on", "yes", "y", "t"})
_FALSE_WORDS = frozenset({"off", "no", "n", "f"})

SPECIAL_KINDS: tuple[tuple[type, str], ...] = (
    (Request, "request"),
    (WebSocket, "websocket"),
    (HTTPConnection, "connection"),
    (BackgroundTasks, "background"),
    (Response, "response"),
    (SecurityScopes, "security_scopes"),
)


_ABSENT: Any = object()


class RouteDefinitionError(TypeError):
    """A handler's signature cannot be served (raised at start-up, not per request)."""


def is_class(annotation: Any) -> bool:
    """A plain class (on Python 3.10 ``list[int]`` also passes ``isinstance(x, type)``)."""
    return isinstance(annotation, type) and typing.get_origin(annotation) is None


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not _NONE_TYPE]
        if len(args) == 1:
            return args[0]
    return annotation


def unwrap_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    if typing.get_origin(annotation) is Annotated:
        base, *extras = typing.get_args(annotation)
        return base, list(extras)
    return annotation, []


def is_model_type(annotation: Any) -> bool:
    """Struct, dataclass or TypedDict: things that only make sense as a JSON body."""
    annotation = _strip_optional(unwrap_annotated(annotation)[0])
    if is_class(annotation):
        return (
            issubclass(annotation, msgspec.Struct)
            or dataclasses.is_dataclass(annotation)
            or typing.is_typeddict(annotation)
        )
    return False


def is_body_type(annotation: Any) -> bool:
    annotation = _strip_optional(unwrap_annotated(annotation)[0])
    if is_model_type(annotation) or annotation is dict:
        return True
    origin = typing.get_origin(annotation)
    if origin is dict:
        return True
    if origin in _SEQUENCE_ORIGINS or origin in (Union, types.UnionType):
        return any(is_body_type(arg) for arg in typing.get_args(annotation))
    return False


def is_sequence_type(annotation: Any) -> bool:
    annotation = _strip_optional(unwrap_annotated(annotation)[0])
    return annotation in (list, set, tuple) or typing.get_origin(annotation) in _SEQUENCE_ORIGINS


def is_bool_type(annotation: Any) -> bool:
    annotation = _strip_optional(unwrap_annotated(annotation)[0])
    if annotation is bool:
        return True
    origin = typing.get_origin(annotation)
    return (
        origin in _SEQUENCE_ORIGINS
        and bool(typing.get_args(annotation))
        and (_strip_optional(typing.get_args(annotation)[0]) is bool)
    )


def normalise_bool(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in _TRUE_WORDS:
            return "true"
        if lowered in _FALSE_WORDS:
            return "false"
    if isinstance(value, list):
        return [normalise_bool(item) for item in value]
    return value


@dataclasses.dataclass
class Field:
    """One parameter read from a request source."""

    name: str
    alias: str
    annotation: Any
    marker: params.Param

    @property
    def required(self) -> bool:
        return self.marker.required

    @property
    def is_sequence(self) -> bool:
        return is_sequence_type(self.annotation)

    def typed(self) -> Any:
        """The annotation with the marker's constraints (inside an Optional, not around it)."""
        meta = self.marker.meta()
        if meta is None:
            return self.annotation
        inner = _strip_optional(self.annotation)
        if inner is not self.annotation:
            return Optional[Annotated[inner, meta]]
        return Annotated[self.annotation, meta]

    def msgspec_field(self) -> Any:
        marker = self.marker
        if marker.default_factory is not None:
            return msgspec.field(name=self.alias, default_factory=marker.default_factory)
        if marker.default is not params.Required:
            default = marker.default
            if isinstance(default, (list, dict, set)):
                return msgspec.field(name=self.alias, default_factory=default.copy)
            return msgspec.field(name=self.alias, default=default)
        return msgspec.field(name=self.alias)


class SourceReader:
    """What one plan reads from one request source, and how it becomes keyword arguments.

    ``extract`` pulls the raw values out of the request, ``convert`` turns them into
    ``{argument: value}`` (or errors), ``load`` does both and returns the value of a
    ``single`` argument or an object with one attribute per field (generated handlers call
    it; ``header_single`` names the one header ``SourceModel.load_header`` reads instead).
    ``fields`` are the parameters as the request and the OpenAPI document name them.
    """

    source: str
    fields: list[Field]
    single: tuple[str, str, Any, Any] | None = None
    header_single: bytes | None = None

    def extract(self, scope: Scope, path_params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def convert(self, raw: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        raise NotImplementedError

    def load(
        self, scope: Scope, path_params: dict[str, Any]
    ) -> tuple[Any, list[dict[str, Any]] | None]:
        raise NotImplementedError


class SourceModel(SourceReader):
    """The path, query, header or cookie parameters of one plan, converted in one msgspec call."""

    def __init__(self, source: str, fields: list[Field], owner: str) -> None:
        self.source = source
        self.fields = fields
        self.aliases = tuple(field.alias for field in fields)
        self.sequence_aliases = frozenset(f.alias for f in fields if f.is_sequence)
        self.bool_aliases = tuple(f.alias for f in fields if is_bool_type(f.annotation))
        self.header_names = {alias.encode("latin-1"): alias for alias in self.aliases}
        definitions = [(f.name, f.typed(), f.msgspec_field()) for f in fields]
        try:
            self.model = msgspec.defstruct(f"{owner}_{source}", definitions, kw_only=True)
        except (TypeError, ValueError) as exc:
            raise RouteDefinitionError(f"{owner}: bad {source} parameter: {exc}") from exc
        self.single: tuple[str, str, Any, Any] | None = None
        if len(fields) == 1 and fields[0].marker.default_factory is None:
            only = fields[0]
            self.single = (only.name, only.alias, only.typed(), only.marker.default)
        # One plain header: looked up in the raw list directly (see load_header).
        self.header_single: bytes | None = None
        self.header_single_text = ""
        plain = not self.sequence_aliases and not self.bool_aliases
        if source == "header" and self.single and plain:
            self.header_single = next(iter(self.header_names))
            self.header_single_text = self.header_single.decode("latin-1")

    def extract(self, scope: Scope, path_params: dict[str, Any]) -> dict[str, Any]:
        """The raw inputs of this model from the request (unknown keys are ignored later)."""
        source = self.source
        raw: dict[str, Any]
        if source == "path":
            raw = path_params
        elif source == "query":
            raw = parse_query(scope["query_string"], self.sequence_aliases)
        elif source == "header":
            raw = pick_headers(scope["headers"], self.header_names, self.sequence_aliases)
        else:
            raw = read_cookies(scope["headers"])
        if self.bool_aliases:
            raw = self.normalise_bools(raw)
        return raw

    def normalise_bools(self, raw: dict[str, Any]) -> dict[str, Any]:
        raw = dict(raw)
        for alias in self.bool_aliases:
            if alias in raw:
                raw[alias] = normalise_bool(raw[alias])
        return raw

    def convert(self, raw: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """``({name: value}, [])``, or ``({}, errors)``."""
        value, errors = self.convert_raw(raw)
        if errors:
            return {}, errors
        single = self.single
        if single is not None:
            return {single[0]: value}, []
        return msgspec.structs.asdict(value), []

    def load(
        self, scope: Scope, path_params: dict[str, Any]
    ) -> tuple[Any, list[dict[str, Any]] | None]:
        """From the request: the value (one field) or a Struct instance, or the errors."""
        return self.convert_raw(self.extract(scope, path_params))

    def load_header(
        self, scope: Scope, path_params: dict[str, Any]
    ) -> tuple[Any, list[dict[str, Any]] | None]:
        """``load`` for one plain header parameter: no dict of headers is built."""
        name = self.header_single
        if type(scope) is RSGIScope:
            try:
                found = scope.header(self.header_single_text)
            except LookupError:
                pass
            else:
                return self.convert_value(_ABSENT if found is None else found)
        for key, value in scope["headers"]:
            if key == name:
                return self.convert_value(value.decode("latin-1"))
        return self.convert_value(_ABSENT)

    def convert_raw(self, raw: dict[str, Any]) -> tuple[Any, list[dict[str, Any]] | None]:
        single = self.single
        if single is None:
            try:
                return msgspec.convert(raw, self.model, strict=False), None
            except msgspec.ValidationError:
                return None, self.explain(raw)
        return self.convert_value(raw.get(single[1], _ABSENT))

    def convert_value(self, value: Any) -> tuple[Any, list[dict[str, Any]] | None]:
        """One parameter's raw value (or ``_ABSENT``) converted; it needs no Struct."""
        _, alias, typed, default = self.single  # type: ignore[misc]
        if value is _ABSENT:
            if default is params.Required:
                return None, self.explain({})
            if isinstance(default, (list, dict, set)):
                default = default.copy()
            return default, None
        if typed is str and type(value) is str:
            return value, None
        try:
            return msgspec.convert(value, typed, strict=False), None
        except msgspec.ValidationError:
            return None, self.explain({alias: value})

    def explain(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        """Every error in ``raw``, field by field (the slow path, taken only on failure)."""
        errors = []
        for field in self.fields:
            if field.alias not in raw:
                if field.required:
                    errors.append(missing([self.source, field.alias]))
                continue
            value = raw[field.alias]
            try:
                msgspec.convert(value, field.typed(), strict=False)
            except msgspec.ValidationError as exc:
                entry = from_message(str(exc), [self.source, field.alias], value)
                errors.append(entry)
        return errors


class PathQueryModel(SourceModel):
    """A step's path and query parameters as one model: one msgspec call instead of two.

    Every path parameter is always present, so a query key cannot stand in for one;
    errors are still reported per source, with their own ``loc``.
    """

    def __init__(self, path: SourceModel, query: SourceModel, owner: str) -> None:
        super().__init__("query", [*path.fields, *query.fields], f"{owner}_path")
        self.parts = (path, query)

    def extract(self, scope: Scope, path_params: dict[str, Any]) -> dict[str, Any]:
        raw = parse_query(scope["query_string"], self.sequence_aliases)
        raw.update(path_params)
        if self.bool_aliases:
            raw = self.normalise_bools(raw)
        return raw

    def explain(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        path, query = self.parts
        return path.explain(raw) + query.explain(raw)


def combine_sources(sources: list[SourceReader], owner: str) -> list[SourceReader]:
    """``sources`` with the path and query models merged when their aliases are distinct."""
    by_source = {model.source: model for model in sources if isinstance(model, SourceModel)}
    path, query = by_source.get("path"), by_source.get("query")
    if path is None or query is None or set(path.aliases) & set(query.aliases):
        return sources
    combined = PathQueryModel(path, query, owner)
    return [combined, *(model for model in sources if model is not path and model is not query)]


@dataclasses.dataclass
class DependencySpec:
    name: str | None
    call: Callable[..., Any]
    use_cache: bool
    scopes: list[str]


@dataclasses.dataclass
class Plan:
    """What to extract and resolve before calling ``call``."""

    call: Callable[..., Any]
    name: str
    is_async: bool = False
    is_generator: bool = False
    is_async_generator: bool = False
    sources: list[SourceReader] = dataclasses.field(default_factory=list)
    body_fields: list[Field] = dataclasses.field(default_factory=list)
    dependencies: list[tuple[DependencySpec, Plan]] = dataclasses.field(default_factory=list)
    specials: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    # The route's path parameters and their types (a dependency override is read with them).
    path_types: dict[str, Any] = dataclasses.field(default_factory=dict)

    def walk(self) -> typing.Iterator[Plan]:
        yield self
        for _, plan in self.dependencies:
            yield from plan.walk()

    def all_fields(self, source: str) -> list[Field]:
        found: list[Field] = []
        for plan in self.walk():
            if source == "body":
                found.extend(plan.body_fields)
            for model in plan.sources:
                if model.source == source:
                    found.extend(model.fields)
        return found


def _callable_kind(call: Callable[..., Any]) -> tuple[bool, bool, bool]:
    target: Any = call
    while isinstance(target, functools.partial):
        target = target.func
    if not (inspect.isfunction(target) or inspect.ismethod(target) or inspect.isclass(target)):
        target = getattr(call, "__call__", call)  # noqa: B004
    if inspect.isclass(call):
        return False, False, False
    return (
        inspect.iscoroutinefunction(target),
        inspect.isgeneratorfunction(target),
        inspect.isasyncgenfunction(target),
    )


def _signature(call: Callable[..., Any]) -> inspect.Signature:
    try:
        return inspect.signature(call, eval_str=True)
    except NameError as exc:
        raise RouteDefinitionError(f"Cannot resolve annotations of {call!r}: {exc}") from exc


def _constrained(annotation: Any, extras: list[Any]) -> Any:
    """``annotation`` with the ``msgspec.Meta`` constraints found beside the marker (kept
    inside an Optional, where msgspec wants them)."""
    metas = tuple(end_anchored_meta(extra) for extra in extras if isinstance(extra, msgspec.Meta))
    if not metas:
        return annotation
    inner = _strip_optional(annotation)
    parts = (inner, *metas)
    constrained: Any = Annotated[parts]  # type: ignore[valid-type]
    return constrained if inner is annotation else Optional[constrained]


def _has_meta(annotation: Any) -> bool:
    if typing.get_origin(annotation) is Annotated:
        base, *extras = typing.get_args(annotation)
        return any(isinstance(extra, msgspec.Meta) for extra in extras) or _has_meta(base)
    return any(_has_meta(arg) for arg in typing.get_args(annotation))


def _check_constraints(field: Field, owner: str) -> None:
    """Constraints msgspec cannot apply to the type (``ge`` on a ``str``, say) fail when
    the route is defined, not as a 500 on every request."""
    from FasterAPI._form_body import is_upload_annotation

    typed = field.typed()
    if not _has_meta(typed) or is_upload_annotation(field.annotation):
        return
    try:
        msgspec.inspect.type_info(typed)
    except TypeError as exc:
        raise RouteDefinitionError(f"{owner}: parameter {field.name!r}: {exc}") from None


def _marker_of(parameter: inspect.Parameter) -> tuple[Any, Any]:
    """(annotation without the marker, the marker from Annotated or the default, or None).

    ``msgspec.Meta`` constraints in the Annotated stay on the annotation."""
    annotation, extras = unwrap_annotated(parameter.annotation)
    annotation = _constrained(annotation, extras)
    marker = next((e for e in extras if isinstance(e, (params.Param, params.Depends))), None)
    default = parameter.default
    if isinstance(default, (params.Param, params.Depends)):
        if marker is not None:
            raise RouteDefinitionError(
                f"Parameter {parameter.name!r} has a marker both in Annotated and as default"
            )
        return annotation, default
    if isinstance(marker, params.Param) and default is not inspect.Parameter.empty:
        marker = _copy_with_default(marker, default)
    return annotation, marker


def _copy_with_default(marker: params.Param, default: Any) -> params.Param:
    clone = object.__new__(type(marker))
    clone.__dict__.update(marker.__dict__)
    clone.default = default
    return clone


def _default_marker(
    parameter: inspect.Parameter, annotation: Any, path_names: frozenset[str]
) -> params.Param:
    default = parameter.default
    if default is inspect.Parameter.empty:
        default = params.Required
    if parameter.name in path_names:
        return params.Path(default)
    from FasterAPI._form_body import is_upload_annotation

    if is_upload_annotation(annotation):
        return params.File(default)
    if is_body_type(annotation):
        return params.Body(default)
    return params.Query(default)


def _alias(name: str, marker: params.Param) -> str:
    if marker.alias:
        return marker.alias.lower() if isinstance(marker, params.Header) else marker.alias
    if isinstance(marker, params.Header):
        return name.replace("_", "-").lower() if marker.convert_underscores else name.lower()
    return name


def build_plan(
    call: Callable[..., Any],
    *,
    path_types: dict[str, Any] | None = None,
    owner: str | None = None,
) -> Plan:
    """Analyse ``call`` and its dependencies recursively."""
    owner = owner or str(getattr(call, "__name__", type(call).__name__))
    path_types = path_types or {}
    path_names = frozenset(path_types)
    is_async, is_gen, is_async_gen = _callable_kind(call)
    plan = Plan(call, owner, is_async, is_gen, is_async_gen, path_types=path_types)
    by_source: dict[str, list[Field]] = {}
    # Parameter models build on this module's fields and readers, hence the late import.
    from FasterAPI._param_models import ParamModel, parameter_model, settle_extra_keys

    models: dict[str, list[ParamModel]] = {}
    for parameter in _signature(call).parameters.values():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        annotation, marker = _marker_of(parameter)
        if isinstance(marker, params.Depends):
            dependency = marker.dependency or annotation
            if not callable(dependency):
                raise RouteDefinitionError(
                    f"{owner}: Depends() on {parameter.name!r} needs a callable or a class"
                )
            scopes = marker.scopes if isinstance(marker, params.Security) else []
            spec = DependencySpec(parameter.name, dependency, marker.use_cache, scopes)
            plan.dependencies.append((spec, build_plan(dependency, path_types=path_types)))
            continue
        special = _special_kind(annotation) if marker is None else None
        if special is not None:
            plan.specials.append((parameter.name, special))
            continue
        if marker is None:
            marker = _default_marker(parameter, annotation, path_names)
        if annotation is inspect.Parameter.empty:
            annotation = path_types.get(parameter.name, Any) if marker.source == "path" else Any
        if not isinstance(marker, params.Body) and is_model_type(annotation):
            model = parameter_model(parameter.name, annotation, marker, owner)
            models.setdefault(marker.source, []).append(model)
            continue
        field = Field(parameter.name, _alias(parameter.name, marker), annotation, marker)
        _check_constraints(field, owner)
        if isinstance(marker, params.Body):
            plan.body_fields.append(field)
        else:
            by_source.setdefault(marker.source, []).append(field)
    if "path" in by_source:
        unknown = [f.alias for f in by_source["path"] if f.alias not in path_names]
        if unknown and path_names:
            raise RouteDefinitionError(f"{owner}: path parameters {unknown} are not in the path")
    for source in ("path", "query", "header", "cookie"):
        if source in by_source:
            plan.sources.append(SourceModel(source, by_source[source], owner))
        plan.sources.extend(models.get(source, ()))
    if models:
        settle_extra_keys(plan)
    return plan


def _special_kind(annotation: Any) -> str | None:
    annotation = _strip_optional(annotation)
    if not is_class(annotation):
        return None
    for cls, kind in SPECIAL_KINDS:
        if issubclass(annotation, cls):
            return kind
    return None


def dependency_plans(
    dependencies: Sequence[params.Depends], path_types: dict[str, Any]
) -> list[tuple[DependencySpec, Plan]]:
    """Plans for route/router/app-level ``dependencies=[...]`` (their values are discarded)."""
    plans = []
    for marker in dependencies:
        if marker.dependency is None:
            raise RouteDefinitionError("dependencies=[Depends()] needs an explicit callable")
        scopes = marker.scopes if isinstance(marker, params.Security) else []
        spec = DependencySpec(None, marker.dependency, marker.use_cache, scopes)
        plans.append((spec, build_plan(marker.dependency, path_types=path_types)))
    return plans
