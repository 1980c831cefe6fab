"""Server-Sent Events: ``EventSourceResponse`` streams ``ServerSentEvent``s to an EventSource.

    @app.get("/events")
    async def events(request: Request) -> EventSourceResponse:
        async def stream():
            yield ServerSentEvent({"n": 1}, event="tick", id="1")
            yield "plain text data"
        return EventSourceResponse(stream(), ping_interval=15)

Browsers reconnect on their own and send the last ``id`` they saw as the
``Last-Event-ID`` request header (``request.headers.get("last-event-id")``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any, Union

import anyio
import anyio.abc
import msgspec

from FasterAPI._stream import StreamingResponse
from FasterAPI._types import Message, Send
from FasterAPI.background import BackgroundTask
from FasterAPI.encoders import fallback

__all__ = ["EventSourceResponse", "ServerSentEvent"]

EventStream = Union[AsyncIterable[Any], Iterable[Any]]

_json_encoder = msgspec.json.Encoder(enc_hook=fallback)
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_DEFAULT_HEADERS = (
    (b"cache-control", b"no-cache"),
    # nginx buffers proxied responses by default, which would hold events back.
    (b"x-accel-buffering", b"no"),
)


class ServerSentEvent(msgspec.Struct, frozen=True):
    """One event. ``data`` is sent as is if ``str``/``bytes``, else as JSON (msgspec).

    Line breaks in ``data`` and ``comment`` become several ``data:``/``:`` lines. An event
    without ``data`` only sets ``event``/``id``/``retry``: browsers dispatch nothing for it.
    """

    data: Any = None
    event: str | None = None
    id: str | int | None = None
    retry: int | None = None
    comment: str | None = None

    def __post_init__(self) -> None:
        event = self.event
        # PERF: a printable str holds no CR, LF or NUL.
        if event is not None and not (type(event) is str and event.isprintable()):
            _check_field("event", event)
        ident = self.id
        # PERF: a plain int id (the common case) needs no text check.
        if ident is not None and type(ident) is not int:
            if isinstance(ident, bool) or not isinstance(ident, (str, int)):
                raise TypeError(f"id must be str or int, not {type(ident).__name__}")
            _check_field("id", str(ident))
        if self.retry is not None:
            if isinstance(self.retry, bool) or not isinstance(self.retry, int):
                raise TypeError(f"retry must be int milliseconds, not {type(self.retry).__name__}")
            if self.retry < 0:
                raise ValueError(f"retry must be >= 0 milliseconds, got {self.retry}")
        if self.comment is not None and not isinstance(self.comment, str):
            raise TypeError(f"comment must be str, not {type(self.comment).__name__}")

    def encode(self) -> bytes:
        """The event on the wire (UTF-8), ending with the blank line that dispatches it."""
        return _encode_event(self)


def _encode_event(sse: ServerSentEvent) -> bytes:
    if sse.comment is None and sse.retry is None:
        # PERF: the usual event (event, id, data), built back to front.
        data, ident, event = sse.data, sse.id, sse.event
        kind = type(data)
        if kind is dict or kind is list:
            wire = b"data: %s\n\n" % _json_encoder.encode(data)
        else:
            wire = b"\n" if data is None else _data_lines(data) + b"\n"
        if ident is not None:
            if type(ident) is int:
                wire = b"id: %d\n%s" % (ident, wire)
            else:
                wire = b"id: %s\n%s" % (str(ident).encode(), wire)
        if event is not None:
            wire = b"event: %s\n%s" % (event.encode(), wire)
        return wire
    parts: list[bytes] = []
    if sse.comment is not None:
        for line in _LINE_BREAK.split(sse.comment.encode()):
            parts.append((b": " + line + b"\n") if line else b":\n")
    if sse.event is not None:
        parts.append(b"event: %s\n" % sse.event.encode())
    if sse.id is not None:
        parts.append(b"id: %s\n" % str(sse.id).encode())
    if sse.retry is not None:
        parts.append(b"retry: %d\n" % sse.retry)
    if sse.data is not None:
        parts.append(_data_lines(sse.data))
    parts.append(b"\n")
    return b"".join(parts)


def _encode_item(item: Any) -> bytes:
    """The wire bytes of one item of an event stream: an event, or the data of one."""
    if type(item) is ServerSentEvent:
        # PERF: the commonest event (JSON data, a name, an int id) is written in this one frame.
        data, ident, event = item.data, item.id, item.event
        if (
            type(data) is dict
            and type(ident) is int
            and event is not None
            and item.comment is None
            and item.retry is None
        ):
            return b"event: %s\nid: %d\ndata: %s\n\n" % (
                event.encode(),
                ident,
                _json_encoder.encode(data),
            )
        return _encode_event(item)
    if isinstance(item, ServerSentEvent):
        return item.encode()  # a subclass may write itself differently
    return _data_lines(item) + b"\n"


def _check_field(name: str, value: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    if "\n" in value or "\r" in value or "\x00" in value:
        raise ValueError(f"SSE {name} must not contain CR, LF or NUL: {value!r}")


def _data_lines(data: Any) -> bytes:
    kind = type(data)
    if kind is dict or kind is list:
        return b"data: %s\n" % _json_encoder.encode(data)
    if isinstance(data, str):
        raw = data.encode()
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        # Compact JSON escapes control characters, so it is always a single line.
        return b"data: " + _json_encoder.encode(data) + b"\n"
    if b"\n" not in raw and b"\r" not in raw:
        return b"data: " + raw + b"\n"
    return b"".join(b"data: " + line + b"\n" for line in _LINE_BREAK.split(raw))


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` of the items an async or sync iterator yields.

    Items are ``ServerSentEvent``s, or the data of an event: ``str``, ``bytes`` (UTF-8) or
    any value msgspec encodes as JSON (dict, list, Struct, ...). With ``ping_interval``
    (seconds), a ``: ping`` comment is sent whenever nothing was sent for that long, so
    proxies keep the connection open. Disconnects are handled as for ``StreamingResponse``.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        content: EventStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        ping_interval: float | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if ping_interval is not None and ping_interval < 0:
            raise ValueError(f"ping_interval must be >= 0 seconds, got {ping_interval}")
        super().__init__(content, status_code, headers, background=background)
        self.ping_interval = ping_interval
        present = {name for name, _ in self.raw_headers}
        self.raw_headers.extend(item for item in _DEFAULT_HEADERS if item[0] not in present)

    @property
    def _plain_chunks(self) -> bool:
        return not self.ping_interval  # pings need a helper task

    # PERF: a plain function, so each item costs one call.
    _render_chunk = staticmethod(_encode_item)  # type: ignore[assignment]

    async def _send_chunks(
        self, chunks: AsyncIterator[Any], send: Send, group: anyio.abc.TaskGroup
    ) -> None:
        interval = self.ping_interval
        if not interval:
            await super()._send_chunks(chunks, send, group)
            return
        lock = anyio.Lock()
        last_sent = anyio.current_time()

        async def send_one(message: Message) -> None:
            nonlocal last_sent
            async with lock:
                await send(message)
                last_sent = anyio.current_time()

        async def keep_alive() -> None:
            nonlocal last_sent
            while True:
                await anyio.sleep(max(0.0, last_sent + interval - anyio.current_time()))
                async with lock:
                    # Checked under the lock: an event may have gone out while we waited.
                    if anyio.current_time() - last_sent >= interval:
                        await send(
                            {"type": "http.response.body", "body": b": ping\n\n", "more_body": True}
                        )
                        last_sent = anyio.current_time()

        # Runs until ``group`` is cancelled, which happens before the body's last message.
        group.start_soon(keep_alive)
        await super()._send_chunks(chunks, send_one, group)
