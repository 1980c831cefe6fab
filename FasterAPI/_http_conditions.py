"""Conditional requests and byte ranges for a static representation (RFC 9110 §13-§14).

One implementation, used by ``FileResponse`` and, through it, by ``StaticFiles``.
``evaluate`` turns the request headers and the representation's validators into an
``Outcome``: 200 (send it all), 206 (send these ranges), 304, 412 or 416.

Choices where the RFC leaves room:

- Preconditions in the RFC's order (§13.2.2): ``If-Match`` (strong comparison, ``*``,
  lists) and, only when it is absent, ``If-Unmodified-Since``, for every method: 412
  when they fail. Then, for GET and HEAD, ``If-None-Match`` (weak comparison, ``*``,
  lists) and, only when it is absent, ``If-Modified-Since``: 304.
- ``Range`` is honoured for GET only (RFC 9110 §14.2), and only when ``If-Range`` (if
  sent) matches: a strong ETag comparison or the exact ``Last-Modified`` date.
- A malformed ``Range`` (another unit, bad syntax, ``last < first``, absurdly long
  numbers) is ignored and the whole representation is sent with 200. §14.2 allows
  ignoring it; every client copes with a 200, whereas a 416 for a header the client got
  wrong gives it nothing to retry with.
- More than ``MAX_RANGES`` ranges are ignored the same way (full 200): such requests are
  a sign of a broken client or a denial-of-service attempt (§14.2). Overlapping or
  adjacent ranges are coalesced, so a 206 is never much larger than the file.
- A range set with no satisfiable range is answered with 416.
- An empty file ignores ``Range``: no byte of it can be addressed, so it is a 200.
"""

from __future__ import annotations

import re
from datetime import timezone
from email.utils import formatdate, parsedate_to_datetime
from typing import NamedTuple

from FasterAPI.datastructures import Headers

MAX_RANGES = 100

ByteRange = tuple[int, int]  # [start, stop): stop is exclusive

# Digits are capped so int() never sees a huge string; a longer number is "malformed".
_RANGE_SPEC = re.compile(r"([0-9]{0,20})-([0-9]{0,20})")
_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')


class Outcome(NamedTuple):
    status: int  # 200, 206, 304, 412 or 416
    ranges: tuple[ByteRange, ...] = ()  # what a 206 sends, in order


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> int | None:
    """Seconds since the epoch, or None for anything that is not an HTTP date."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def evaluate(
    method: str, headers: Headers, etag: str | None, last_modified: int | None, size: int
) -> Outcome:
    """What to answer a request for a representation with these validators and size."""
    if _precondition_failed(headers, etag, last_modified):
        return Outcome(412)
    if method not in ("GET", "HEAD"):
        return Outcome(200)
    if _not_modified(headers, etag, last_modified):
        return Outcome(304)
    range_header = headers.get("range")
    if method != "GET" or range_header is None or size == 0:
        return Outcome(200)
    if_range = headers.get("if-range")
    if if_range is not None and not _if_range_matches(if_range, etag, last_modified):
        return Outcome(200)
    ranges = parse_range(range_header, size)
    if ranges is None:
        return Outcome(200)
    if not ranges:
        return Outcome(416)
    return Outcome(206, tuple(ranges))


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _precondition_failed(headers: Headers, etag: str | None, last_modified: int | None) -> bool:
    if_match = headers.getlist("if-match")
    if if_match:
        value = ", ".join(if_match)
        if value.strip() == "*":
            return False  # the representation exists
        # Strong comparison: a weak tag on either side never matches.
        if etag is None or etag.startswith("W/"):
            return True
        return etag not in _ENTITY_TAG.findall(value)
    since = headers.get("if-unmodified-since")
    if since is None or last_modified is None:
        return False
    date = parse_http_date(since)
    return date is not None and last_modified > date


def _not_modified(headers: Headers, etag: str | None, last_modified: int | None) -> bool:
    if_none_match = headers.getlist("if-none-match")
    if if_none_match:
        value = ", ".join(if_none_match)
        if value.strip() == "*":
            return True
        if etag is None:
            return False
        ours = _opaque(etag)
        return any(_opaque(tag) == ours for tag in _ENTITY_TAG.findall(value))
    since = headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    date = parse_http_date(since)
    return date is not None and last_modified <= date


def _if_range_matches(value: str, etag: str | None, last_modified: int | None) -> bool:
    value = value.strip()
    if value.startswith(("W/", '"')):
        # Strong comparison: a weak tag on either side never matches.
        return etag is not None and not etag.startswith("W/") and value == etag
    date = parse_http_date(value)
    return date is not None and date == last_modified


def parse_range(header: str, size: int) -> list[ByteRange] | None:
    """The satisfiable ranges of a ``bytes=`` header: None if it is to be ignored, [] for 416."""
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    items = [item.strip() for item in spec.split(",")]
    items = [item for item in items if item]
    if not items or len(items) > MAX_RANGES:
        return None
    ranges: list[ByteRange] = []
    for item in items:
        match = _RANGE_SPEC.fullmatch(item)
        if match is None:
            return None
        first, last = match.groups()
        if first:
            start = int(first)
            if last and int(last) < start:
                return None
            if start < size:
                ranges.append((start, min(int(last) + 1, size) if last else size))
        elif last:
            suffix = int(last)
            if suffix:
                ranges.append((max(size - suffix, 0), size))
        else:
            return None
    return _coalesce(ranges)


def _coalesce(ranges: list[ByteRange]) -> list[ByteRange]:
    """Merge overlapping or adjacent ranges; without any, keep the client's order."""
    if len(ranges) < 2:
        return ranges
    ordered = sorted(ranges)
    merged = [ordered[0]]
    for start, stop in ordered[1:]:
        last_start, last_stop = merged[-1]
        if start <= last_stop:
            merged[-1] = (last_start, max(last_stop, stop))
        else:
            merged.append((start, stop))
    return ranges if len(merged) == len(ranges) else merged


def content_range(start: int, stop: int, size: int) -> str:
    return f"bytes {start}-{stop - 1}/{size}"


def multipart_layout(
    ranges: tuple[ByteRange, ...], size: int, content_type: str, boundary: str
) -> tuple[list[bytes], bytes, int]:
    """Each part's head (to send before its bytes), the closing delimiter, the body length.

    The body is ``head0 bytes0 head1 bytes1 ... tail``; every head after the first starts
    with the CRLF that ends the previous part, and the tail does too.
    """
    heads: list[bytes] = []
    delimiter = b""
    for start, stop in ranges:
        head = (
            f"--{boundary}\r\ncontent-type: {content_type}\r\n"
            f"content-range: {content_range(start, stop, size)}\r\n\r\n"
        )
        heads.append(delimiter + head.encode("latin-1"))
        delimiter = b"\r\n"
    tail = f"\r\n--{boundary}--\r\n".encode("latin-1")
    length = sum(map(len, heads)) + sum(stop - start for start, stop in ranges) + len(tail)
    return heads, tail, length
