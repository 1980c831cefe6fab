"""Server-sent events fed from a ``Broadcast`` channel, resuming with ``Last-Event-ID``.

    broadcast = Broadcast(os.environ.get("REDIS_URL"), history=1000)

    @app.get("/events")
    async def events(last_event_id: Annotated[str | None, Header()] = None):
        return channel_events(broadcast, "items", last_event_id=last_event_id)

Each event's ``id`` is the broadcast event id, so a browser that reconnects sends the
last one it saw as ``Last-Event-ID`` and gets what it missed from the channel's history
(when the broadcast keeps one), then the live events, with none twice: the stream
subscribes first, then replays, then skips live events the replay already sent.

The first bytes are a ``: subscribed`` comment (with ``retry``, when given, telling the
browser how many milliseconds to wait before reconnecting): from then on, nothing
published on the channel is missed. A client too slow to keep up is disconnected
(``SlowSubscriber``); it reconnects and replays.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import msgspec

from FasterAPI.broadcast import Broadcast, Event, SlowSubscriber, event_id_key
from FasterAPI.sse import EventSourceResponse, ServerSentEvent

__all__ = ["channel_events", "channel_stream"]

Render = Callable[[Any], Any]


def _as_event(event: Event, render: Render | None) -> ServerSentEvent:
    rendered = event.data if render is None else render(event.data)
    if not isinstance(rendered, ServerSentEvent):
        return ServerSentEvent(data=rendered, id=event.id)
    if rendered.id is None and event.id is not None:
        return msgspec.structs.replace(rendered, id=event.id)
    return rendered


async def channel_stream(
    broadcast: Broadcast,
    channel: str,
    *,
    last_event_id: str | None = None,
    render: Render | None = None,
    retry: int | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """The events of ``channel`` as ``ServerSentEvent``s: what ``channel_events`` sends.

    ``render(data)`` turns a message into the event's data, or into a whole
    ``ServerSentEvent`` (its ``id`` defaults to the broadcast event id).
    """
    async with broadcast.subscribe(channel) as subscription:
        yield ServerSentEvent(comment="subscribed", retry=retry)
        newest = None
        if last_event_id:
            for event in await broadcast.replay(channel, last_event_id.strip()):
                newest = event_id_key(event.id) if event.id is not None else newest
                yield _as_event(event, render)
        try:
            async for event in subscription:
                if newest is not None and event.id is not None:
                    key = event_id_key(event.id)
                    if key is not None and key <= newest:
                        continue  # already sent by the replay
                yield _as_event(event, render)
        except SlowSubscriber:
            return  # the browser reconnects with Last-Event-ID and catches up


def channel_events(
    broadcast: Broadcast,
    channel: str,
    *,
    last_event_id: str | None = None,
    render: Render | None = None,
    retry: int | None = None,
    ping_interval: float | None = 15.0,
    headers: Mapping[str, str] | None = None,
) -> EventSourceResponse:
    """An ``EventSourceResponse`` streaming ``channel``; see the module docstring."""
    stream = channel_stream(
        broadcast, channel, last_event_id=last_event_id, render=render, retry=retry
    )
    return EventSourceResponse(stream, headers=headers, ping_interval=ping_interval)
