"""Response-model options that need more than the encoded output: unset and default fields,
Python names instead of aliases.

``exclude_unset`` keeps the keys a returned dict (at any depth) actually had; a returned
Struct, dataclass or object counts as fully set (msgspec does not record which fields
a constructor was given), except fields holding ``msgspec.UNSET``, which are never sent.
``exclude_defaults`` drops Struct fields whose value equals their default. With
``by_alias=False`` Struct fields are written under their Python names, not their
renamed ones.
"""

from __future__ import annotations

from typing import Any

import msgspec

from FasterAPI.encoders import fallback


def without_defaults_or_aliases(
    value: Any, drop_defaults: bool, python_names: bool, native_types: tuple[type, ...]
) -> Any:
    """``value`` as builtins, Structs written field by field with those two options."""
    if isinstance(value, msgspec.Struct):
        result: dict[str, Any] = {}
        for field in msgspec.structs.fields(value):
            item = getattr(value, field.name)
            if item is msgspec.UNSET:
                continue
            if drop_defaults and _is_default(field, item):
                continue
            key = field.name if python_names else field.encode_name
            result[key] = without_defaults_or_aliases(
                item, drop_defaults, python_names, native_types
            )
        return result
    if isinstance(value, (list, tuple, set, frozenset)):
        return [
            without_defaults_or_aliases(item, drop_defaults, python_names, native_types)
            for item in value
        ]
    if isinstance(value, dict):
        return {
            key: without_defaults_or_aliases(item, drop_defaults, python_names, native_types)
            for key, item in value.items()
        }
    return msgspec.to_builtins(value, builtin_types=native_types, enc_hook=fallback)


def _is_default(field: msgspec.structs.FieldInfo, value: Any) -> bool:
    if field.default is not msgspec.NODEFAULT:
        return bool(value == field.default)
    if field.default_factory is not msgspec.NODEFAULT:
        return bool(value == field.default_factory())
    return False


def only_set(data: Any, given: Any) -> Any:
    """``data`` (builtins) keeping, in every dict, only the keys the returned ``given``
    had where it was a dict."""
    if isinstance(data, dict) and isinstance(given, dict):
        return {key: only_set(item, given[key]) for key, item in data.items() if key in given}
    if isinstance(data, list) and isinstance(given, (list, tuple)) and len(data) == len(given):
        return [only_set(item, source) for item, source in zip(data, given, strict=True)]
    return data
