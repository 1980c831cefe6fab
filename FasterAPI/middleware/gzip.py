"""GZipMiddleware: compress responses with gzip, Brotli or Zstandard, as the client accepts.

    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=9)

Brotli (``brotli`` package) and Zstandard (``zstandard`` package) are offered when they can
be imported (``pip install 'FasterAPI[compression]'``); gzip always is.

Negotiation: ``Accept-Encoding`` is parsed with its q-values. ``q=0`` forbids a coding, ``*``
stands for codings not listed, ``x-gzip`` means gzip, a malformed q counts as 0. The highest
q wins; ties go to the server's order, ``br`` > ``zstd`` > ``gzip`` by default (best ratio on
text first; all three are fast at the default levels). Pass ``encodings=("gzip",)`` to change
the offer or its order.

What is compressed: responses whose body may vary (not 1xx/204/304, not 206 or with
``Content-Range``) and that carry no ``Content-Encoding``, are not ``text/event-stream`` and
are not marked ``Cache-Control: no-transform``. A fixed body shorter than ``minimum_size`` (or
a declared ``Content-Length`` below it) is sent as it is; a fixed body gets the new
``Content-Length``. A streamed body (several body messages) is compressed chunk by chunk
and each chunk is flushed, so the client gets data as it is produced; its
``Content-Length`` is dropped. HEAD responses are never compressed. A strong ``ETag`` is
weakened when the body is compressed, since the bytes differ.

Such responses get ``Vary: Accept-Encoding``, compressed or not, because another client
could get a different body. ``http.response.pathsend`` (zero-copy files) and websocket or
lifespan scopes pass through untouched.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from FasterAPI._extract import get_header
from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send
from FasterAPI.middleware._asgi import RawHeaders, with_vary
from FasterAPI.response import status_allows_body

__all__ = ["GZipMiddleware", "available_encodings"]


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


brotli: Any = _optional("brotli")
zstandard: Any = _optional("zstandard")

_VARY = b"Accept-Encoding"
_CACHE_LIMIT = 256


class _Stream:
    """One response's compressor; ``chunk`` flushes, so the client can decode it at once."""

    __slots__ = ("_compress", "_finish", "_flush")

    def __init__(
        self,
        compress: Callable[[bytes], bytes],
        flush: Callable[[], bytes],
        finish: Callable[[], bytes],
    ) -> None:
        self._compress, self._flush, self._finish = compress, flush, finish

    def chunk(self, data: bytes) -> bytes:
        return self._compress(data) + self._flush()

    def finish(self, data: bytes) -> bytes:
        return self._compress(data) + self._finish()


def _gzip_stream(level: int) -> _Stream:
    obj = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: the gzip container
    return _Stream(obj.compress, lambda: obj.flush(zlib.Z_SYNC_FLUSH), obj.flush)


def _brotli_stream(quality: int) -> _Stream:
    obj = brotli.Compressor(quality=quality)
    return _Stream(obj.process, obj.flush, obj.finish)


def _zstd_stream(level: int) -> _Stream:
    # A compressor per response: a zstandard compressor must not be shared while in use.
    obj = zstandard.ZstdCompressor(level=level).compressobj()
    return _Stream(obj.compress, lambda: obj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK), obj.flush)


def available_encodings() -> tuple[str, ...]:
    """The codings this installation can produce, in the default order of preference."""
    found = ["br"] if brotli is not None else []
    if zstandard is not None:
        found.append("zstd")
    found.append("gzip")
    return tuple(found)


def parse_accept_encoding(value: str) -> dict[str, float]:
    """Coding -> q from an ``Accept-Encoding`` value (lower-case; repeated codings keep
    the lowest q; a malformed or out-of-range q counts as 0)."""
    weights: dict[str, float] = {}
    for item in value.split(","):
        name, *params = item.split(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, raw = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(raw.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:  # also false for NaN
                    q = 0.0
        if name == "x-gzip":
            name = "gzip"
        weights[name] = min(q, weights.get(name, q))
    return weights


def negotiate(value: str, offered: Sequence[str]) -> str | None:
    """The offered coding with the highest q (ties: earlier in ``offered``), or None."""
    weights = parse_accept_encoding(value)
    star = weights.get("*", 0.0)
    best, best_q = None, 0.0
    for coding in offered:
        q = weights.get(coding, star)
        if q > best_q:
            best, best_q = coding, q
    return best


class GZipMiddleware:
    """Compresses eligible responses with the best coding the client accepts."""

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 9,
        *,
        encodings: Sequence[str] | None = None,
        brotli_quality: int = 4,
        zstd_level: int = 3,
    ) -> None:
        if not 0 <= compresslevel <= 9:
            raise ValueError("compresslevel must be between 0 and 9")
        if not 0 <= brotli_quality <= 11:
            raise ValueError("brotli_quality must be between 0 and 11")
        available = available_encodings()
        if encodings is None:
            encodings = available
        elif isinstance(encodings, str):
            raise TypeError("encodings takes a sequence of coding names, not a str")
        for coding in encodings:
            if coding not in ("br", "zstd", "gzip"):
                raise ValueError(f"Unknown coding {coding!r}: use 'br', 'zstd' or 'gzip'")
            if coding not in available:
                package = "brotli" if coding == "br" else "zstandard"
                raise ValueError(f"{coding!r} needs the {package!r} package installed")
        self.app = app
        self.minimum_size = minimum_size
        self.encodings = tuple(encodings)
        self._streams: dict[str, Callable[[], _Stream]] = {
            "gzip": lambda: _gzip_stream(compresslevel),
            "br": lambda: _brotli_stream(brotli_quality),
            "zstd": lambda: _zstd_stream(zstd_level),
        }
        self._choices: dict[bytes, str | None] = {}

    def choose(self, accept: bytes) -> str | None:
        """The coding for this ``Accept-Encoding`` value (cached: browsers repeat theirs)."""
        choices = self._choices
        try:
            return choices[accept]
        except KeyError:
            pass
        coding = negotiate(accept.decode("latin-1"), self.encodings)
        if len(choices) >= _CACHE_LIMIT:
            choices.clear()
        choices[accept] = coding
        return coding

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = get_header(scope["headers"], b"accept-encoding")
        coding = None
        if accept and scope["method"] != "HEAD":
            coding = self.choose(accept)
        responder = _Responder(send, coding, self.minimum_size, self._streams)
        responder.request_headers = scope["headers"]
        await self.app(scope, receive, responder.send)


def _eligible(status: int, headers: RawHeaders) -> bool:
    """Whether the body of this response may be compressed at all."""
    if not status_allows_body(status) or status == 206:
        return False
    for name, value in headers:
        name = name.lower()
        if name == b"content-encoding" and value.strip().lower() != b"identity":
            return False
        if name == b"content-range":
            return False
        if name == b"content-type" and value.lower().startswith(b"text/event-stream"):
            return False
        if name == b"cache-control" and b"no-transform" in value.lower():
            return False
    return True


def _declared_length(headers: RawHeaders) -> int | None:
    value = get_header(headers, b"content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _encoded_headers(headers: RawHeaders, coding: str, length: int | None) -> RawHeaders:
    out: RawHeaders = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in (b"content-length", b"content-encoding"):
            continue
        if lowered == b"etag" and value.startswith(b'"'):
            value = b"W/" + value
        out.append((name, value))
    out.append((b"content-encoding", coding.encode()))
    if length is not None:
        out.append((b"content-length", str(length).encode()))
    return with_vary(out, _VARY)


def _as_validated(message: Message, headers: RawHeaders, request: RawHeaders) -> Message:
    """A 304 for the compressed copy the client holds: the ``ETag`` and ``Vary`` that copy
    was sent with (RFC 9110 §15.4.5), not the uncompressed file's strong ETag.

    The client holds a compressed copy when its ``If-None-Match`` names the weak form of
    the ETag, which only compression produces here."""
    etag = get_header(headers, b"etag")
    if etag is None or not etag.startswith(b'"'):
        return message
    conditions = get_header(request, b"if-none-match")
    if conditions is None or b"W/" + etag not in conditions:
        return message
    out = [(name, b"W/" + etag if name.lower() == b"etag" else value) for name, value in headers]
    return {**message, "headers": with_vary(out, _VARY)}


_PASS, _WAIT_START, _HOLD, _STREAM = range(4)


class _Responder:
    """The per-request ``send`` wrapper: holds ``http.response.start`` until the first body
    message shows whether the body is fixed (compress it whole) or streamed."""

    __slots__ = (
        "coding",
        "factory",
        "minimum_size",
        "request_headers",
        "send_",
        "start",
        "state",
        "stream",
    )

    def __init__(
        self,
        send: Send,
        coding: str | None,
        minimum_size: int,
        streams: dict[str, Callable[[], _Stream]],
    ) -> None:
        self.send_ = send
        self.coding = coding
        self.minimum_size = minimum_size
        self.factory = streams[coding] if coding is not None else None
        self.state = _WAIT_START
        self.start: Message | None = None
        self.stream: _Stream | None = None
        self.request_headers: RawHeaders = []

    async def send(self, message: Message) -> None:
        state = self.state
        if state == _PASS:
            await self.send_(message)
        elif message["type"] == "http.response.start":
            await self._on_start(message)
        elif message["type"] != "http.response.body":
            # pathsend, trailers, ...: release the held headers unchanged and step aside.
            if self.start is not None:
                await self.send_(self.start)
                self.start = None
            self.state = _PASS
            await self.send_(message)
        elif state == _STREAM:
            await self._on_chunk(message)
        else:
            await self._on_first_body(message)

    async def _on_start(self, message: Message) -> None:
        headers: RawHeaders = message.get("headers") or []
        if not _eligible(message["status"], headers):
            self.state = _PASS
            if message["status"] == 304:
                message = _as_validated(message, headers, self.request_headers)
            await self.send_(message)
            return
        length = _declared_length(headers)
        if length is not None and length < self.minimum_size:
            self.state = _PASS
            await self.send_(message)
        elif self.coding is None:
            self.state = _PASS
            await self.send_({**message, "headers": with_vary(headers, _VARY)})
        else:
            self.state = _HOLD
            self.start = message

    async def _on_first_body(self, message: Message) -> None:
        start = self.start
        assert start is not None and self.coding is not None and self.factory is not None
        self.start = None
        headers: RawHeaders = start.get("headers") or []
        body: bytes = message.get("body", b"")
        if message.get("more_body", False):
            self.state = _STREAM
            self.stream = self.factory()
            start = {**start, "headers": _encoded_headers(headers, self.coding, None)}
            await self.send_(start)
            await self._on_chunk(message)
            return
        self.state = _PASS
        if len(body) < self.minimum_size:
            await self.send_(start)
            await self.send_(message)
            return
        compressed = self.factory().finish(body)
        if len(compressed) >= len(body):  # incompressible: the original is smaller
            await self.send_({**start, "headers": with_vary(headers, _VARY)})
            await self.send_(message)
            return
        headers = _encoded_headers(headers, self.coding, len(compressed))
        await self.send_({**start, "headers": headers})
        await self.send_({"type": "http.response.body", "body": compressed, "more_body": False})

    async def _on_chunk(self, message: Message) -> None:
        stream = self.stream
        assert stream is not None
        body: bytes = message.get("body", b"")
        if message.get("more_body", False):
            data = stream.chunk(body) if body else b""
            await self.send_({"type": "http.response.body", "body": data, "more_body": True})
        else:
            self.state = _PASS
            data = stream.finish(body)
            await self.send_({"type": "http.response.body", "body": data, "more_body": False})
