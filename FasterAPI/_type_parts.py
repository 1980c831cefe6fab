"""Composite type annotations split into their parts: unions, arrays and mappings.

Used where msgspec rejects a type as a whole (a union of several untagged Structs, or of a
Struct and ``dict``) but accepts each part: response validation and OpenAPI schemas.
"""

from __future__ import annotations

import collections.abc
import enum
import types
import typing
from typing import Any

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
