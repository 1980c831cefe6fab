"""What the Redis-backed middleware share: a guarded link to Redis and throttled logging.

``RedisLink`` wraps a redis-py asyncio client (or a URL, turned into a client lazily on
the event loop that first uses it) so that a failing Redis never fails a request:

- every call runs under ``timeout`` seconds;
- a failure (connection refused, timeout, error reply) raises ``RedisUnavailable``, is
  logged at most once a second, and makes the link skip Redis for ``cooldown`` seconds,
  so a dead or stalled server costs requests nothing while it is down;
- a client made from a URL belongs to the link: it is closed by ``aclose`` (the
  middleware calls it when the lifespan shuts down). A client passed in stays the
  caller's to close.

redis-py is imported when a link is made, so ``FasterAPI`` imports without it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("FasterAPI")

T = TypeVar("T")


class RedisUnavailable(Exception):
    """Redis failed, timed out, or is being skipped after a recent failure."""


class ThrottledLog:
    """Logs a warning at most once per ``interval`` seconds, counting the ones it drops."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._last = -interval
        self._dropped = 0

    def warning(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            self._dropped += 1
            return
        self._last = now
        if self._dropped:
            message += " (%d similar messages suppressed)"
            args = (*args, self._dropped)
            self._dropped = 0
        logger.warning(message, *args)


def _import_redis() -> Any:
    try:
        import redis.asyncio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Redis support needs redis-py: pip install 'FasterAPI[redis]'") from exc
    return redis


class RedisLink:
    """A Redis client used under a timeout, with fail-fast cool-down and throttled logs."""

    cooldown = 1.0

    def __init__(self, redis: Redis | str, *, timeout: float | None, purpose: str) -> None:
        self._redis = _import_redis()
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds or None")
        self.timeout = timeout
        self.purpose = purpose
        self.errors: tuple[type[BaseException], ...] = (
            self._redis.RedisError,
            OSError,
            TimeoutError,
        )
        self._url = redis if isinstance(redis, str) else ""
        self._given = None if isinstance(redis, str) else redis
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down_until = 0.0
        self._log = ThrottledLog()

    @property
    def owns_client(self) -> bool:
        return self._given is None

    def client(self) -> Redis:
        """The client; one made from the URL is (re)made on the running event loop."""
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # One retry without back-off: replaces a pooled connection Redis dropped.
            retry = self._redis.retry.Retry(self._redis.backoff.NoBackoff(), 1)
            self._client = self._redis.asyncio.Redis.from_url(
                self._url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=retry,
            )
            self._loop = loop
        return self._client

    async def call(self, operation: Callable[[Redis], Awaitable[T]]) -> T:
        """``await operation(client)`` under the timeout; ``RedisUnavailable`` on failure."""
        if self._down_until and time.monotonic() < self._down_until:
            raise RedisUnavailable(f"Redis ({self.purpose}) is cooling down after a failure")
        try:
            with anyio.fail_after(self.timeout):
                result = await operation(self.client())
        except self.errors as exc:
            self._down_until = time.monotonic() + self.cooldown
            self._log.warning(
                "Redis %s failed, serving without it for %.1fs: %r",
                self.purpose,
                self.cooldown,
                exc,
            )
            raise RedisUnavailable(str(exc)) from exc
        self._down_until = 0.0
        return result

    async def aclose(self) -> None:
        """Close a client this link made (only on the loop it was made on)."""
        client, loop = self._client, self._loop
        self._client = self._loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()


async def run_lifespan(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    on_shutdown: Callable[[], Awaitable[None]],
) -> None:
    """Run ``app``'s lifespan unchanged, calling ``on_shutdown`` just before the server is
    told shutdown completed (or failed); its errors are logged, never raised."""

    async def watch(message: Message) -> None:
        if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            try:
                await on_shutdown()
            except Exception:
                logger.exception("Closing the Redis client failed")
        await send(message)

    await app(scope, receive, watch)
