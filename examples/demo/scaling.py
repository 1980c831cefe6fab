"""What the demo adds when it runs as several workers sharing Redis: which worker
answered (``X-Worker-Pid``), a rate limit counted across all workers (per process while
Redis is down), and a shared cache for the item list."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from FasterAPI import Faster
from FasterAPI.middleware.cache import RedisCacheMiddleware
from FasterAPI.middleware.ratelimit import (
    Decision,
    MemoryBackend,
    RateLimitMiddleware,
    RedisBackend,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NOT_LIMITED = ["/health", "/ready", "/events", "/docs", "/docs/*", "/redoc", "/openapi.json"]


class WorkerPid:
    """Adds ``X-Worker-Pid`` to every response: which worker process served it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # Asked per request: servers may import the app before forking the workers.
        pid = (b"x-worker-pid", str(os.getpid()).encode())

        async def send_with_pid(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), pid]}
            await send(message)

        await self.app(scope, receive, send_with_pid)


class RedisOrLocalBackend(RedisBackend):
    """Counts in Redis, shared by all workers; while Redis is down, each worker counts
    on its own (so a client gets at most the limit per worker, never unlimited)."""

    def __init__(self, redis: str) -> None:
        super().__init__(redis)
        self.local = MemoryBackend()

    async def hit(self, key: str, limit: int, window: float) -> Decision | None:
        decision = await super().hit(key, limit, window)
        return decision if decision is not None else await self.local.hit(key, limit, window)


class CacheItemList:
    """``RedisCacheMiddleware`` for ``GET /items`` only (other paths go straight on)."""

    def __init__(self, app: ASGIApp, redis: str, ttl: float) -> None:
        self.app = app
        self.cached = RedisCacheMiddleware(app, redis=redis, ttl=ttl)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan" or (kind == "http" and scope["path"] == "/items"):
            await self.cached(scope, receive, send)  # the lifespan closes its client
        else:
            await self.app(scope, receive, send)


def add_scaling(app: Faster, redis_url: str | None) -> None:
    """The middleware above, outermost last; without Redis only ``X-Worker-Pid``."""
    if redis_url:
        app.add_middleware(
            CacheItemList, redis=redis_url, ttl=float(os.environ.get("DEMO_CACHE_TTL", "5"))
        )
        app.add_middleware(
            RateLimitMiddleware,
            limit=int(os.environ.get("DEMO_RATE_LIMIT", "600")),
            window=60,
            # Counted per client address (the demo has no API keys: a header the client
            # chooses would let it start a fresh count with every request).
            key="ip",
            backend=RedisOrLocalBackend(redis_url),
            exempt=NOT_LIMITED,
        )
    app.add_middleware(WorkerPid)
