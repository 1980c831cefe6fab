"""Turning a handler's return value into a Response: validate, filter, encode once."""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import types
import typing
from collections.abc import Callable, Collection
from typing import Any

import msgspec

from FasterAPI._compile import is_class
from FasterAPI._dataclass_defaults import completer
from FasterAPI._errors import from_message
from FasterAPI._model_output import only_set, without_defaults_or_aliases
from FasterAPI._type_parts import member_validator
from FasterAPI.encoders import fallback
from FasterAPI.exceptions import ResponseValidationError
from FasterAPI.response import JSONResponse, MsgPackResponse, Response, status_allows_body

encode_json = msgspec.json.Encoder(enc_hook=fallback).encode
JSON_CONTENT_TYPE = (b"content-type", b"application/json")


class _Default:
    """Marks an option left at its default (so ``None`` can mean "switch off")."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Default"


DEFAULT: Any = _Default()


class EncodedJSON(Response):
    """A JSON response whose body is already encoded (the route's fast path)."""

    __slots__ = ()

    def __init__(self, body: bytes, status_code: int) -> None:
        # PERF: skips header building in Response.__init__; two tuples are all it needs.
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = [JSON_CONTENT_TYPE, (b"content-length", str(len(body)).encode())]


def _is_passthrough(annotation: Any) -> bool:
    if annotation in (None, Any, inspect.Parameter.empty, dict, list, object):
        return True
    origin = typing.get_origin(annotation)
    if origin is dict and typing.get_args(annotation)[1:] in ((Any,), ()):
        return True
    if is_class(annotation) and issubclass(annotation, Response):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(
            is_class(arg) and issubclass(arg, Response) for arg in typing.get_args(annotation)
        )
    return False


def resolve_response_model(response_model: Any, endpoint: Callable[..., Any]) -> Any:
    """The explicit ``response_model``, else the return annotation; None means "no checking"."""
    if response_model is DEFAULT:
        try:
            response_model = inspect.signature(endpoint, eval_str=True).return_annotation
        except (NameError, ValueError, TypeError):
            return None
    return None if _is_passthrough(response_model) else response_model


_MSGPACK_NATIVE = (bytes, bytearray, memoryview, datetime.datetime)


@dataclasses.dataclass(frozen=True)
class ModelOptions:
    """A route's ``response_model_*`` options."""

    include: Collection[str] | None = None
    exclude: Collection[str] | None = None
    exclude_none: bool = False
    exclude_unset: bool = False
    exclude_defaults: bool = False
    by_alias: bool = True

    def route_keywords(self) -> dict[str, Any]:
        """The options as the route's keyword arguments (``response_model_include=...``)."""
        return {
            f"response_model_{field.name}": getattr(self, field.name)
            for field in dataclasses.fields(self)
        }


class OutputPlan:
    """Per-route output settings, fixed at start-up."""

    def __init__(
        self,
        response_model: Any,
        response_class: type[Response],
        status_code: int,
        options: ModelOptions,
    ) -> None:
        self.model = response_model
        self.response_class = response_class
        self.status_code = status_code
        self.include = set(options.include) if options.include is not None else None
        self.exclude = set(options.exclude) if options.exclude is not None else None
        self.exclude_none = options.exclude_none
        self.exclude_unset = options.exclude_unset
        self.exclude_defaults = options.exclude_defaults
        self.by_alias = options.by_alias
        # Options that need the Structs walked field by field.
        self.walk_structs = options.exclude_defaults or not options.by_alias
        self.filters = (
            self.include is not None
            or self.exclude is not None
            or self.exclude_none
            or self.exclude_unset
            or self.walk_structs
        )
        self.fast_json = response_class is JSONResponse
        # Filtering works on builtins; values MessagePack carries natively keep their type.
        self.native_types = _MSGPACK_NATIVE if issubclass(response_class, MsgPackResponse) else ()
        self.model_is_type = is_class(response_model)
        # Types msgspec cannot convert to in one go (a union of several untagged Structs,
        # or of a Struct and dict) are checked member by member.
        self.by_member = None if response_model is None else member_validator(response_model)
        self.complete = None if response_model is None else completer(response_model)

    def validate(self, value: Any) -> Any:
        model = self.model
        if model is None:
            return value
        if self.model_is_type and type(value) is model:
            if self.complete is not None:
                self.complete(value)
            return value
        try:
            if self.by_member is not None:
                value = self.by_member(value)
            else:
                value = msgspec.convert(value, model, strict=False, from_attributes=True)
        except msgspec.ValidationError as exc:
            raise ResponseValidationError([from_message(str(exc), ["response"], value)]) from exc
        if self.complete is not None:
            self.complete(value)
        return value

    def filter(self, value: Any, returned: Any) -> Any:
        """The validated ``value`` as builtins with the route's options applied
        (``returned``: what the handler returned, for ``exclude_unset``)."""
        if self.walk_structs:
            data = without_defaults_or_aliases(
                value, self.exclude_defaults, not self.by_alias, self.native_types
            )
        else:
            data = msgspec.to_builtins(value, builtin_types=self.native_types, enc_hook=fallback)
        if self.exclude_unset:
            data = only_set(data, returned)
        return self._filter(data)

    def _filter(self, data: Any) -> Any:
        if isinstance(data, list):
            return [self._filter(item) for item in data]
        if not isinstance(data, dict):
            return data
        include, exclude = self.include, self.exclude
        result = {}
        for key, item in data.items():
            if include is not None and key not in include:
                continue
            if exclude is not None and key in exclude:
                continue
            if self.exclude_none and item is None:
                continue
            result[key] = _drop_none(item) if self.exclude_none else item
        return result

    def render(self, value: Any, status_code: int) -> Response:
        validated = self.validate(value)
        value = self.filter(validated, value) if self.filters else validated
        if not status_allows_body(status_code):
            return self.response_class(None, status_code=status_code)
        if self.fast_json:
            return EncodedJSON(encode_json(value), status_code)
        return self.response_class(value, status_code=status_code)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
