"""Regular-expression constraints that end where the text ends.

msgspec checks ``pattern`` with ``re.search``, where ``$`` also matches before a final
newline: ``^[a-z]+$`` accepts ``"abc\\n"``. The JSON Schema and FastAPI readings of ``$``
(end of the text) are what users write patterns for, so a parameter's pattern is checked
with each ``$`` that ends the text (not one in a character class, escaped, in a comment or
under the MULTILINE flag) made ``\\Z``; documents and error messages show it as written.
"""

from __future__ import annotations

from typing import Any

import msgspec

# What replaces such a "$": the end of the text, plus a regex comment that makes the
# result unlike anything a user writes, so it maps back to one written pattern only.
_END = r"\Z(?#$)"
_AS_WRITTEN: dict[str, str] = {}


def end_anchored(pattern: str) -> str:
    """``pattern`` with every ``$`` that means "end of line" made "end of the text"."""
    if "$" not in pattern:
        return pattern
    out: list[str] = []
    multiline, verbose = False, False
    enclosing: list[bool] = []  # the MULTILINE state outside each open group
    index, size = 0, len(pattern)
    while index < size:
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if char == "[":
            end = _class_end(pattern, index)
            out.append(pattern[index:end])
            index = end
            continue
        if verbose and char == "#":
            end = pattern.find("\n", index)
            end = size if end < 0 else end
            out.append(pattern[index:end])
            index = end
            continue
        if char == "(":
            if pattern.startswith("(?#", index):
                end = pattern.find(")", index)
                end = size if end < 0 else end + 1
                out.append(pattern[index:end])
                index = end
                continue
            enclosing.append(multiline)
            flags, end = _inline_flags(pattern, index)
            if flags is not None:
                on, off, scoped = flags
                if "x" in on and not scoped:
                    verbose = True
                if "m" in on:
                    multiline = True
                if "m" in off:
                    multiline = False
                if not scoped:  # a global flag group closes at once
                    enclosing.pop()
                out.append(pattern[index:end])
                index = end
                continue
        elif char == ")":
            if enclosing:
                multiline = enclosing.pop()
        elif char == "$" and not multiline:
            out.append(_END)
            index += 1
            continue
        out.append(char)
        index += 1
    checked = "".join(out)
    if checked != pattern:
        _AS_WRITTEN[checked] = pattern
    return checked


def _class_end(pattern: str, start: int) -> int:
    """The index just past the character class opening at ``start``."""
    index = start + 1
    if pattern[index : index + 1] == "^":
        index += 1
    if pattern[index : index + 1] == "]":  # a "]" first in the class is a literal
        index += 1
    while index < len(pattern):
        if pattern[index] == "\\":
            index += 2
            continue
        if pattern[index] == "]":
            return index + 1
        index += 1
    return len(pattern)


def _inline_flags(pattern: str, start: int) -> tuple[tuple[str, str, bool] | None, int]:
    """For ``(?aimsux-imsx:`` or ``(?aiLmsux)`` at ``start``: (flags on, flags off,
    scoped), and the index past the group's header; else (None, start)."""
    if not pattern.startswith("(?", start):
        return None, start
    index = start + 2
    on = ""
    while index < len(pattern) and pattern[index] in "aiLmsux":
        on += pattern[index]
        index += 1
    off = ""
    if index < len(pattern) and pattern[index] == "-":
        index += 1
        while index < len(pattern) and pattern[index] in "imsx":
            off += pattern[index]
            index += 1
    if not (on or off) or index >= len(pattern) or pattern[index] not in ":)":
        return None, start
    return (on, off, pattern[index] == ":"), index + 1


def end_anchored_meta(meta: msgspec.Meta) -> msgspec.Meta:
    """``meta`` with its ``pattern`` end-anchored (the same object when nothing changes)."""
    pattern = meta.pattern
    if pattern is None or end_anchored(pattern) == pattern:
        return meta
    options = {
        name: getattr(meta, name) for name in _META_OPTIONS if getattr(meta, name, None) is not None
    }
    options["pattern"] = end_anchored(pattern)
    return msgspec.Meta(**options)


_META_OPTIONS = (
    "gt",
    "ge",
    "lt",
    "le",
    "multiple_of",
    "pattern",
    "min_length",
    "max_length",
    "tz",
    "title",
    "description",
    "examples",
    "extra_json_schema",
    "extra",
)


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
