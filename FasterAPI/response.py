"""Response classes: each renders its body and raw header list once, then sends.

Response
├── JSONResponse (msgspec, application/json; bytes pass through unencoded)
│   ├── ORJSONResponse, UJSONResponse (names kept for FastAPI users; msgspec underneath)
├── HTMLResponse (text/html)
├── PlainTextResponse (text/plain)
├── RedirectResponse (Location header, 307 by default)
└── MsgPackResponse (application/msgpack via msgspec.msgpack)
StreamingResponse (async/sync iterator; stops when the client disconnects)
└── EventSourceResponse (server-sent events; FasterAPI.sse)
FileResponse (disk file, ETag/Last-Modified/Range)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime, formatdate
from http.cookies import CookieError, Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import msgspec

from FasterAPI._types import Receive, Scope, Send
from FasterAPI.background import BackgroundTask
from FasterAPI.datastructures import MutableHeaders, RawHeaders, check_header_text
from FasterAPI.encoders import fallback

if TYPE_CHECKING:
    from FasterAPI._file import FileResponse
    from FasterAPI._stream import StreamingResponse

RESPONSE_STARTED = "fasterapi.response_started"
"""Scope key: set once ``http.response.start`` is on its way (an error then cannot become
a 500 answer)."""

CLEANUP_AFTER_RESPONSE = "fasterapi.cleanup_after_response"
"""Scope key: code that runs once the response is sent (a yield-dependency's teardown) is
pending, so a file must not be handed to the server by path, to be read after that."""


def __getattr__(name: str) -> Any:
    # StreamingResponse and FileResponse subclass Response, so they live in their own
    # modules and are re-exported here lazily.
    if name == "StreamingResponse":
        from FasterAPI._stream import StreamingResponse

        return StreamingResponse
    if name == "FileResponse":
        from FasterAPI._file import FileResponse

        return FileResponse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "MsgPackResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "UJSONResponse",
]

NO_BODY_STATUS = frozenset({204, 205, 304})
_json_encoder = msgspec.json.Encoder(enc_hook=fallback)
_msgpack_encoder = msgspec.msgpack.Encoder(enc_hook=fallback)


def status_allows_body(status_code: int) -> bool:
    return status_code >= 200 and status_code not in NO_BODY_STATUS


def build_raw_headers(
    headers: Mapping[str, str] | None,
    media_type: str | None,
    charset: str,
    content_length: int | None,
) -> RawHeaders:
    """Encode user headers (checked for CR/LF/NUL), then add content-type/length when absent.

    A ``content-length`` given for a non-empty body says that body's length: one copied
    from another response (a middleware that rewrites the body) would otherwise cut the
    body short or run into the next response on the connection. For an empty body it is
    kept, as a HEAD answer states the length a GET would have."""
    raw: RawHeaders = []
    has_type = has_length = False
    if headers:
        pairs: list[tuple[bytes, bytes]]
        if isinstance(headers, MutableHeaders):
            pairs = [(key.lower(), value) for key, value in headers.raw]
        else:
            pairs = []
            for key, value in headers.items():
                check_header_text(key, "Header name")
                check_header_text(value, "Header value")
                pairs.append((key.lower().encode("latin-1"), value.encode("latin-1")))
        for name, data in pairs:
            if name == b"content-type":
                has_type = True
            elif name == b"content-length":
                has_length = True
                if content_length:
                    data = b"%d" % content_length
            raw.append((name, data))
    if content_length is not None and not has_length:
        raw.append((b"content-length", str(content_length).encode()))
    if media_type is not None and not has_type:
        raw.append(content_type_header(media_type, charset))
    return raw


_CONTENT_TYPES: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def content_type_header(media_type: str, charset: str) -> tuple[bytes, bytes]:
    """The ``content-type`` pair; text types get the charset. PERF: cached, apps use few."""
    key = (media_type, charset)
    found = _CONTENT_TYPES.get(key)
    if found is None:
        check_header_text(media_type, "Media type")
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            media_type = f"{media_type}; charset={charset}"
        found = (b"content-type", media_type.encode("latin-1"))
        if len(_CONTENT_TYPES) < 256:
            _CONTENT_TYPES[key] = found
    return found


class Response:
    """A fixed body with a status and headers; for a new type, subclass and override
    ``render`` (or ``_render``): it turns the content into the body's bytes."""

    media_type: str | None = None
    charset: str = "utf-8"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # PERF: the body comes from whichever of render/_render the nearest class defining
        # one of them overrides, looked up once here rather than through render per call.
        for klass in cls.__mro__:
            if "render" in klass.__dict__ and klass is not Response:
                cls._render_body = klass.__dict__["render"]
                return
            if "_render" in klass.__dict__:
                cls._render_body = klass.__dict__["_render"]
                return

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body: bytes = self._render_body(content)
        if status_allows_body(status_code):
            self.raw_headers = build_raw_headers(
                headers, self.media_type, self.charset, len(self.body)
            )
        else:
            self.body = b""
            # A 205 has no content (RFC 9110 15.3.6); a zero length frames that on any server.
            length = 0 if status_code == 205 else None
            self.raw_headers = build_raw_headers(headers, None, self.charset, length)

    def _render(self, content: Any) -> bytes:
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, (bytearray, memoryview)):
            return bytes(content)
        if isinstance(content, str):
            return content.encode(self.charset)
        raise TypeError(
            f"{type(self).__name__} cannot render {type(content).__name__}; "
            "pass str or bytes, or use JSONResponse"
        )

    def render(self, content: Any) -> bytes:
        return self._render(content)

    _render_body = _render

    @property
    def headers(self) -> MutableHeaders:
        return MutableHeaders(self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        self.raw_headers.append(
            (
                b"set-cookie",
                format_set_cookie(
                    key,
                    value,
                    max_age,
                    expires,
                    path,
                    domain,
                    secure,
                    httponly,
                    samesite,
                    partitioned,
                ).encode("latin-1"),
            )
        )

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})
        if self.background is not None:
            await self.background()


_SAMESITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


def format_set_cookie(
    key: str,
    value: str,
    max_age: int | None,
    expires: datetime | str | int | None,
    path: str | None,
    domain: str | None,
    secure: bool,
    httponly: bool,
    samesite: str | None,
    partitioned: bool,
) -> str:
    """One ``Set-Cookie`` value; the name must be a token and the value is quoted if needed."""
    morsel: Morsel[str] = Morsel()
    try:
        _, coded = SimpleCookie().value_encode(value)
        morsel.set(key, value, coded)
    except CookieError as exc:
        raise ValueError(f"Invalid cookie name {key!r}") from exc
    parts = [f"{key}={coded}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if expires is not None:
        if isinstance(expires, datetime):
            parts.append(f"expires={format_datetime(expires, usegmt=True)}")
        elif isinstance(expires, int):
            parts.append(f"expires={formatdate(time.time() + expires, usegmt=True)}")
        else:
            check_header_text(expires, "Cookie expires")
            if ";" in expires:  # would start another attribute (Domain=..., say)
                raise ValueError(f"Cookie expires must not contain ';': {expires!r}")
            parts.append(f"expires={expires}")
    for name, attr in (("Path", path), ("Domain", domain)):
        if attr is not None:
            if ";" in attr:
                raise ValueError(f"Cookie {name} must not contain ';': {attr!r}")
            check_header_text(attr, f"Cookie {name}")
            parts.append(f"{name}={attr}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite is not None:
        try:
            parts.append(f"SameSite={_SAMESITE[samesite.lower()]}")
        except KeyError:
            raise ValueError("samesite must be 'lax', 'strict' or 'none'") from None
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)


class JSONResponse(Response):
    """JSON encoded by msgspec; ``bytes``/``bytearray``/``memoryview`` are sent as they are."""

    media_type = "application/json"

    def _render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        if isinstance(content, (bytearray, memoryview)):
            return bytes(content)
        return _json_encoder.encode(content)


class ORJSONResponse(JSONResponse):
    """Kept for code written for FastAPI; encodes with msgspec, which is as fast."""


class UJSONResponse(JSONResponse):
    """Kept for code written for FastAPI; encodes with msgspec."""


class HTMLResponse(Response):
    media_type = "text/html"


class PlainTextResponse(Response):
    media_type = "text/plain"


class MsgPackResponse(Response):
    """MessagePack via msgspec; ``bytes`` are sent as they are."""

    media_type = "application/msgpack"

    def _render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return _msgpack_encoder.encode(content)


class RedirectResponse(Response):
    """Redirect to ``url`` (307 keeps the method and body); the URL is percent-quoted safely."""

    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        check_header_text(str(url), "Redirect URL")
        super().__init__(b"", status_code=status_code, headers=headers, background=background)
        location = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")
        self.raw_headers.append((b"location", location.encode("latin-1")))
