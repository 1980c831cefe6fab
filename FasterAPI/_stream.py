"""StreamingResponse: send chunks as an iterator produces them; stop when the client leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from types import AsyncGeneratorType
from typing import Any, Union, cast

import anyio
import anyio.abc
import anyio.lowlevel

from FasterAPI._rsgi import str_headers
from FasterAPI._rsgi_scope import RSGI_BRIDGE
from FasterAPI._types import Message, Receive, Scope, Send
from FasterAPI.background import BackgroundTask
from FasterAPI.concurrency import iterate_in_threadpool, run_in_threadpool
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
        if type(content) is not AsyncGeneratorType and (
            isinstance(content, (str, bytes, bytearray, memoryview))
            or not isinstance(content, (AsyncIterable, Iterable))
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
        bridge = scope.get(RSGI_BRIDGE)
        if bridge is not None and (task := self._native_rsgi_task(scope)) is not None:
            await self._stream_rsgi(bridge.protocol, task, receive)
            return
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

    def _native_rsgi_task(self, scope: Scope) -> asyncio.Task[Any] | None:
        """The running task when this stream may talk to the RSGI protocol directly."""
        if (
            scope.get("method") == "HEAD"
            or not status_allows_body(self.status_code)
            or not (
                type(self.content) is AsyncGeneratorType or isinstance(self.content, AsyncIterable)
            )
            or not self._plain_chunks
        ):
            return None
        return _running_task()

    async def _stream_rsgi(self, protocol: Any, task: asyncio.Task[Any], receive: Receive) -> None:
        """PERF: on Granian's RSGI each chunk goes straight to the stream transport."""
        transport = protocol.response_stream(self.status_code, str_headers(self.raw_headers))
        chunks = aiter(self.content)  # type: ignore[arg-type]
        completed = await self._stream_on_asyncio(task, chunks, receive, None, transport)
        if completed and self.background is not None:
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
        if source is None and self._plain_chunks and (task := _running_task()) is not None:
            return await self._stream_on_asyncio(task, chunks, receive, send)
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
        return await _finish(failure, client_gone, send)

    @property
    def _plain_chunks(self) -> bool:
        """True when sending chunks needs no helper task, so the asyncio fast path applies."""
        return type(self)._send_chunks is StreamingResponse._send_chunks

    async def _stream_on_asyncio(
        self,
        task: asyncio.Task[Any],
        chunks: AsyncIterator[Any],
        receive: Receive,
        send: Send | None,
        transport: Any = None,
    ) -> bool:
        """``_stream`` for async iterators on asyncio, without a task group.

        PERF: an anyio task group costs ~35 us per response and the per-chunk guard another
        coroutine; here one plain task watches ``receive`` and cancels the streaming task
        when the client leaves (2.6x the throughput of a 100-chunk stream).
        """
        send_message = cast(Send, send)  # None only with an RSGI transport
        watch = _DisconnectWatch(task, receive)
        # PERF: a stream that ends within WATCH_DELAY never needs the watcher task (a short
        # body is sent before a disconnect could matter); a longer one gets it then.
        timer = task.get_loop().call_later(WATCH_DELAY, watch.start)
        render = self._render_chunk
        custom = type(self)._render_chunk is not StreamingResponse._render_chunk
        exhausted = False
        try:
            try:
                async for chunk in chunks:
                    if watch.stopped:
                        break
                    if custom or type(chunk) is not bytes:
                        chunk = render(chunk)
                    if transport is None:
                        await send_message(
                            {"type": "http.response.body", "body": chunk, "more_body": True}
                        )
                        continue
                    try:
                        await transport.send_bytes(chunk)
                    except RuntimeError:  # Granian's RSGIProtocolClosed: the client left
                        watch.client_gone = True
                        break
                else:
                    exhausted = True
            except asyncio.CancelledError:
                if not watch.stopped:
                    raise  # cancelled from outside: not ours to swallow
                watch.consumed = True
                _uncancel(task)
            except OSError:
                watch.client_gone = True
        finally:
            timer.cancel()
            watch.stop()
            await watch.absorb_cancellation()
            if not exhausted:  # an exhausted generator has already run its cleanup
                with anyio.CancelScope(shield=True):
                    await _close(chunks, None)
        failure, watch.failure = watch.failure, None
        if send is None:  # RSGI: the stream ends when the app returns
            if failure is not None:
                raise failure
            return not watch.client_gone
        return await _finish(failure, watch.client_gone, send)

    async def _send_chunks(
        self, chunks: AsyncIterator[Any], send: Send, group: anyio.abc.TaskGroup
    ) -> None:
        """Send every chunk with ``more_body``; ``group`` is cancelled when the client leaves."""
        render = self._render_chunk
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": render(chunk), "more_body": True})


async def _finish(failure: BaseException | None, client_gone: bool, send: Send) -> bool:
    """Raise what stopped the stream, or send the final message; True if the body completed."""
    if failure is not None:
        raise failure
    if client_gone:
        return False
    try:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except OSError:
        return False
    return True


def _running_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # not on asyncio (trio): the anyio path serves
        return None


def _uncancel(task: asyncio.Task[Any]) -> None:
    uncancel = getattr(task, "uncancel", None)  # Python 3.11+
    if uncancel is not None:
        uncancel()


WATCH_DELAY = 0.05
"""Seconds a stream runs before a task starts watching for the client's disconnect."""


class _DisconnectWatch:
    """Reads ``receive`` until the client leaves, then cancels the streaming task once."""

    __slots__ = (
        "cancel_sent",
        "client_gone",
        "consumed",
        "failure",
        "receive",
        "stopped",
        "task",
        "watcher",
    )

    def __init__(self, task: asyncio.Task[Any], receive: Receive) -> None:
        self.task = task
        self.receive = receive
        self.client_gone = False
        self.failure: BaseException | None = None
        self.cancel_sent = False
        self.consumed = False
        self.stopped = False
        self.watcher: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.watcher = asyncio.get_running_loop().create_task(self.run())

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.cancel()

    async def run(self) -> None:
        try:
            while (await self.receive())["type"] != "http.disconnect":
                pass
            self.client_gone = True
        except asyncio.CancelledError:
            return
        except Exception as exc:
            self.failure = exc
        self.stopped = True
        self.cancel_sent = True
        self.task.cancel()

    async def absorb_cancellation(self) -> None:
        """A cancel sent after the stream already ended must not hit later awaits."""
        if self.cancel_sent and not self.consumed:
            self.consumed = True
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                _uncancel(self.task)


async def _close(chunks: AsyncIterator[Any], source: Iterator[Any] | None) -> None:
    """Close the iterators now, so a generator's ``finally`` runs now, not at collection."""
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
    close = getattr(source, "close", None)
    if close is not None:
        # A sync generator's cleanup may block, like its body: run it in the thread pool.
        await run_in_threadpool(close)
