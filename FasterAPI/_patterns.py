"""Regular-expression constraints that end where the text ends.

msgspec checks ``pattern`` with ``re.search``, where ``$`` also matches before a final
newline: ``^[a-z]+$`` accepts ``"abc\\n"``. The JSON Schema and FastAPI readings of ``$``
(end of the text) are what users write patterns for, so a parameter's pattern is checked
with each bare ``$`` turned into ``\\Z``; documents and error messages show it as written.
"""

from __future__ import annotations

import re
from typing import Any

_AS_WRITTEN: dict[str, str] = {}
# A flag group turning on MULTILINE, where ``$`` means the end of any line on purpose.
_MULTILINE_FLAG = re.compile(r"\(\?[aiLsux]*m")


def end_anchored(pattern: str) -> str:
    """``pattern`` with every ``$`` outside character classes and escapes made ``\\Z``."""
    if "$" not in pattern or _MULTILINE_FLAG.search(pattern):
        return pattern
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            # A "]" first in the class (after an optional "^") is a literal.
            ahead = index + 1
            if pattern[ahead : ahead + 1] == "^":
                ahead += 1
            if pattern[ahead : ahead + 1] == "]":
                out.append(pattern[index : ahead + 1])
                index = ahead + 1
                continue
        elif char == "$":
            char = r"\Z"
        out.append(char)
        index += 1
    checked = "".join(out)
    if checked != pattern:
        _AS_WRITTEN[checked] = pattern
    return checked


def as_written(message: str) -> str:
    """An error message naming a checked pattern, naming it as the user wrote it."""
    if "matching regex" in message:
        for checked, written in _AS_WRITTEN.items():
            message = message.replace(repr(checked), repr(written))
    return message


def restore_patterns(schema: Any) -> None:
    """Show every checked pattern in a JSON Schema (in place) as the user wrote it."""
    if not _AS_WRITTEN:
        return
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                schema[key] = _AS_WRITTEN.get(value, value)
            else:
                restore_patterns(value)
    elif isinstance(schema, list):
        for item in schema:
            restore_patterns(item)
