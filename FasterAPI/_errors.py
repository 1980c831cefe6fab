"""Turn msgspec's validation messages into FastAPI-shaped error entries.

An entry is ``{"type", "loc", "msg", "input"}``; ``loc`` starts with the source
(``"query"``, ``"body"``, ...) followed by the field path.
"""

from __future__ import annotations

import re
from typing import Any

from FasterAPI._patterns import as_written

_AT = re.compile(r" - at `\$(.*)`$")
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_MISSING = re.compile(r"^Object missing required field `([^`]*)`")
_UNKNOWN = re.compile(r"^Object contains unknown field `([^`]*)`")
_EXPECTED = re.compile(r"^Expected `([^`]+)`(.*)$")

_PARSING_TYPES = {
    "int": "int_parsing",
    "float": "float_parsing",
    "bool": "bool_parsing",
    "str": "string_type",
    "object": "model_attributes_type",
    "array": "list_type",
    "null": "none_required",
}
_CONSTRAINTS = (  # order matters: "of length >=" must win over ">="
    ("of length >=", "string_too_short"),
    ("of length <=", "string_too_long"),
    ("matching regex", "string_pattern_mismatch"),
    ("that's a multiple of", "multiple_of"),
    (">=", "greater_than_equal"),
    ("<=", "less_than_equal"),
    (">", "greater_than"),
    ("<", "less_than"),
)

MISSING_MSG = "Field required"
EXTRA_MSG = "Extra inputs are not permitted"


def missing(loc: list[Any], value: Any = None) -> dict[str, Any]:
    return {"type": "missing", "loc": loc, "msg": MISSING_MSG, "input": value}


def _error_type(message: str) -> str:
    expected = _EXPECTED.match(message)
    if expected is None:
        lowered = message.lower()
        if "enum" in lowered:
            return "enum"
        if "uuid" in lowered:
            return "uuid_parsing"
        if "datetime" in lowered or "date" in lowered or "time" in lowered:
            return "datetime_parsing"
        return "value_error"
    # An Optional value that is not None fails as its type does: `int | null` is an int.
    kind, rest = expected.group(1).removesuffix(" | null"), expected.group(2)
    if rest.startswith(", got"):
        return _PARSING_TYPES.get(kind, "type_error")
    for marker, name in _CONSTRAINTS:
        if marker in rest:
            if name.startswith("string_") and kind in ("array", "object"):
                return "too_short" if "short" in name else "too_long"
            return name
    return "value_error"


def split_message(message: str) -> tuple[str, list[str | int]]:
    """``'Expected int - at `$.a[0]`'`` -> (``'Expected int'``, ``['a', 0]``)."""
    at = _AT.search(message)
    if at is None:
        return message, []
    path: list[str | int] = []
    for key, index in _STEP.findall(at.group(1)):
        if index == "...":  # a value under a dict key msgspec does not name
            path.append("[key]")
        else:
            path.append(int(index) if index else key)
    return message[: at.start()], path


def _lookup(document: Any, path: list[str | int]) -> Any:
    for step in path:
        try:
            document = document[step]
        except (KeyError, IndexError, TypeError):
            return None
    return document


def from_message(message: str, prefix: list[Any], document: Any) -> dict[str, Any]:
    """One error entry for msgspec's ``message`` about ``document`` located under ``prefix``."""
    text, path = split_message(message)
    absent = _MISSING.match(text)
    if absent is not None:
        return missing([*prefix, *path, absent.group(1)], _lookup(document, path))
    extra = _UNKNOWN.match(text)
    if extra is not None:  # a Struct with forbid_unknown_fields: located at the field
        where = [*path, extra.group(1)]
        return {
            "type": "extra_forbidden",
            "loc": [*prefix, *where],
            "msg": EXTRA_MSG,
            "input": _lookup(document, where),
        }
    return {
        "type": _error_type(text),
        "loc": [*prefix, *path],
        "msg": as_written(text),
        "input": _lookup(document, path),
    }
