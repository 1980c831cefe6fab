"""Request: a lazy view over an ASGI scope plus the body, read once with a size limit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from FasterAPI._rsgi import HTTPBridge
from FasterAPI._rsgi_scope import complete_scope
from FasterAPI._types import Message, Receive, Scope, Send
from FasterAPI.datastructures import (
    URL,
    Address,
    FormData,
    Headers,
    QueryParams,
    State,
    parse_cookie_header,
    route_path,
)
from FasterAPI.exceptions import ClientDisconnect as ClientDisconnect
from FasterAPI.exceptions import HTTPException

if TYPE_CHECKING:
    from FasterAPI.app import Faster

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024

BODY_READ = "fasterapi.body_read"
"""Scope key: ``(id(receive), body)`` once the body has been read from ``receive``
(``body`` is None when it was read as a stream). A later Request on the same ``receive``,
an exception handler's, takes the body from here: ``receive`` has no more body messages to
give and would wait for the client to leave. The id, not ``receive`` itself: a server's
``receive`` is a method of an object holding the scope, and that reference cycle would
leave every request's objects to the garbage collector (POST /items on uvicorn went
from 0.92 to 0.82 of the raw app)."""


def remember_body(scope: Scope, receive: Receive, body: bytes | None) -> None:
    scope[BODY_READ] = (id(receive), body)


async def _empty_receive() -> Message:
    raise RuntimeError("This connection has no receive channel")


async def _empty_send(message: Message) -> None:
    raise RuntimeError("This connection has no send channel")


def body_too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"Request body exceeds the limit of {limit} bytes")


def check_declared_length(headers: list[tuple[bytes, bytes]], limit: int | None) -> None:
    """413 before reading anything when ``Content-Length`` already says too much."""
    if limit is None:
        return
    for name, value in headers:
        if name == b"content-length":
            check_length_value(value, limit)
            return


def check_length_value(value: bytes, limit: int | None) -> None:
    """400 for a malformed ``Content-Length``, 413 for one over ``limit``."""
    if limit is None:
        return
    # RFC 9110: 1*DIGIT (int() would take "+1", "1_0"); no real body has 20 digits.
    if not value.isdigit() or len(value) > 20:
        raise HTTPException(400, "Invalid Content-Length header")
    if int(value) > limit:
        raise body_too_large(limit)


async def receive_chunk(receive: Receive) -> tuple[bytes, bool]:
    """(chunk, more) from the next message; a disconnect raises ClientDisconnect."""
    bridge = getattr(receive, "__self__", None)
    if type(bridge) is HTTPBridge:
        # PERF: on Granian's RSGI the body is read from the server, no message dicts.
        return await bridge.read_chunk()
    message = await receive()
    kind = message["type"]
    if kind == "http.request":
        return message.get("body", b""), message.get("more_body", False)
    if kind == "http.disconnect":
        raise ClientDisconnect()
    return b"", True


async def read_body(
    receive: Receive, headers: list[tuple[bytes, bytes]], limit: int | None
) -> bytes:
    """The whole request body, within ``limit`` (413 as soon as it is crossed)."""
    check_declared_length(headers, limit)
    return await receive_body(receive, limit)


async def receive_body(receive: Receive, limit: int | None) -> bytes:
    """The body's messages joined, within ``limit`` (the declared length already checked)."""
    # PERF: the common one-message body is returned without a list or a join.
    body, more = await receive_chunk(receive)
    if more:
        chunks = [body]
        received = len(body)
        while more:
            chunk, more = await receive_chunk(receive)
            received += len(chunk)
            if limit is not None and received > limit:
                raise body_too_large(limit)
            chunks.append(chunk)
        body = b"".join(chunks)
    if limit is not None and len(body) > limit:
        raise body_too_large(limit)
    return body


class HTTPConnection(Mapping[str, Any]):
    """What HTTP requests and websockets share: URL, headers, query, cookies, client, state."""

    def __init__(self, scope: Scope, receive: Receive = _empty_receive) -> None:
        complete_scope(scope)
        self.scope = scope
        self._receive = receive
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None
        self._state: State | None = None

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Any:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def app(self) -> Faster:
        return self.scope["app"]  # type: ignore[no-any-return]

    @property
    def url(self) -> URL:
        if self._url is None:
            self._url = URL(scope=self.scope)
        return self._url

    @property
    def base_url(self) -> URL:
        scope = dict(self.scope)
        scope["path"] = scope.get("root_path", "") + "/"
        scope["root_path"] = ""
        scope.pop("raw_path", None)  # the request's own; not this path's
        scope["query_string"] = b""
        return URL(scope=scope)

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(scope=self.scope)
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        if self._query is None:
            self._query = QueryParams(self.scope.get("query_string", b""))
        return self._query

    @property
    def path_params(self) -> dict[str, Any]:
        return self.scope.get("path_params", {})  # type: ignore[no-any-return]

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            # HTTP/2 clients may split the cookies over several headers (RFC 9113 8.2.3).
            self._cookies = parse_cookie_header("; ".join(self.headers.getlist("cookie")))
        return self._cookies

    @property
    def session(self) -> dict[str, Any]:
        """The session dict (``SessionMiddleware`` must be installed)."""
        if "session" not in self.scope:
            raise RuntimeError("request.session needs SessionMiddleware")
        return self.scope["session"]  # type: ignore[no-any-return]

    @property
    def client(self) -> Address | None:
        client = self.scope.get("client")
        return Address(*client) if client else None

    @property
    def state(self) -> State:
        if self._state is None:
            self._state = State(self.scope.setdefault("state", {}))
        return self._state

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        path = self.app.url_path_for(name, **path_params)
        return URL(str(self.base_url).rstrip("/") + path)


class Request(HTTPConnection):
    """An HTTP request. The body is read at most once and cached."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive = _empty_receive,
        send: Send = _empty_send,
        *,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        super().__init__(scope, receive)
        self._send = send
        self._body: bytes | None = None
        self._json: Any = None
        self._stream_consumed = False
        self._disconnected = False
        self._form: FormData | None = None
        self.max_body_size = max_body_size

    @property
    def method(self) -> str:
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def receive(self) -> Receive:
        return self._receive

    @property
    def route_path(self) -> str:
        return route_path(self.scope)

    def _mark_consumed(self) -> None:
        if self._stream_consumed:
            raise RuntimeError("The request body stream has already been consumed")
        self._stream_consumed = True

    def _body_already_read(self) -> bool:
        """True (``_body`` set) if the body was read from this receive before."""
        read = self.scope.get(BODY_READ)
        if read is None or read[0] != id(self._receive):
            return False
        if read[1] is None:
            raise RuntimeError("The request body stream has already been consumed")
        self._body = read[1]
        self._stream_consumed = True
        return True

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield body chunks as they arrive, enforcing ``max_body_size``."""
        if self._body is not None or self._body_already_read():
            yield self._body  # type: ignore[misc]
            yield b""
            return
        self._mark_consumed()
        remember_body(self.scope, self._receive, None)
        limit = self.max_body_size
        check_declared_length(self.scope["headers"], limit)
        received = 0
        more = True
        while more:
            try:
                chunk, more = await receive_chunk(self._receive)
            except ClientDisconnect:
                self._disconnected = True
                raise
            received += len(chunk)
            if limit is not None and received > limit:
                raise body_too_large(limit)
            if chunk:
                yield chunk
        yield b""

    async def body(self) -> bytes:
        """The whole body (read once, then cached), within ``max_body_size``."""
        if self._body is None and not self._body_already_read():
            self._mark_consumed()
            try:
                self._body = await read_body(
                    self._receive, self.scope["headers"], self.max_body_size
                )
            except ClientDisconnect:
                self._disconnected = True
                raise
            remember_body(self.scope, self._receive, self._body)
        return self._body  # type: ignore[return-value]

    async def json(self) -> Any:
        if self._json is None:
            body = await self.body()
            try:
                self._json = msgspec.json.decode(body)
            except (msgspec.DecodeError, ValueError, RecursionError) as exc:
                raise HTTPException(400, f"Malformed JSON body: {exc}") from exc
        return self._json

    async def form(
        self,
        *,
        max_files: int = 1000,
        max_fields: int = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        """The parsed urlencoded or multipart body (other content types give an empty form).

        Uploaded files are spooled to disk past 1 MiB and deleted when the request ends.
        """
        if self._form is None:
            from FasterAPI._forms import FormLimits, parse_multipart, parse_urlencoded

            limits = FormLimits(
                max_fields=max_fields, max_files=max_files, max_part_size=max_part_size
            )
            content_type = self.headers.get("content-type", "")
            media = content_type.split(";", 1)[0].strip().lower()
            if media == "multipart/form-data":
                self._form = await parse_multipart(
                    content_type.encode("latin-1"), self.stream(), limits
                )
            elif media == "application/x-www-form-urlencoded":
                self._form = parse_urlencoded(await self.body(), limits)
            else:
                self._form = FormData()
        return self._form

    async def close(self) -> None:
        """Release what the request holds (uploaded temporary files)."""
        if self._form is not None:
            await self._form.close()

    async def is_disconnected(self) -> bool:
        """True once the client has gone; checks for a pending message without blocking."""
        if self._disconnected:
            return True
        import anyio

        with anyio.CancelScope() as scope:
            scope.cancel()
            message = await self._receive()
            if message.get("type") == "http.disconnect":
                self._disconnected = True
        return self._disconnected

    async def send_push_promise(self, path: str) -> None:
        if "http.response.push" in self.scope.get("extensions", {}):
            headers = [(b"host", self.headers.get("host", "").encode("latin-1"))]
            await self._send({"type": "http.response.push", "path": path, "headers": headers})
