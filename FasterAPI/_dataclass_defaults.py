"""Plain defaults put back on the dataclass instances msgspec builds.

When msgspec decodes or converts into a dataclass (without ``__slots__``), a field left
out of the input keeps its plain default only as the class attribute: the instance's
``__dict__`` lacks it, and msgspec's encoder, which reads ``__dict__``, then leaves the
field out. A dataclass body echoed back, or a dict checked against a dataclass response
model, would lose those fields. ``completer(type)`` walks the type once, at start-up, and
returns a function that sets the missing defaults on such instances inside a value of
that type; None when the type holds no such dataclass (nothing runs per request).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import msgspec.inspect as mi

Complete = Callable[[Any], None]
_ARRAY_TYPES = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)


def completer(annotation: Any) -> Complete | None:
    try:
        info = mi.type_info(annotation)
    except (TypeError, ValueError):
        return None
    return _Builder().build(info)


class _Builder:
    def __init__(self) -> None:
        self.built: dict[int, Complete | None] = {}
        # A recursive type met again while it is being built answers with a late-bound call.
        self.building: dict[int, list[Complete | None]] = {}

    def build(self, info: mi.Type) -> Complete | None:
        while isinstance(info, mi.Metadata):
            info = info.type
        key = id(info)
        if key in self.built:
            return self.built[key]
        pending = self.building.get(key)
        if pending is not None:
            return lambda value: pending[0](value) if pending[0] is not None else None
        cell: list[Complete | None] = [None]
        self.building[key] = cell
        cell[0] = result = self._build(info)
        del self.building[key]
        self.built[key] = result
        return result

    def _build(self, info: mi.Type) -> Complete | None:
        if isinstance(info, (mi.DataclassType, mi.StructType)):
            return self._object(info)
        if isinstance(info, _ARRAY_TYPES):
            item = self.build(info.item_type)
            return None if item is None else _each(item)
        if isinstance(info, mi.TupleType):
            items = [self.build(part) for part in info.item_types]
            return _by_position(items) if any(items) else None
        if isinstance(info, mi.DictType):
            value = self.build(info.value_type)
            return None if value is None else _each_value(value)
        if isinstance(info, mi.UnionType):
            return _each_of_union([m for m in map(self.build, info.types) if m is not None])
        return None

    def _object(self, info: mi.DataclassType | mi.StructType) -> Complete | None:
        cls = info.cls
        defaults: list[tuple[str, Any]] = []
        if isinstance(info, mi.DataclassType) and not hasattr(cls, "__slots__"):
            defaults = [
                (f.name, f.default) for f in info.fields if f.default is not msgspec.NODEFAULT
            ]
        nested = [(f.name, found) for f in info.fields if (found := self.build(f.type)) is not None]
        if not defaults and not nested:
            return None

        def complete(value: Any) -> None:
            if type(value) is not cls:
                return
            if defaults:
                attributes = value.__dict__
                for name, default in defaults:
                    if name not in attributes:
                        attributes[name] = default
            for name, inner in nested:
                inner(getattr(value, name))

        return complete


def _each(item: Complete) -> Complete:
    def complete(value: Any) -> None:
        if isinstance(value, (list, tuple, set, frozenset)):
            for element in value:
                item(element)

    return complete


def _each_value(item: Complete) -> Complete:
    def complete(value: Any) -> None:
        if isinstance(value, dict):
            for element in value.values():
                item(element)

    return complete


def _by_position(items: list[Complete | None]) -> Complete:
    def complete(value: Any) -> None:
        if isinstance(value, tuple):
            for inner, element in zip(items, value, strict=False):
                if inner is not None:
                    inner(element)

    return complete


def _each_of_union(members: list[Complete]) -> Complete | None:
    """Every member's completer in turn (each checks the value's type)."""
    if not members:
        return None
    if len(members) == 1:
        return members[0]

    def complete(value: Any) -> None:
        for member in members:
            member(value)

    return complete
