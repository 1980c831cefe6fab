"""Broadcast: publish/subscribe across workers and machines (Redis) or in one process.

    broadcast = Broadcast(os.environ.get("REDIS_URL"), history=1000)  # None: in memory

    await broadcast.publish("items", {"id": 1})

    async with broadcast.subscribe("items") as subscription:
        async for event in subscription:
            print(event.id, event.data)

Messages are anything msgspec encodes as JSON; subscribers get the decoded JSON (a
``Struct`` arrives as a ``dict``) in ``Event(channel, data, id)``, whichever backend is
used, so code tested in one process behaves the same behind Redis. Each process decodes a
message once and hands the same object to all its subscribers: treat it as read-only.

``subscribe`` returns a ``Subscription``; once ``async with`` has entered it, every
message published afterwards reaches it (with Redis: the SUBSCRIBE was confirmed).
``async for event in broadcast.subscribe(channel)`` works too; the ``async with`` form
unsubscribes at a known point. A subscriber that falls ``max_queue`` messages behind is
dropped: its iterator raises ``SlowSubscriber`` (an SSE client then reconnects and
replays what it missed from the history).

A broadcast serves one event loop at a time, as a server process has: used from a new
loop (a second ``TestClient`` not entered with ``with``, say), it ends the subscriptions
made on the previous one.

Backends:

- ``Broadcast()`` / ``Broadcast(None)``: in memory, this process only.
- ``Broadcast("redis://host:6379/0")`` or a ``redis.asyncio.Redis`` client: Redis
  pub/sub, one connection per process for all channels. When Redis goes away the
  subscriptions stay; the backend reconnects (with back-off) and subscribes again, and
  meanwhile ``publish`` delivers to this process's subscribers only, never raising.
- ``Broadcast(RedisBroadcastBackend(url, history=..., key_prefix=..., timeout=...))``
  for the Redis backend's other options; or any ``BroadcastBackend``.

With ``history=N`` the last N events of each channel are kept (a Redis stream,
``XADD ... MAXLEN N``) and every event gets an ``id``; ``replay(channel, after=id)``
returns the ones after ``id``: ``Last-Event-ID`` for server-sent events
(``FasterAPI.sse_broadcast.channel_events``). Websocket rooms over a channel:
``FasterAPI.websocket_room.Room``. Broadcast runs on asyncio.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import anyio
import msgspec

from FasterAPI._broadcast_memory import MemoryBroadcastBackend

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from FasterAPI._broadcast_redis import RedisBroadcastBackend

__all__ = [
    "Broadcast",
    "BroadcastBackend",
    "Deliver",
    "Event",
    "MemoryBroadcastBackend",
    "RedisBroadcastBackend",
    "SlowSubscriber",
    "Subscription",
    "event_id_key",
]

logger = logging.getLogger("FasterAPI")

Deliver = Callable[[str, "str | None", bytes], None]
"""``deliver(channel, event_id, payload)``: hands a published message to the subscribers
of this process (``payload`` is the message as JSON)."""

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()
_CLOSED: Any = object()
_OVERFLOW: Any = object()


class Event(NamedTuple):
    channel: str
    data: Any
    id: str | None = None  # set when the backend keeps a history


class SlowSubscriber(Exception):
    """The subscriber fell ``max_queue`` messages behind and was dropped."""


def event_id_key(event_id: str) -> tuple[int, int] | None:
    """``"1700000000000-3"`` -> ``(1700000000000, 3)``, for ordering ids; None if invalid."""
    first, _, second = event_id.partition("-")
    if not first.isdigit() or not (second.isdigit() or not second) or len(event_id) > 41:
        return None
    return int(first), int(second or 0)


class BroadcastBackend(Protocol):
    """Moves JSON payloads between processes; ``Broadcast`` does the local fan-out."""

    history: int

    def bind(self, deliver: Deliver) -> None:
        """Called once by the ``Broadcast``: where incoming messages go."""
        ...

    async def subscribe(self, channel: str) -> None:
        """Start receiving ``channel``; returns once later messages will arrive (or, when
        the server is unreachable, at once: the backend subscribes when it is back)."""
        ...

    async def unsubscribe(self, channel: str) -> None: ...

    async def publish(self, channel: str, payload: bytes) -> None:
        """Send to every subscriber (this process's included, through ``deliver``); when
        the server is unreachable, deliver to this process only. Never raises for that."""
        ...

    async def replay(self, channel: str, after: str) -> list[tuple[str, bytes]]:
        """``(id, payload)`` of the kept events after ``after``, oldest first."""
        ...

    async def ping(self) -> bool:
        """Whether the backend's server answers (and it is listening)."""
        ...

    async def aclose(self) -> None: ...


class Subscription:
    """Events of one channel, in order; see the module docstring."""

    def __init__(self, broadcast: Broadcast, channel: str, max_queue: int) -> None:
        self.broadcast = broadcast
        self.channel = channel
        self._queue: asyncio.Queue[Any] = asyncio.Queue(max_queue)
        self.active = False

    async def __aenter__(self) -> Subscription:
        if self.active:
            raise RuntimeError("This subscription is already active")
        await self.broadcast._join(self)
        self.active = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.active:
            self.active = False
            await self.broadcast._leave(self)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        if self.active:
            while (event := await self._next()) is not None:
                yield event
            return
        async with self:
            while (event := await self._next()) is not None:
                yield event

    async def get(self) -> Event:
        """The next event; ``StopAsyncIteration`` once the broadcast is closed."""
        event = await self._next()
        if event is None:
            raise StopAsyncIteration
        return event

    async def _next(self) -> Event | None:
        item = await self._queue.get()
        if item is _CLOSED:
            self._queue.put_nowait(_CLOSED)  # every later call ends too
            return None
        if item is _OVERFLOW:
            raise SlowSubscriber(f"Subscriber of {self.channel!r} fell too far behind")
        event: Event = item
        return event

    def _put(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._end(_OVERFLOW)

    def _end(self, marker: Any) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(marker)


class Broadcast:
    """Publish/subscribe over a backend; see the module docstring."""

    def __init__(
        self,
        backend: BroadcastBackend | Redis | str | None = None,
        *,
        history: int = 0,
        max_queue: int = 1000,
    ) -> None:
        if isinstance(history, bool) or not isinstance(history, int) or history < 0:
            raise ValueError("history must be a number of events (0 for none)")
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.backend: BroadcastBackend = self._make_backend(backend, history)
        self.max_queue = max_queue
        self.backend.bind(self._deliver)
        self._subscribers: dict[str, set[Subscription]] = {}
        self._subscribed: set[str] = set()  # channels the backend is subscribed to
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    @staticmethod
    def _make_backend(backend: Any, history: int) -> BroadcastBackend:
        if backend is None or backend == "memory://":
            return MemoryBroadcastBackend(history=history)
        if isinstance(backend, str) or hasattr(backend, "pubsub"):
            from FasterAPI._broadcast_redis import RedisBroadcastBackend

            return RedisBroadcastBackend(backend, history=history)
        if history:
            raise ValueError("Pass history to the backend you made, not to Broadcast")
        if not all(hasattr(backend, name) for name in ("bind", "publish", "subscribe")):
            raise TypeError("backend must be None, a Redis URL or client, or a BroadcastBackend")
        made: BroadcastBackend = backend
        return made

    @property
    def history(self) -> int:
        return self.backend.history

    def subscribe(self, channel: str) -> Subscription:
        _check_channel(channel)
        return Subscription(self, channel, self.max_queue)

    async def publish(self, channel: str, message: Any) -> None:
        """Send ``message`` (JSON-encodable) to every subscriber of ``channel``."""
        _check_channel(channel)
        try:
            payload = _encoder.encode(message)
        except (TypeError, msgspec.EncodeError) as exc:
            raise TypeError(f"Broadcast messages must be JSON-serialisable: {exc}") from exc
        self._check_loop()
        await self.backend.publish(channel, payload)

    async def replay(self, channel: str, after: str) -> list[Event]:
        """The kept events of ``channel`` published after the one with id ``after``."""
        _check_channel(channel)
        if not self.history or event_id_key(after) is None:
            return []
        events = []
        for event_id, payload in await self.backend.replay(channel, after):
            event = self._decode(channel, event_id, payload)
            if event is not None:
                events.append(event)
        return events

    async def ping(self) -> bool:
        """Whether the backend is up (always True in memory)."""
        return await self.backend.ping()

    async def aclose(self) -> None:
        """End every subscription and close the backend; the broadcast may be used again
        afterwards (it starts afresh)."""
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription._end(_CLOSED)
        self._subscribers.clear()
        self._subscribed.clear()
        await self.backend.aclose()

    async def __aenter__(self) -> Broadcast:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- local fan-out ---------------------------------------------------------------

    def _check_loop(self) -> asyncio.Lock:
        """The lock for this event loop. A broadcast serves one loop at a time (a server
        process has one); on a new loop the old loop's subscriptions are ended."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            old_loop, old = self._loop, [s for subs in self._subscribers.values() for s in subs]
            if old and old_loop is not None and not old_loop.is_closed():
                old_loop.call_soon_threadsafe(_end_all, old)
            self._subscribers.clear()
            self._subscribed.clear()
            self._loop, self._lock = loop, asyncio.Lock()
        return self._lock

    async def _join(self, subscription: Subscription) -> None:
        self._check_loop()
        self._subscribers.setdefault(subscription.channel, set()).add(subscription)
        try:
            await self._sync(subscription.channel)
        except BaseException:
            await self._leave(subscription)
            raise

    async def _leave(self, subscription: Subscription) -> None:
        channel = subscription.channel
        subscribers = self._subscribers.get(channel)
        if subscribers is None or subscription not in subscribers:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._subscribers[channel]
            # Runs in cleanup, often inside a cancelled scope (a client went away).
            with anyio.CancelScope(shield=True):
                await self._sync(channel)

    async def _sync(self, channel: str) -> None:
        """Make the backend's subscription to ``channel`` match whether anyone here wants
        it; changes reach the backend one at a time, in order."""
        async with self._check_loop():
            wanted = channel in self._subscribers
            if wanted and channel not in self._subscribed:
                self._subscribed.add(channel)  # first, so a cancelled subscribe is undone
                await self.backend.subscribe(channel)
            elif not wanted and channel in self._subscribed:
                self._subscribed.discard(channel)
                await self.backend.unsubscribe(channel)

    def _deliver(self, channel: str, event_id: str | None, payload: bytes) -> None:
        subscribers = self._subscribers.get(channel)
        if not subscribers:
            return
        event = self._decode(channel, event_id, payload)
        if event is not None:
            for subscription in list(subscribers):
                subscription._put(event)

    @staticmethod
    def _decode(channel: str, event_id: str | None, payload: bytes) -> Event | None:
        try:
            return Event(channel, _decoder.decode(payload), event_id)
        except msgspec.DecodeError:
            logger.warning("Dropped a broadcast message on %r that is not JSON", channel)
            return None


def __getattr__(name: str) -> Any:
    if name == "RedisBroadcastBackend":  # imported on use: it needs redis-py
        from FasterAPI._broadcast_redis import RedisBroadcastBackend

        return RedisBroadcastBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _end_all(subscriptions: list[Subscription]) -> None:
    for subscription in subscriptions:
        subscription._end(_CLOSED)


def _check_channel(channel: str) -> None:
    if not isinstance(channel, str) or not channel:
        raise ValueError("channel must be a non-empty string")
