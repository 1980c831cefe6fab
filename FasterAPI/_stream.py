"""StreamingResponse: send chunks as an iterator produces them; stop when the client leaves."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Union

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.to_thread

from FasterAPI._types import Message, Receive, Scope, Send
from FasterAPI.background import BackgroundTask
from FasterAPI.concurrency import iterate_in_threadpool
from FasterAPI.response import Response, build_raw_headers, status_allows_body

Content = Union[str, bytes, bytearray, memoryview]
ContentStream = Union[AsyncIterable[Content], Iterable[Content]]


class StreamingResponse(Response):
    """Body from an async or sync iterator of ``str``/``bytes`` chunks, sent as produced.

    Sync iterators are advanced in the thread pool. A task watches ``receive()`` for
    ``http.disconnect``: servers may silently drop sends after the client leaves, so only
    ``receive`` tells (a send raising ``OSError``, as ASGI 2.4 allows, counts too). When the
    client leaves, iteration stops, nothing more is sent and the background task is skipped.
    The iterator is always closed, so a generator's ``finally`` runs at once.
    """

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if isinstance(content, (str, bytes, bytearray, memoryview)) or not isinstance(
            content, (AsyncIterable, Iterable)
        ):
            raise TypeError(
                f"{type(self).__name__} needs an iterator or async iterator of chunks, "
                f"not {type(content).__name__}; use Response for a fixed body"
            )
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = b""
        self.content = content
        has_body = status_allows_body(status_code)
        self.raw_headers = build_raw_headers(
            headers, self.media_type if has_body else None, self.charset, None
        )

    def _render_chunk(self, chunk: Any) -> Any:
        """Turn one item of the iterator into the bytes of a body message."""
        if isinstance(chunk, str):
            return chunk.encode(self.charset)
        return chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        chunks, source = self._open()
        if scope.get("method") == "HEAD" or not status_allows_body(self.status_code):
            try:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                with anyio.CancelScope(shield=True):
                    await _close(chunks, source)
        elif not await self._stream(chunks, source, receive, send):
            return
        if self.background is not None:
            await self.background()

    def _open(self) -> tuple[AsyncIterator[Any], Iterator[Any] | None]:
        content = self.content
        if isinstance(content, AsyncIterable):
            return aiter(content), None
        source = iter(content)
        return iterate_in_threadpool(source), source

    async def _stream(
        self,
        chunks: AsyncIterator[Any],
        source: Iterator[Any] | None,
        receive: Receive,
        send: Send,
    ) -> bool:
        """Send the body; True if all of it went out, False if the client left first."""
        client_gone = False
        failure: BaseException | None = None

        async def watch_disconnect() -> None:
            nonlocal client_gone, failure
            try:
                while (await receive())["type"] != "http.disconnect":
                    pass
                client_gone = True
            except Exception as exc:
                failure = exc
            group.cancel_scope.cancel()

        async def send_while_connected(message: Message) -> None:
            nonlocal client_gone
            if not client_gone:
                try:
                    await send(message)
                    return
                except OSError:
                    client_gone = True
                    group.cancel_scope.cancel()
            # The scope is cancelled: this raises the cancellation, so nothing more is sent.
            await anyio.lowlevel.checkpoint()

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(watch_disconnect)
                try:
                    await self._send_chunks(chunks, send_while_connected, group)
                except Exception as exc:
                    # Caught here so it propagates as itself, not inside an ExceptionGroup.
                    failure = exc
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await _close(chunks, source)
        if failure is not None:
            try:
                raise failure
            finally:
                failure = None
        if client_gone:
            return False
        try:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            return False
        return True

    async def _send_chunks(
        self, chunks: AsyncIterator[Any], send: Send, group: anyio.abc.TaskGroup
    ) -> None:
        """Send every chunk with ``more_body``; ``group`` is cancelled when the client leaves."""
        render = self._render_chunk
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": render(chunk), "more_body": True})


async def _close(chunks: AsyncIterator[Any], source: Iterator[Any] | None) -> None:
    """Close the iterators now, so a generator's ``finally`` runs now, not at collection."""
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
    close = getattr(source, "close", None)
    if close is not None:
        # A sync generator's cleanup may block, like its body: run it in the thread pool.
        await anyio.to_thread.run_sync(close)
