"""What ``RedisCacheMiddleware`` reads from a request, and which responses it may store for
how long (RFC 9111 for a shared cache, made stricter where the RFC leaves a choice)."""

from __future__ import annotations

import re
from email.utils import mktime_tz, parsedate_tz
from typing import NamedTuple

from FasterAPI._types import Scope
from FasterAPI.datastructures import URL
from FasterAPI.middleware._asgi import RawHeaders

CACHEABLE_STATUS = frozenset({200, 203})
_NEVER_STORED = frozenset({b"private", b"no-store", b"no-cache"})
_EVENT_STREAM = b"text/event-stream"
_ENTITY_TAG = re.compile(rb'(?:W/)?"[^"]*"')
_LONGEST = 2**31  # seconds: RFC 9111 §1.2.2's cap for a delta-seconds too large to hold


def tokens(value: bytes) -> set[bytes]:
    """Lower-case directive names of a comma-separated header (``a=1, b`` -> a, b)."""
    names = (part.split(b"=", 1)[0].strip().lower() for part in value.split(b","))
    return {name for name in names if name}


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison of ``If-None-Match`` (a list, or ``*``) with an ``ETag``."""
    if if_none_match.strip() == b"*":
        return True
    ours = etag.strip().removeprefix(b"W/")
    return any(tag.removeprefix(b"W/") == ours for tag in _ENTITY_TAG.findall(if_none_match))


class CacheRequest:
    """What the cache needs from the request headers, gathered in one pass."""

    __slots__ = ("cache_control", "credentials", "host", "hosts", "if_none_match", "range", "vary")

    def __init__(self, headers: RawHeaders, vary: frozenset[bytes]) -> None:
        self.host: bytes | None = None
        """The first ``Host`` value, lower-case: the one ``request.url`` is built from."""
        self.hosts = 0
        self.credentials = self.range = False
        self.cache_control: set[bytes] = set()
        self.if_none_match: list[bytes] = []
        self.vary: dict[bytes, list[bytes]] = {}
        pragma = False
        for name, value in headers:
            if name == b"host":
                self.hosts += 1
                if self.host is None:
                    self.host = value.lower()
            elif name in (b"authorization", b"cookie"):
                self.credentials = True
            elif name == b"cache-control":
                self.cache_control |= tokens(value)
            elif name == b"pragma":
                pragma = pragma or b"no-cache" in tokens(value)
            elif name == b"if-none-match":
                self.if_none_match.append(value)
            elif name == b"range":
                self.range = True
            if name in vary:
                self.vary.setdefault(name, []).append(value)
        if pragma and not self.cache_control:
            self.cache_control.add(b"no-cache")

    def url_host(self, scope: Scope) -> bytes:
        """The host part of ``request.url``: the ``Host`` header, else the server address."""
        if self.host is not None:
            return self.host
        return URL(scope=scope).netloc.lower().encode("latin-1")  # HTTP/1.0 without Host


class Storage(NamedTuple):
    """How a response may be stored."""

    ttl_ms: int
    """How long the entry lives: the configured ttl, capped by the response's freshness."""
    length: int
    """The body's ``Content-Length``: a body of another length is not stored."""
    age: int
    """Seconds the response was already old when the app sent it (its ``Age`` header)."""
    shared: bool
    """``public`` or ``s-maxage``: the response may be stored although it depends on a
    credential (RFC 9111 §3.5)."""


def _seconds(argument: bytes) -> int:
    """A delta-seconds directive argument; 0 (stale) when malformed."""
    text = argument.strip()
    if len(text) >= 2 and text[:1] == text[-1:] == b'"':
        text = text[1:-1]
    if not text.isdigit():
        return 0
    text = text.lstrip(b"0") or b"0"  # "00000000001" is one second
    return _LONGEST if len(text) > 10 else min(int(text), _LONGEST)


def _http_date(value: bytes) -> float | None:
    """An HTTP date as a POSIX time; None when malformed."""
    try:
        parsed = parsedate_tz(value.decode("latin-1"))
        return None if parsed is None else float(mktime_tz(parsed))
    except (ValueError, OverflowError, TypeError):
        return None


def storage(
    status: int,
    headers: RawHeaders,
    *,
    ttl_ms: int,
    max_body_bytes: int,
    vary: frozenset[bytes],
    now: float,
) -> Storage | None:
    """How the response that starts with ``status`` and ``headers`` may be stored, or None
    when it may not: a status other than 200/203; ``Set-Cookie``; ``Cache-Control`` with
    ``no-store``, ``private`` or ``no-cache`` (also with field names: stricter than
    RFC 9111, which would store the rest); no ``Content-Length`` (a stream) or one over
    ``max_body_bytes``; ``text/event-stream``; a ``Vary`` naming a header outside
    ``vary``; or a response already stale: ``s-maxage``, else ``max-age``, else
    ``Expires`` minus ``Date`` (a malformed value reads as stale, a repeated directive
    as its smallest value), less its age (its ``Age``, or the time since its ``Date`` if
    longer). Otherwise it lives ``ttl_ms`` at most."""
    if status not in CACHEABLE_STATUS:
        return None
    max_age: int | None = None
    s_maxage: int | None = None
    public = False
    length: int | None = None
    expires = date = age_value = None
    for name, value in headers:
        name = name.lower()
        if name == b"cache-control":
            for directive in value.split(b","):
                key, _, argument = directive.partition(b"=")
                key = key.strip().lower()
                if key in _NEVER_STORED:
                    return None
                if key == b"public":
                    public = True
                elif key == b"max-age":
                    seconds = _seconds(argument)
                    max_age = seconds if max_age is None else min(max_age, seconds)
                elif key == b"s-maxage":
                    seconds = _seconds(argument)
                    s_maxage = seconds if s_maxage is None else min(s_maxage, seconds)
        elif name == b"set-cookie":
            return None
        elif name == b"content-length":
            text = value.strip()
            if not text.isdigit() or len(text) > 20 or length is not None:
                return None
            length = int(text)
        elif name == b"content-type":
            if value.split(b";", 1)[0].strip().lower() == _EVENT_STREAM:
                return None
        elif name == b"vary":
            if not tokens(value) <= vary:
                return None
        elif name == b"expires":
            expires = expires or value
        elif name == b"date":
            date = date or value
        elif name == b"age":
            age_value = age_value or value
    if length is None or length > max_body_bytes:
        return None
    if s_maxage is not None:
        fresh_ms = s_maxage * 1000
    elif max_age is not None:
        fresh_ms = max_age * 1000
    elif expires is not None:
        until = _http_date(expires)
        since = _http_date(date) if date is not None else None
        fresh_ms = 0 if until is None else round((until - (since or now)) * 1000)
    else:
        fresh_ms = ttl_ms
    age = 0 if age_value is None else _seconds(age_value)
    if date is not None:
        # RFC 9111 §4.2.3: a response is at least as old as its Date says.
        sent = _http_date(date)
        if sent is not None:
            age = max(age, int(now - sent))
    lifetime = min(ttl_ms, fresh_ms - age * 1000)
    if lifetime <= 0:
        return None
    return Storage(lifetime, length, age, public or s_maxage is not None)
