"""StreamingResponse: send chunks as an iterator produces them; stop when the client leaves."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any, Union

import anyio

from FasterAPI._types import Receive, Scope, Send
from FasterAPI.background import BackgroundTask
from FasterAPI.concurrency import iterate_in_threadpool
from FasterAPI.response import Response, build_raw_headers, status_allows_body

Content = Union[str, bytes, bytearray, memoryview]
ContentStream = Union[AsyncIterable[Content], Iterable[Content]]


class StreamingResponse(Response):
    """Body from an async or sync iterator of ``str``/``bytes`` chunks, sent as produced.

    Sync iterators are advanced in the thread pool. A task watches ``receive()`` for
    ``http.disconnect``: servers may silently drop sends after the client leaves, so only
    ``receive`` tells. On disconnect iteration stops and the iterator is closed.
    """

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = b""
        self.content = content
        self.raw_headers = build_raw_headers(headers, self.media_type, self.charset, None)

    def _chunks(self) -> AsyncIterator[Content]:
        content = self.content
        if isinstance(content, AsyncIterable):
            return aiter(content)
        return iterate_in_threadpool(iter(content))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if scope.get("method") == "HEAD" or not status_allows_body(self.status_code):
            await send({"type": "http.response.body", "body": b""})
            await _close(self.content)
        else:
            disconnected = await self._stream_until_disconnect(receive, send)
            if disconnected:
                return
        if self.background is not None:
            await self.background()

    async def _stream_until_disconnect(self, receive: Receive, send: Send) -> bool:
        disconnected = False

        async def watch_disconnect(scope: anyio.CancelScope) -> None:
            nonlocal disconnected
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                    scope.cancel()
                    return

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(watch_disconnect, group.cancel_scope)
                await self._send_chunks(send)
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await _close(self.content)
        return disconnected

    async def _send_chunks(self, send: Send) -> None:
        charset = self.charset
        async for chunk in self._chunks():
            if isinstance(chunk, str):
                chunk = chunk.encode(charset)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _close(content: Any) -> None:
    """Finalise a generator so its ``finally`` blocks run now, not at garbage collection."""
    aclose = getattr(content, "aclose", None)
    if aclose is not None and inspect.isasyncgen(content):
        await aclose()
        return
    close = getattr(content, "close", None)
    if close is not None and inspect.isgenerator(content):
        close()
