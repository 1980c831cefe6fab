"""Small containers shared by requests and responses: headers, query strings, URLs, state."""

from __future__ import annotations

import re
import string
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, NamedTuple, Union
from urllib.parse import (
    SplitResult,
    parse_qsl,
    quote_from_bytes,
    unquote_to_bytes,
    urlencode,
    urlsplit,
)

import anyio.to_thread

from FasterAPI.exceptions import HTTPException

RawHeaders = list[tuple[bytes, bytes]]

_FORBIDDEN_HEADER_BYTES = ("\r", "\n", "\x00")


def check_header_text(text: str, what: str) -> None:
    """Refuse header names/values that could split or truncate a header line."""
    for char in _FORBIDDEN_HEADER_BYTES:
        if char in text:
            raise ValueError(f"{what} must not contain CR, LF or NUL: {text!r}")


class Address(NamedTuple):
    host: str
    port: int


class State:
    """Attribute-style bag: ``app.state.db = ...``; ``request.state.user``."""

    def __init__(self, initial: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_data", initial if initial is not None else {})

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute '{name}'") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._data[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __repr__(self) -> str:
        return f"State({self._data!r})"


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued, read-only view over raw ASGI header pairs."""

    __slots__ = ("_list",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        raw: Sequence[tuple[bytes, bytes]] | None = None,
        scope: Mapping[str, Any] | None = None,
    ) -> None:
        if scope is not None:
            pairs: Sequence[tuple[bytes, bytes]] = scope["headers"]
        elif raw is not None:
            pairs = raw
        elif headers is not None:
            pairs = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        else:
            pairs = []
        self._list: list[tuple[str, str]] = [
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in pairs
        ]

    @property
    def raw(self) -> RawHeaders:
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self._list]

    def __getitem__(self, key: str) -> str:
        key = key.lower()
        for name, value in self._list:
            if name == key:
                return value
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[key]
        except KeyError:
            return default

    def getlist(self, key: str) -> list[str]:
        key = key.lower()
        return [value for name, value in self._list if name == key]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        key = key.lower()
        return any(name == key for name, _ in self._list)

    def __iter__(self) -> Iterator[str]:
        seen: dict[str, None] = {}
        for name, _ in self._list:
            seen.setdefault(name, None)
        return iter(seen)

    def __len__(self) -> int:
        return len({name for name, _ in self._list})

    def keys(self) -> list[str]:  # type: ignore[override]
        return [name for name, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]
        return [value for _, value in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self._list)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class MutableHeaders(Headers):
    """Headers bound to a response's raw header list; edits write through."""

    __slots__ = ("_raw",)

    def __init__(self, raw: RawHeaders) -> None:
        self._raw = raw

    @property  # type: ignore[misc]
    def _list(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw]

    @property
    def raw(self) -> RawHeaders:
        return self._raw

    def __setitem__(self, key: str, value: str) -> None:
        check_header_text(key, "Header name")
        check_header_text(value, "Header value")
        name = key.lower().encode("latin-1")
        self._raw[:] = [pair for pair in self._raw if pair[0] != name]
        self._raw.append((name, value.encode("latin-1")))

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        self._raw[:] = [pair for pair in self._raw if pair[0] != name]

    def setdefault(self, key: str, value: str) -> str:
        existing: str | None = self.get(key)
        if existing is not None:
            return existing
        self[key] = value
        return value

    def append(self, key: str, value: str) -> None:
        check_header_text(key, "Header name")
        check_header_text(value, "Header value")
        self._raw.append((key.lower().encode("latin-1"), value.encode("latin-1")))

    def update(self, other: Mapping[str, str]) -> None:
        for key, value in other.items():
            self[key] = value

    def add_vary_header(self, vary: str) -> None:
        existing = self.get("vary")
        if existing:
            vary = f"{existing}, {vary}"
        self["vary"] = vary


class MultiDict(Mapping[str, str]):
    """Read-only multi-valued mapping; ``d[key]`` gives the last value, ``getlist`` all."""

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        self._list: list[tuple[str, str]] = pairs
        self._dict: dict[str, str] = dict(pairs)

    def __getitem__(self, key: str) -> str:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getlist(self, key: str) -> list[str]:
        return [value for name, value in self._list if name == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._list)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MultiDict):
            return NotImplemented
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(MultiDict):
    """Query-string parameters; ``;`` is not a separator and blank values are kept."""

    __slots__ = ()

    def __init__(
        self, query: str | bytes | Iterable[tuple[str, str]] | Mapping[str, str] = ""
    ) -> None:
        if isinstance(query, bytes):
            query = query.decode("utf-8", "replace")
        if isinstance(query, str):
            super().__init__(parse_qsl(query, keep_blank_values=True, separator="&"))
        else:
            super().__init__(query)

    def __str__(self) -> str:
        return urlencode(self._list)


class URL:
    """A parsed URL with the accessors and ``replace``/``include_query_params`` users expect."""

    __slots__ = ("_parts", "_url")

    def __init__(self, url: str = "", scope: Mapping[str, Any] | None = None) -> None:
        if scope is not None:
            url = _url_from_scope(scope)
        self._url = url
        self._parts: SplitResult | None = None

    @property
    def components(self) -> SplitResult:
        if self._parts is None:
            self._parts = urlsplit(self._url)
        return self._parts

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        return self.components.port

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **kwargs: Any) -> URL:
        """A copy with some components replaced, each given as it appears in the URL
        (``path`` percent-encoded, as ``.path`` gives it): nothing is quoted here."""
        return URL(self.components._replace(**kwargs).geturl())

    def include_query_params(self, **kwargs: Any) -> URL:
        params = dict(parse_qsl(self.query, keep_blank_values=True))
        params.update({key: str(value) for key, value in kwargs.items()})
        return self.replace(query=urlencode(params))

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"URL({self._url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (str, URL)) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._url)


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _url_from_scope(scope: Mapping[str, Any]) -> str:
    scheme = scope.get("scheme", "http")
    server = scope.get("server")
    host = None
    for name, value in scope["headers"]:
        if name == b"host":
            if host is not None:
                # RFC 9112 §3.2: which one would the links point at? (Cache poisoning.)
                raise HTTPException(400, "More than one Host header")
            host = value.decode("latin-1")
    if host is None:
        if server is None:
            host = "localhost"
        else:
            host, port = server[0], server[1]
            if port != _DEFAULT_PORTS.get(scheme):
                host = f"{host}:{port}"
    url = f"{scheme}://{host}{url_path(scope)}"
    query = scope.get("query_string", b"")
    if query:
        if not query.isascii():  # unescaped UTF-8 some servers pass: escaped in a URL
            query = quote_from_bytes(query, safe=_VISIBLE_ASCII).encode("ascii")
        url += "?" + query.decode("latin-1")
    return url


_VISIBLE_ASCII = "".join(map(chr, range(0x21, 0x7F)))


# What a path segment may hold unencoded (RFC 3986 pchar less pct-encoded), and "/".
_PATH_SAFE = "/:@!$&'()*+,;=~"
PLAIN_PATH_BYTES = (string.ascii_letters + string.digits + "-._" + _PATH_SAFE).encode()
"""The bytes a URL path holds as they are."""
_LONE_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def quote_path(path: str) -> str:
    """A decoded path percent-encoded for a URL: ``%``, ``?``, ``#``, spaces, non-ASCII
    (as UTF-8) and the like are encoded; ``/`` and the sub-delimiters stay."""
    raw = path.encode("utf-8", "surrogateescape")
    if not raw.rstrip(PLAIN_PATH_BYTES):  # PERF: nothing to encode, told at C speed
        return path
    return quote_from_bytes(raw, safe=_PATH_SAFE)


def _quote_raw_path(raw: bytes) -> str:
    """A path as received, made a valid URL path: its escapes are kept as sent; a byte a
    URL cannot hold, or a ``%`` that starts no escape, is encoded."""
    if b"%" in raw:
        raw = _LONE_PERCENT.sub(b"%25", raw)
    return quote_from_bytes(raw, safe=_PATH_SAFE + "%")


def url_path(scope: Mapping[str, Any]) -> str:
    """The request's path as it goes in a URL: percent-encoded, ``root_path`` included.

    From ``raw_path`` when the server gives one that decodes to the request's path (with
    or without ``root_path``: a proxy that strips the prefix sends the path without it),
    so ``%2F``, ``%3F``, ``%23`` or ``%25`` come back as the client sent them. Otherwise
    (no ``raw_path``, or a stale one: something rewrote ``path`` and left it) the decoded
    path is encoded again; ``%2F`` then reads ``/``.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and not _carries_root(path, root):
        path = root + path
    raw: bytes | None = scope.get("raw_path")
    if raw is not None:
        received = unquote_to_bytes(raw).decode("utf-8", "replace")
        if received == path:
            return _quote_raw_path(raw)
        if root and received == path[len(root) :]:
            return quote_path(root) + _quote_raw_path(raw)
    return quote_path(path)


def _carries_root(path: str, root: str) -> bool:
    return path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/")


def _route_path(scope: Mapping[str, Any]) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and _carries_root(path, root):
        return path[len(root) :] or "/"
    return path


def route_path(scope: Mapping[str, Any]) -> str:
    """The path the app routes on: ``scope["path"]`` minus a ``root_path`` prefix it carries."""
    return _route_path(scope)


# A backslash escape in a quoted cookie value: three octal digits or any one character.
_COOKIE_ESCAPE = re.compile(r"\\([0-3][0-7][0-7]|.)", re.DOTALL)


def _cookie_unescape(match: re.Match[str]) -> str:
    escaped = match.group(1)
    return chr(int(escaped, 8)) if len(escaped) == 3 else escaped


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently, as browsers send it.

    A quoted value loses its quotes and its backslash escapes (``\\054`` is ``,``,
    ``\\"`` is ``"``), as ``Response.set_cookie`` writes a value that needs them."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep:
            name, value = "", name
        name, value = name.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
            if "\\" in value:
                value = _COOKIE_ESCAPE.sub(_cookie_unescape, value)
        if name or value:
            cookies[name] = value
    return cookies


class UploadFile:
    """An uploaded file, spooled to disk past ``spool_size``; async methods never block the loop."""

    spool_size = 1024 * 1024

    def __init__(
        self,
        file: BinaryIO | None = None,
        *,
        filename: str | None = None,
        size: int | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.file: BinaryIO = file if file is not None else _spooled(self.spool_size)
        self.filename = filename
        self.size = size
        self.headers = headers if headers is not None else Headers()

    @property
    def content_type(self) -> str | None:
        value: str | None = self.headers.get("content-type")
        return value

    def _on_disk(self) -> bool:
        rolled = getattr(self.file, "_rolled", True)
        return bool(rolled)

    async def write(self, data: bytes) -> None:
        self.size = (self.size or 0) + len(data)
        if self._on_disk():
            await anyio.to_thread.run_sync(self.file.write, data)
        else:
            self.file.write(data)

    async def read(self, size: int = -1) -> bytes:
        if self._on_disk():
            return await anyio.to_thread.run_sync(self.file.read, size)
        return self.file.read(size)

    async def seek(self, offset: int) -> None:
        if self._on_disk():
            await anyio.to_thread.run_sync(self.file.seek, offset)
        else:
            self.file.seek(offset)

    async def close(self) -> None:
        if self._on_disk():
            await anyio.to_thread.run_sync(self.file.close)
        else:
            self.file.close()

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, size={self.size!r})"


def _spooled(max_size: int) -> BinaryIO:
    return tempfile.SpooledTemporaryFile(max_size=max_size)  # type: ignore[return-value]


FormValue = Union[str, UploadFile]


class FormData(Mapping[str, FormValue]):
    """Parsed form fields and files: ``form[name]`` is the last value, ``getlist`` all."""

    def __init__(self, items: Iterable[tuple[str, FormValue]] = ()) -> None:
        self._list: list[tuple[str, FormValue]] = list(items)
        self._dict: dict[str, FormValue] = dict(self._list)

    def __getitem__(self, key: str) -> FormValue:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getlist(self, key: str) -> list[FormValue]:
        return [value for name, value in self._list if name == key]

    def multi_items(self) -> list[tuple[str, FormValue]]:
        return list(self._list)

    async def close(self) -> None:
        """Close (and so delete) every uploaded temporary file."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()

    def __repr__(self) -> str:
        return f"FormData({self._list!r})"
