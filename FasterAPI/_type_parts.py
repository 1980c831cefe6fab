"""Composite type annotations split into their parts: unions, arrays and mappings.

Used where msgspec rejects a type as a whole (a union of several untagged Structs, or of a
Struct and ``dict``) but accepts each part: validation member by member, OpenAPI schemas.
"""

from __future__ import annotations

import collections.abc
import enum
import types
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from FasterAPI._compile import RouteDefinitionError, is_class
from FasterAPI._dataclass_defaults import completer

_ARRAYS = (list, set, frozenset, collections.abc.Sequence, collections.abc.Set)
_MAPPINGS = (dict, collections.abc.Mapping)


class Composite(enum.Enum):
    UNION = "union"
    ARRAY = "array"  # parts: (item,)
    MAPPING = "mapping"  # parts: (key, value)


def type_parts(annotation: Any) -> tuple[Composite, tuple[Any, ...]] | None:
    """The kind of composite ``annotation`` is, and its parts; None for any other type."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return Composite.UNION, args
    if (origin in _ARRAYS and len(args) == 1) or (origin is tuple and args[1:] == (...,)):
        return Composite.ARRAY, args[:1]
    if origin in _MAPPINGS and len(args) == 2:
        return Composite.MAPPING, args
    return None


def array_type(annotation: Any) -> type:
    """The container an array annotation's values are built in (``list`` for sequences)."""
    origin = typing.get_origin(annotation)
    return origin if origin in (set, frozenset, tuple) else list


def member_validator(model: Any) -> Callable[[Any], Any] | None:
    """None when msgspec converts to ``model`` itself; else a converter that splits it.

    A union's members are tried in order and the first that accepts the value wins (a
    value whose type is a member as is stays as it is); arrays and mappings of such
    unions are checked item by item. A type neither msgspec nor this can check raises
    RouteDefinitionError.
    """
    try:
        msgspec.json.Decoder(model)
    except TypeError as exc:
        problem = exc
    else:
        return None
    check = _split(model)
    if check is None:
        raise RouteDefinitionError(f"{model!r} cannot be validated: {problem}") from problem
    return check


def _whole(model: Any) -> Callable[[Any], Any]:
    split = member_validator(model)
    if split is not None:
        return split
    complete = completer(model)

    def convert(value: Any) -> Any:
        value = msgspec.convert(value, model, strict=False, from_attributes=True)
        if complete is not None:
            complete(value)
        return value

    return convert


def _split(model: Any) -> Callable[[Any], Any] | None:
    found = type_parts(model)
    if found is None:
        return None
    kind, parts = found
    if kind is Composite.UNION:
        return _union(parts)
    if kind is Composite.ARRAY:
        item, container = _whole(parts[0]), array_type(model)

        def array(value: Any) -> Any:
            if not isinstance(value, (list, tuple, set, frozenset)):
                raise msgspec.ValidationError(f"Expected `array`, got `{type(value).__name__}`")
            return container(item(element) for element in value)

        return array
    key, item = _whole(parts[0]), _whole(parts[1])

    def mapping(value: Any) -> Any:
        if not isinstance(value, dict):
            raise msgspec.ValidationError(f"Expected `object`, got `{type(value).__name__}`")
        return {key(k): item(v) for k, v in value.items()}

    return mapping


def _union(members: tuple[Any, ...]) -> Callable[[Any], Any]:
    exact = tuple(m for m in members if is_class(m))
    checks = [_whole(m) for m in members]

    def union(value: Any) -> Any:
        if type(value) in exact:
            return value
        failures = []
        for check in checks:
            try:
                return check(value)
            except msgspec.ValidationError as exc:
                failures.append(str(exc))
        raise msgspec.ValidationError("Matches no member of the union: " + "; ".join(failures))

    return union
