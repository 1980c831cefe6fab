"""The Redis broadcast backend: pub/sub for delivery, a bounded stream per channel for
history, and a listener that outlives Redis restarts.

Each process keeps one pub/sub connection for all its channels, read by one listener
task (started on first use, on the running loop). The listener also subscribes to a
control channel (always last in its SUBSCRIBE, so its confirmation means the whole batch
is live), and PINGs when the connection has been quiet for ``health_interval`` seconds: a
PING left unanswered for as long again, or any connection error, makes it drop the
connection and reconnect with back-off (``reconnect_delay``: first and longest pause),
subscribing again to every channel this process still wants. Subscribers never notice,
except that messages published while the connection was down are missed (replay them
from the history).

On the wire, a message is ``<id>\\n<json>`` (the id empty without history). With history,
a Lua script does ``XADD key MAXLEN N * d <json>``, sets the key's expiry, and
publishes with the id the stream gave, atomically, so ids on the wire and in the stream
agree.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import anyio

from FasterAPI.broadcast import Deliver, event_id_key
from FasterAPI.middleware._redis import RedisLink, RedisUnavailable, ThrottledLog, logger

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

__all__ = ["RedisBroadcastBackend"]

# KEYS[1]: the stream. ARGV: max length, expiry (ms, 0 for none), pub/sub channel, payload.
_PUBLISH_LUA = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'd', ARGV[4])
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
redis.call('PUBLISH', ARGV[3], id .. '\\n' .. ARGV[4])
return id
"""


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def _nothing(channel: str, event_id: str | None, payload: bytes) -> None:
    return None


class RedisBroadcastBackend:
    """Broadcast through Redis; see the module docstring.

    ``redis`` is a URL (the client is made on the running loop and closed by ``aclose``)
    or a ``redis.asyncio.Redis`` client (yours to close). Commands other than the
    listener's reads run under ``timeout`` seconds; after a failure Redis is left alone
    for ``RedisLink.cooldown`` and publishing is local meanwhile. History streams expire
    ``history_ttl`` seconds after their last event (None: never).
    """

    def __init__(
        self,
        redis: Redis | str,
        *,
        history: int = 0,
        history_ttl: float | None = 24 * 60 * 60,
        key_prefix: str = "fasterapi:broadcast:",
        timeout: float | None = 0.5,
        health_interval: float = 5.0,
        reconnect_delay: tuple[float, float] = (0.05, 2.0),
    ) -> None:
        if history < 0:
            raise ValueError("history must be >= 0")
        if history_ttl is not None and history_ttl <= 0:
            raise ValueError("history_ttl must be a positive number of seconds or None")
        if health_interval <= 0 or not 0 < reconnect_delay[0] <= reconnect_delay[1]:
            raise ValueError("health_interval and reconnect_delay must be positive")
        self.link = RedisLink(redis, timeout=timeout, purpose="broadcast")
        self.history = history
        self.history_ms = 0 if history_ttl is None else max(1, round(history_ttl * 1000))
        self.key_prefix = key_prefix
        self.health_interval = health_interval
        self.reconnect_delay = reconnect_delay
        self._control = f"{key_prefix}\x00control"
        self._deliver: Deliver = _nothing
        self._channels: set[str] = set()  # what this process wants
        self._confirmed: set[str] = set()  # what the current connection has confirmed
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._connected = False  # the control channel's SUBSCRIBE is confirmed
        self._failed = False  # the last connection attempt failed: do not wait for one
        self._was_connected = False
        self._script: Any = None
        self._log = ThrottledLog(interval=5.0)

    @property
    def connected(self) -> bool:
        """The listener is connected and subscribed."""
        return self._connected and self._pubsub is not None

    def bind(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def channel_key(self, channel: str) -> str:
        return self.key_prefix + channel

    def stream_key(self, channel: str) -> str:
        return f"{self.key_prefix}history:{channel}"

    # -- subscribing ---------------------------------------------------------------

    async def subscribe(self, channel: str) -> None:
        self._ensure_listener()
        self._channels.add(channel)
        if self._failed:
            return  # Redis is down: the listener subscribes when it is back
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        try:
            with anyio.move_on_after(self.link.timeout):
                pubsub = self._pubsub
                if pubsub is not None:  # else the listener's next SUBSCRIBE includes it
                    await pubsub.subscribe(self.channel_key(channel))
                await waiter
        except self.link.errors:
            pass  # the listener sees the broken connection too, and resubscribes
        finally:
            waiters = self._waiters.get(channel, [])
            if waiter in waiters:
                waiters.remove(waiter)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        self._confirmed.discard(channel)
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            with anyio.move_on_after(self.link.timeout):
                await pubsub.unsubscribe(self.channel_key(channel))
        except self.link.errors:
            pass

    def _ensure_listener(self) -> None:
        task = self._listener
        loop = asyncio.get_running_loop()
        if task is not None and not task.done() and task.get_loop() is loop:
            return
        if task is not None and task.get_loop() is not loop:  # a new loop: start afresh
            self._channels.clear()
            self._waiters.clear()
        self._confirmed.clear()
        self._pubsub = None
        self._connected = self._failed = False
        self._listener = loop.create_task(self._listen(), name="FasterAPI broadcast listener")

    async def _listen(self) -> None:
        first, longest = self.reconnect_delay
        delay = first
        while True:
            self._was_connected = False
            try:
                await self._connect_and_read()
            except self.link.errors as exc:
                error: BaseException = exc
            except Exception as exc:  # a bug must not end the listener silently
                logger.exception("Redis broadcast listener failed")
                error = exc
            if self._was_connected:
                delay = first
                logger.warning("Redis broadcast connection lost, reconnecting: %r", error)
            else:
                self._log.warning("Redis broadcast unreachable, retrying: %r", error)
            self._failed = True  # until a connection is back, subscribers do not wait
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)

    async def _connect_and_read(self) -> None:
        pubsub = self.link.client().pubsub()
        try:
            wanted = set(self._channels)
            keys = [self.channel_key(channel) for channel in wanted]
            with anyio.fail_after(self.link.timeout):
                await pubsub.subscribe(*keys, self._control)
            self._pubsub = pubsub
            missed = self._channels - wanted  # asked for while we were subscribing
            if missed:
                await pubsub.subscribe(*(self.channel_key(channel) for channel in missed))
            await self._read(pubsub)
        finally:
            self._pubsub = None
            self._connected = False
            self._confirmed.clear()
            with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                try:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                except self.link.errors:
                    pass

    async def _read(self, pubsub: PubSub) -> None:
        pinged = False
        prefix = len(self.key_prefix)
        while True:
            message = await pubsub.get_message(timeout=self.health_interval)
            if message is None:
                if pinged:
                    raise TimeoutError(f"No answer to PING within {self.health_interval}s")
                await pubsub.ping()
                pinged = True
                continue
            kind = message["type"]
            if kind == "message":
                channel = _text(message["channel"])[prefix:]
                data = message["data"]
                raw = data if isinstance(data, bytes) else str(data).encode()
                event_id, _, payload = raw.partition(b"\n")
                self._deliver(channel, event_id.decode("ascii", "replace") or None, payload)
            elif kind == "pong":
                pinged = False
            elif kind == "subscribe":
                self._confirm(_text(message["channel"]))

    def _confirm(self, key: str) -> None:
        if key == self._control:
            self._was_connected = True
            self._failed = False
            self._connected = True
            return
        channel = key[len(self.key_prefix) :]
        self._confirmed.add(channel)
        for waiter in self._waiters.pop(channel, []):
            if not waiter.done():
                waiter.set_result(None)

    # -- publishing ------------------------------------------------------------------

    async def publish(self, channel: str, payload: bytes) -> None:
        try:
            if self.history:
                await self.link.call(lambda client: self._publish_kept(client, channel, payload))
            else:
                message = b"\n" + payload
                key = self.channel_key(channel)
                await self.link.call(lambda client: client.publish(key, message))
        except RedisUnavailable:
            self._deliver(channel, None, payload)  # this process's subscribers only

    async def _publish_kept(self, client: Redis, channel: str, payload: bytes) -> Any:
        script = self._script
        if script is None or script.registered_client is not client:
            script = self._script = client.register_script(_PUBLISH_LUA)
        keys = [self.stream_key(channel)]
        args = [self.history, self.history_ms, self.channel_key(channel), payload]
        return await script(keys=keys, args=args)

    async def replay(self, channel: str, after: str) -> list[tuple[str, bytes]]:
        if not self.history or event_id_key(after) is None:
            return []
        key, start = self.stream_key(channel), f"({after}"
        try:
            entries = await self.link.call(
                lambda client: client.xrange(key, min=start, count=self.history)
            )
        except RedisUnavailable:
            return []
        replayed = []
        for event_id, fields in entries or ():
            payload = (fields or {}).get(b"d") or (fields or {}).get("d")
            if event_id is not None and payload is not None:
                raw = payload if isinstance(payload, bytes) else payload.encode()
                replayed.append((_text(event_id), raw))
        return replayed

    async def ping(self) -> bool:
        try:
            await self.link.call(lambda client: client.ping())
        except RedisUnavailable:
            return False
        return self.connected or not self._channels

    async def aclose(self) -> None:
        task, self._listener = self._listener, None
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            await asyncio.wait([task], timeout=2)
        self._channels.clear()
        self._confirmed.clear()
        self._failed = False
        await self.link.aclose()
