"""``jsonable_encoder``: a value as plain JSON data (dicts, lists, strings, numbers, None).

For code that builds JSON by hand, ``JSONResponse(content=jsonable_encoder(item))`` or an
item stored as a dict. msgspec converts (``msgspec.to_builtins``), with the rules the
framework uses for responses: Structs, dataclasses, ``TypedDict``s and ``NamedTuple``s
become dicts (a Struct's fields under their ``rename``d names), tuples and sets lists,
datetimes, dates and times ISO 8601 strings, UUIDs and Decimals strings, enums their
values, bytes base64 text.

Other objects go, in this order, to ``custom_encoder`` (looked up by type, base classes
included; it is also consulted before msgspec's own rules, so it can change how a
``datetime`` is written), then ``fallback``: paths and IP addresses, networks and
interfaces become their text, a compiled regex its pattern, another mapping a dict,
another collection (a deque, a dict's keys) or a generator a list, an object with
attributes its public ``vars()``; anything else raises ``TypeError``. Responses encode
return values with ``fallback`` too.

``include`` and ``exclude`` pick keys of the top level (a Struct's fields by their Python
names); ``exclude_none`` drops ``None`` values from every dict at every depth;
``by_alias=False`` writes Structs' fields under their Python names instead of their
``rename``d ones.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import types
from collections.abc import Callable, Collection, Mapping
from pathlib import PurePath
from typing import Any

import msgspec

__all__ = ["jsonable_encoder"]

Encoder = Callable[[Any], Any]
_NATIVE = (str, int, float, bool, type(None), dict, list)
_AS_TEXT = (
    PurePath,
    ipaddress.IPv4Address,
    ipaddress.IPv4Interface,
    ipaddress.IPv4Network,
    ipaddress.IPv6Address,
    ipaddress.IPv6Interface,
    ipaddress.IPv6Network,
)


def fallback(value: Any) -> Any:
    """``value``, a type msgspec does not encode, as one it does (its ``enc_hook``)."""
    if isinstance(value, _AS_TEXT):  # first: a network iterates its addresses
        return str(value)
    if isinstance(value, re.Pattern):
        return value.pattern
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (Collection, types.GeneratorType)):  # finite, unlike count()
        return list(value)
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        return {k: v for k, v in attributes.items() if not k.startswith("_")}
    raise TypeError(f"Objects of type {type(value).__name__} are not JSON serializable")


def jsonable_encoder(
    obj: Any,
    *,
    include: Collection[str] | None = None,
    exclude: Collection[str] | None = None,
    by_alias: bool = True,
    exclude_none: bool = False,
    custom_encoder: Mapping[type, Encoder] | None = None,
) -> Any:
    """``obj`` as JSON-ready builtins; see the module docstring for the rules."""
    custom = dict(custom_encoder or {})
    passthrough = tuple(cls for cls in custom if not issubclass(cls, _NATIVE))
    source = obj if by_alias else _by_attribute_name(obj)
    result = msgspec.to_builtins(source, builtin_types=passthrough, enc_hook=_hook(custom))
    if (include is not None or exclude is not None) and isinstance(result, dict):
        result = _pick(result, _key_names(obj, by_alias), include, exclude)
    return _finish(result, custom, passthrough, exclude_none)


def _encoder_for(value: Any, custom: Mapping[type, Encoder]) -> Encoder | None:
    for cls in type(value).__mro__:
        encoder = custom.get(cls)
        if encoder is not None:
            return encoder
    return None


def _hook(custom: Mapping[type, Encoder]) -> Encoder:
    def hook(value: Any) -> Any:
        encoder = _encoder_for(value, custom)
        if encoder is not None:
            return encoder(value)
        return fallback(value)

    return hook


def _finish(
    value: Any, custom: Mapping[type, Encoder], types: tuple[type, ...], exclude_none: bool
) -> Any:
    """Tuples as lists, ``None`` values dropped if asked, and the custom encoders run on
    the values msgspec passed through untouched."""
    if isinstance(value, dict):
        return {
            k: _finish(v, custom, types, exclude_none)
            for k, v in value.items()
            if not (exclude_none and v is None)
        }
    if isinstance(value, (list, tuple)):
        return [_finish(v, custom, types, exclude_none) for v in value]
    if types and isinstance(value, types):
        encoder = _encoder_for(value, custom)
        if encoder is not None:
            encoded = msgspec.to_builtins(encoder(value), enc_hook=_hook(custom))
            return _finish(encoded, {}, (), exclude_none)
    return value


def _by_attribute_name(value: Any) -> Any:
    """Structs as dicts keyed by their Python field names, at every depth."""
    if isinstance(value, msgspec.Struct):
        return {
            field.name: _by_attribute_name(getattr(value, field.name))
            for field in msgspec.structs.fields(value)
            if getattr(value, field.name) is not msgspec.UNSET
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _by_attribute_name(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {k: _by_attribute_name(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_by_attribute_name(v) for v in value]
    return value


def _key_names(obj: Any, by_alias: bool) -> dict[str, str]:
    """A Struct's Python field names -> the keys they were written under."""
    if by_alias and isinstance(obj, msgspec.Struct):
        return {field.name: field.encode_name for field in msgspec.structs.fields(obj)}
    return {}


def _pick(
    result: dict[Any, Any],
    names: Mapping[str, str],
    include: Collection[str] | None,
    exclude: Collection[str] | None,
) -> dict[Any, Any]:
    kept = None if include is None else {names.get(key, key) for key in include}
    dropped = set() if exclude is None else {names.get(key, key) for key in exclude}
    return {
        key: value
        for key, value in result.items()
        if (kept is None or key in kept) and key not in dropped
    }
