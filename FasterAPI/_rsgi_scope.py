"""The ASGI scope of a Granian RSGI request, converted lazily."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from FasterAPI._framing import headers_too_large, reject_ambiguous_framing
from FasterAPI._types import Scope
from FasterAPI.datastructures import PLAIN_PATH_BYTES, quote_path
from FasterAPI.exceptions import HTTPException

RSGI_BRIDGE = "fasterapi.rsgi"
"""Scope key: the request's ``HTTPBridge``, present when nothing wraps the app's
``receive``/``send``, so a fixed body may go out with one ``response_bytes`` call instead
of two ASGI messages, a stream straight to the RSGI transport, a body come in at once."""

_EXTENSIONS: dict[str, dict[str, Any]] = {"http.response.pathsend": {}}
_ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}

_ADDRESSES: dict[str, tuple[str, int] | None] = {}
_ADDRESS_CACHE_SIZE = 256  # ~250 bytes an entry; cleared whole when full


def _parse_address(text: str) -> tuple[str, int] | None:
    host, _, port = text.rpartition(":")
    if not host:
        return None
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        return None


def _address(text: str) -> tuple[str, int] | None:
    # PERF: a keep-alive connection sends the same peer string request after request.
    try:
        return _ADDRESSES[text]
    except KeyError:
        if len(_ADDRESSES) >= _ADDRESS_CACHE_SIZE:
            _ADDRESSES.clear()
        found = _ADDRESSES[text] = _parse_address(text)
        return found


def _ascii_headers(scope: RSGIScope) -> list[tuple[bytes, bytes]]:
    header_map = scope.header_map
    pairs = header_map.items()
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]
    # Granian shows a value only as text: one holding bytes 0x80-0xFF (obs-text, such as
    # UTF-8 in a cookie set by JavaScript) is left out of items(), get() and get_all(),
    # its name still listed. A name none of whose values came through is refused rather
    # than looking absent. PERF: one dict of the pairs and one len(); the map's len() counts
    # distinct names. A repeated header whose first value came through but a later one
    # did not cannot be told from Granian's map, and loses that value.
    if len(dict(pairs)) != len(header_map):
        scope["headers"] = headers  # what the 400 (and any handler of it) may read
        raise unreadable_header(sorted(set(header_map.keys()) - {name for name, _ in pairs}))
    if "host" not in header_map:
        # HTTP/2 carries the host as the ":authority" pseudo-header, which Granian's RSGI
        # scope gives apart; ASGI servers list it as "host".
        authority = getattr(scope.rsgi, "authority", None)
        if authority:
            headers.append((b"host", authority.encode("latin-1")))
    return headers


def unreadable_header(names: list[str]) -> HTTPException:
    which = f"header {names[0]!r}" if len(names) == 1 else f"headers {', '.join(map(repr, names))}"
    return HTTPException(
        400,
        f"The value of request {which} holds bytes outside ASCII, which this server "
        "interface (Granian RSGI) cannot pass to the app",
    )


def _raw_path(scope: RSGIScope) -> bytes:
    """ASGI's ``raw_path`` is the path as received; Granian's RSGI scope gives the path
    only percent-decoded. This is that path percent-encoded again: ``%`` reads ``%25``, a
    space ``%20``, ``?`` ``%3F``, non-ASCII its UTF-8 escapes. What the client sent as
    ``%2F`` came through as ``/`` and stays one: that difference is lost for good, and so
    is a byte sequence Granian had to decode as U+FFFD."""
    path: str = scope.rsgi.path
    raw = path.encode("utf-8")
    if raw.rstrip(PLAIN_PATH_BYTES):  # PERF: told at C speed whether any byte needs it
        raw = quote_path(path).encode("ascii")
    return raw


_LAZY_KEYS: dict[str, Callable[[RSGIScope], Any]] = {
    "headers": _ascii_headers,
    "client": lambda scope: _address(scope.rsgi.client),
    "server": lambda scope: _address(scope.rsgi.server),
    # Granian decodes the query string as UTF-8 (raw bytes 0x80-0xFF included).
    "query_string": lambda scope: scope.rsgi.query_string.encode("utf-8"),
    "raw_path": _raw_path,
    "scheme": lambda scope: scope.rsgi.scheme,
    "http_version": lambda scope: scope.rsgi.http_version,
}


class RSGIScope(dict[str, Any]):
    """The ASGI scope of an RSGI request.

    PERF: the keys that cost the most to convert from Granian's scope object (headers,
    addresses, ``query_string``, ``raw_path``, ``scheme``, ``http_version``: about 1 us
    with a few headers) are filled when first read with ``scope[key]``. ``complete()``
    fills them all; it runs before the scope reaches code that may use ``get``, ``in`` or
    a copy: middleware, mounts, ``Request`` objects, response classes of the app's own.
    """

    __slots__ = ("header_map", "rsgi")

    rsgi: Any
    """Granian's scope while keys are missing; None once the scope is complete."""
    header_map: Any
    """Granian's header map of the request. PERF: read once; Granian builds a new map
    object at each ``scope.headers`` (~170 ns)."""

    def __missing__(self, key: str) -> Any:
        convert = _LAZY_KEYS.get(key)
        if convert is None or self.rsgi is None:
            raise KeyError(key)
        value = self[key] = convert(self)
        return value

    def complete(self) -> None:
        if self.rsgi is not None:
            for key, convert in _LAZY_KEYS.items():
                if key not in self:
                    self[key] = convert(self)
            self.rsgi = None

    def check_framing(self, max_count: int | None, max_bytes: int | None) -> None:
        """The header-block cap and the ambiguous-framing check the app makes of ASGI
        headers, made on Granian's header map without converting it."""
        headers = self.header_map
        if "transfer-encoding" in headers:
            reject_ambiguous_framing(self["headers"])
        names = headers.keys()
        size = len("".join(names)) + len("".join(headers.values()))
        if size > (max_bytes or size) or len(names) > (max_count or len(names)):
            raise headers_too_large(len(names), size)

    def header(self, name: str) -> str | None:
        """PERF: the first value of a header (None: absent) from Granian's map, converting
        no header. ``LookupError`` when only the converted headers can tell: the scope is
        complete, or Granian cannot show the value as text (converting them then raises
        the 400 of ``unreadable_header``)."""
        if self.rsgi is None:
            raise LookupError(name)
        headers = self.header_map
        value: str | None = headers.get(name)
        if value is None and name in headers:
            raise LookupError(name)
        return value


def has_any_header(scope: Scope, names: tuple[str, ...]) -> bool | None:
    """PERF: whether an RSGI request has any of these (lower-case) headers, from Granian's
    map without converting it; None for any other scope (read ``scope["headers"]``)."""
    if type(scope) is not RSGIScope or scope.rsgi is None:
        return None
    headers = scope.header_map
    return any(name in headers for name in names)


def complete_scope(scope: Scope) -> None:
    """Fill an RSGI scope's lazy keys (nothing to do for any other scope)."""
    if type(scope) is RSGIScope:
        scope.complete()


_FIXED_KEYS = {
    kind: {"type": kind, "asgi": _ASGI_VERSION, "root_path": "", "extensions": _EXTENSIONS}
    for kind in ("http", "websocket")
}


def http_scope(
    scope: Any, state: dict[str, Any] | None, kind: str = "http", bridge: Any = None
) -> RSGIScope:
    """The ASGI scope of an RSGI one (``state`` only when the lifespan has some)."""
    # PERF: copying the fixed keys, then setting the others, beats building from a literal.
    asgi_scope = RSGIScope(_FIXED_KEYS[kind])
    asgi_scope["method"] = scope.method
    asgi_scope["path"] = scope.path
    asgi_scope.rsgi = scope
    if bridge is not None:
        asgi_scope.header_map = bridge.header_map
        asgi_scope[RSGI_BRIDGE] = bridge
    else:
        asgi_scope.header_map = scope.headers
    if state:
        asgi_scope["state"] = dict(state)
    return asgi_scope
