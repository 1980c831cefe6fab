"""Granian's RSGI protocol on top of the app's ASGI core.

Routing, parameter binding and responses are shared with the ASGI path: an RSGI call
gets an ASGI-shaped scope and ``receive``/``send`` callables that speak directly to the
RSGI protocol object. A fixed body goes out with one ``response_bytes`` call, a stream
through ``response_stream``, a whole file through ``response_file`` (offered as the ASGI
``http.response.pathsend`` extension; ``FileResponse`` itself calls ``response_bytes``,
``response_file`` or ``response_file_range`` when nothing wraps ``send``), and
disconnects come from ``client_disconnect()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from FasterAPI._types import Message, Scope
from FasterAPI.exceptions import ClientDisconnect

ASGICallable = Callable[[Scope, Any, Any], Awaitable[None]]

_WHOLE_BODY_LIMIT = 1024 * 1024


def str_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """ASGI's byte-string header pairs as the ``str`` pairs RSGI takes."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]


async def _next_chunk(chunks: AsyncIterator[bytes]) -> bytes | None:
    # Not anext(chunks, None): Granian's iterator aborts the worker when wrapped that way.
    try:
        return await anext(chunks)
    except StopAsyncIteration:
        return None


class BrokenBody(Exception):
    """The server ended a request body that was not complete."""


class HTTPBridge:
    """``receive``/``send`` for one RSGI HTTP request."""

    __slots__ = (
        "chunks",
        "done",
        "header_map",
        "headers",
        "protocol",
        "scope",
        "status",
        "transport",
    )

    def __init__(self, protocol: Any, scope: Any) -> None:
        self.protocol = protocol
        self.scope = scope
        # Granian builds a new map at every ``scope.headers``: the ASGI scope shares this one.
        self.header_map = scope.headers
        self.status = 200
        self.headers: list[tuple[str, str]] = []
        self.transport: Any = None
        self.chunks: AsyncIterator[bytes] | None = None
        self.done = False

    async def receive(self) -> Message:
        try:
            chunk, more = await self.read_chunk()
        except ClientDisconnect:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunk, "more_body": more}

    async def read_chunk(self) -> tuple[bytes, bool]:
        """``receive`` without the message: the next piece of the body and whether more
        follows; ``ClientDisconnect`` once the client has gone (after the whole body, when
        it goes)."""
        if not self.done:
            try:
                return await self._read()
            except Exception as exc:
                # Granian raises its protocol errors when the client goes away mid-body
                # (or sends a broken one): for the app that is a disconnect.
                self.done = True
                raise ClientDisconnect() from exc
        await self.protocol.client_disconnect()
        raise ClientDisconnect()

    async def read_declared(self, length: int) -> bytes | None:
        """PERF: a body of modest declared length with one await; None: stream it instead."""
        if length > _WHOLE_BODY_LIMIT or self.chunks is not None or self.done:
            return None
        self.done = True
        try:
            return bytes(await self.protocol())
        except Exception as exc:  # the client left, or sent less than it declared
            raise ClientDisconnect() from exc

    async def _read(self) -> tuple[bytes, bool]:
        if self.chunks is None:
            # PERF: a body of known, modest size is read with one ``await protocol()``.
            declared = self.header_map.get("content-length")
            if declared is not None and declared.isdigit():
                body = await self.read_declared(int(declared))
                if body is not None:
                    return body, False
            self.chunks = aiter(self.protocol)
        chunk = await _next_chunk(self.chunks)
        while chunk is not None and not chunk:
            # Granian's body iterator hands out an empty chunk for the end of the body,
            # and also for a body error (broken chunked framing, a connection closed
            # early) or a trailer section; only the end is followed by the iterator's
            # own end. HTTP/1.1 has no empty data chunks, so there the others are
            # refused (HTTP/2 may send empty DATA frames: they are skipped).
            chunk = await _next_chunk(self.chunks)
            if chunk is not None and self.scope.http_version.startswith("1"):
                raise BrokenBody()
        if chunk is None:
            self.done = True
            return b"", False
        return bytes(chunk), True

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            body = message.get("body", b"")
            if self.transport is None:
                if not message.get("more_body", False):
                    self.protocol.response_bytes(self.status, self.headers, bytes(body))
                    return
                self.transport = self.protocol.response_stream(self.status, self.headers)
            if body:
                try:
                    await self.transport.send_bytes(bytes(body))
                except Exception as exc:
                    # The connection is gone: an OSError, as ASGI's send raises then.
                    raise OSError("The client closed the connection") from exc
        elif kind == "http.response.start":
            self.status = status = message["status"]
            raw = message.get("headers", ())
            self.headers = str_headers(raw)
            if status >= 200 and status not in (204, 304):
                for name, _ in raw:
                    if name == b"content-length":
                        return
                # No length: a stream (SSE, say). Send the headers now, not at the first
                # chunk, which may be a long way off.
                self.transport = self.protocol.response_stream(status, self.headers)
        elif kind == "http.response.pathsend":
            self.protocol.response_file(self.status, self.headers, str(message["path"]))


class WebSocketBridge:
    """``receive``/``send`` for one RSGI websocket connection."""

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.transport: Any = None
        self.connected = False
        self.closed = False

    async def receive(self) -> Message:
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        if self.transport is None or self.closed:
            return {"type": "websocket.disconnect", "code": 1006}
        try:
            message = await self.transport.receive()
        except RuntimeError:  # Granian's RSGIProtocolClosed: the connection dropped
            self.closed = True
            return {"type": "websocket.disconnect", "code": 1006}
        kind = int(message.kind)
        if kind == 1:
            return {"type": "websocket.receive", "bytes": bytes(message.data), "text": None}
        if kind == 2:
            return {"type": "websocket.receive", "text": str(message.data), "bytes": None}
        self.closed = True
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.transport = await self.protocol.accept()
        elif kind == "websocket.send":
            text = message.get("text")
            try:
                if text is not None:
                    await self.transport.send_str(text)
                else:
                    await self.transport.send_bytes(bytes(message.get("bytes") or b""))
            except RuntimeError as exc:  # Granian's RSGIProtocolClosed
                # As ASGI servers do: a send on a closed connection raises an OSError.
                self.closed = True
                raise ConnectionResetError("the websocket connection is closed") from exc
        elif kind == "websocket.close":
            self.closed = True
            # Before the handshake completes RSGI takes an HTTP status, not a close code.
            self.protocol.close(message.get("code", 1000) if self.transport is not None else 403)

    def finish(self) -> None:
        if not self.closed:
            self.closed = True
            self.protocol.close(1000 if self.transport is not None else 500)


class LoopLifespan:
    """Runs the app's ASGI lifespan inside the loop Granian hands to ``__rsgi_init__``."""

    def __init__(self, app: ASGICallable, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self.state: dict[str, Any] = {}
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        try:
            await self.app(scope, self.inbox.get, self.outbox.put)
        except BaseException as exc:
            await self.outbox.put({"type": "lifespan.crashed", "message": repr(exc)})
            raise

    async def _exchange(self, message: Message, phase: str) -> None:
        if self.task is None:
            self.task = self.loop.create_task(self._run())
        await self.inbox.put(message)
        answer = await self.outbox.get()
        if answer["type"] != f"lifespan.{phase}.complete":
            raise RuntimeError(f"Application {phase} failed: {answer.get('message', '')}")

    def startup(self) -> None:
        self.loop.run_until_complete(self._exchange({"type": "lifespan.startup"}, "startup"))

    def shutdown(self) -> None:
        self.loop.run_until_complete(self._exchange({"type": "lifespan.shutdown"}, "shutdown"))
