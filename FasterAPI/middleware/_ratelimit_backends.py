"""Rate-limit storage: the GCRA arithmetic, an in-process backend and a Redis backend.

GCRA (the generic cell rate algorithm) keeps one number per key, the theoretical arrival
time (TAT): when the key's allowance would be fully restored. A limit of ``limit``
requests per ``window`` spaces requests ``interval = window / limit`` apart and tolerates
a burst of ``limit`` at once. A request at ``now`` is allowed when
``max(TAT, now) + interval - window <= now``; it then moves the TAT on by ``interval``.
Times are integer microseconds, so Python and the Redis Lua script agree exactly.

A backend answers ``await backend.hit(key, limit, window)`` with a ``Decision``, or with
None when it cannot decide (Redis down): the middleware then lets the request through.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from FasterAPI.middleware._redis import RedisLink, RedisUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Decision", "MemoryBackend", "RateLimitBackend", "RedisBackend"]

MICROS = 1_000_000


class Decision(NamedTuple):
    allowed: bool
    remaining: int  # requests still allowed right now
    reset: float  # seconds until the whole allowance is back
    retry_after: float  # seconds until a denied request would be allowed (0 if allowed)


class RateLimitBackend(Protocol):
    async def hit(self, key: str, limit: int, window: float) -> Decision | None:
        """Count one request for ``key``; None means "cannot tell, let it through"."""
        ...


def window_micros(limit: int, window: float) -> tuple[int, int]:
    """``(interval, window)`` in microseconds, after checking the arguments."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("limit must be a positive integer")
    if not window > 0:
        raise ValueError("window must be a positive number of seconds")
    span = round(window * MICROS)
    interval = span // limit
    if interval < 1:
        raise ValueError("limit is too high for the window (more than one per microsecond)")
    return interval, span


def gcra(tat: int | None, now: int, interval: int, span: int) -> tuple[int | None, Decision]:
    """The new TAT to store (None when denied) and the decision."""
    base = now if tat is None or tat < now else tat
    new_tat = base + interval
    allow_at = new_tat - span
    if allow_at > now:
        return None, Decision(False, 0, (base - now) / MICROS, (allow_at - now) / MICROS)
    remaining = (now + span - new_tat) // interval
    return new_tat, Decision(True, remaining, (new_tat - now) / MICROS, 0.0)


class MemoryBackend:
    """Per-process counters: fine for one worker, wrong for several (use Redis there).

    Memory stays bounded: keys are kept in the order they were last counted, and each hit
    first drops keys from the old end whose allowance is fully restored, so only keys seen
    within the last window remain. ``max_keys`` caps the table anyway: past it the least
    recently counted key is forgotten (it starts afresh if it comes back).
    """

    def __init__(
        self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self.clock = clock
        self._tats: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tats)

    async def hit(self, key: str, limit: int, window: float) -> Decision:
        interval, span = window_micros(limit, window)
        now = int(self.clock() * MICROS)
        tats = self._tats
        while tats:
            oldest = next(iter(tats))
            if tats[oldest] > now:
                break
            del tats[oldest]
        new_tat, decision = gcra(tats.get(key), now, interval, span)
        if new_tat is not None:
            tats[key] = new_tat
            tats.move_to_end(key)
            if len(tats) > self.max_keys:
                tats.popitem(last=False)
        return decision


# KEYS[1]: the key. ARGV: interval, window (microseconds). Time comes from the Redis
# server so that every app instance shares one clock. Returns
# {allowed (0/1), remaining, reset (us), retry_after (us)}.
_GCRA_LUA = """
local interval = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - span
if allow_at > now then
  return {0, 0, tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX',
  math.ceil((new_tat - now) / 1000))
return {1, math.floor((now + span - new_tat) / interval), new_tat - now, 0}
"""


class RedisBackend:
    """Counters in Redis, shared by every worker and machine, updated atomically by a Lua
    script. When Redis fails or is slower than ``timeout`` the request is allowed
    (fail-open), the failure is logged at most once a second, and Redis is left alone
    for a second (``link.cooldown``) before it is tried again.

    ``redis`` is a ``redis.asyncio.Redis`` client (yours to close) or a URL such as
    ``"redis://localhost:6379/0"`` (a client is made on first use and closed at shutdown).
    """

    def __init__(
        self,
        redis: Redis | str,
        *,
        key_prefix: str = "fasterapi:ratelimit:",
        timeout: float | None = 0.25,
    ) -> None:
        self.link = RedisLink(redis, timeout=timeout, purpose="rate limiting")
        self.key_prefix = key_prefix
        self._script: Any = None

    async def hit(self, key: str, limit: int, window: float) -> Decision | None:
        interval, span = window_micros(limit, window)
        try:
            reply = await self.link.call(
                lambda client: self._run(client, self.key_prefix + key, interval, span)
            )
        except RedisUnavailable:
            return None
        allowed, remaining, reset, retry_after = (int(value) for value in reply)
        return Decision(bool(allowed), remaining, reset / MICROS, retry_after / MICROS)

    async def _run(self, client: Redis, key: str, interval: int, span: int) -> list[Any]:
        script = self._script
        if script is None or script.registered_client is not client:
            script = self._script = client.register_script(_GCRA_LUA)
        reply: list[Any] = await script(keys=[key], args=[interval, span])
        return reply

    async def aclose(self) -> None:
        await self.link.aclose()
