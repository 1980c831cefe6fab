"""RedisSessionBackend: server-side sessions for ``SessionMiddleware``, shared by workers.

    app.add_middleware(
        SessionMiddleware,
        secret_key=os.environ["SESSION_SECRET"],
        backend=RedisSessionBackend("redis://localhost:6379/0"),
    )

The cookie carries only a random session id (signed by the middleware, 256 bits from
``secrets``); the session itself is JSON in Redis under ``key_prefix + id``, expiring
``max_age`` seconds after its last change (the cookie's own lifetime), or ``ttl`` when
the cookie has none (a browser-session cookie). An emptied session is deleted from Redis.
An id stays the same while the session lives; to give a user a fresh id at login (against
session fixation), clear the session, then fill it in a later request, or call
``await backend.delete(old_id)`` yourself.

When Redis is down or slower than ``timeout``:

- loading gives an empty session and keeps the cookie (the user looks signed out until
  Redis is back, then the session is there again);
- saving a changed session raises ``SessionStoreUnavailable`` (a 500): a change is never
  lost silently;
- deleting is skipped (the key expires on its own).

Failures are logged at most once a second and Redis is then left alone for a second.
``redis`` is a URL (the client is made on first use on the running loop; close it with
``aclose``) or a ``redis.asyncio.Redis`` client (yours to close).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import msgspec

from FasterAPI.middleware._redis import RedisLink, RedisUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisSessionBackend", "SessionStoreUnavailable"]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(dict[str, Any])
_ID_BYTES = 32


class SessionStoreUnavailable(RedisUnavailable):
    """A changed session could not be saved because Redis is unreachable."""


class RedisSessionBackend:
    """A ``SessionBackend`` keeping sessions in Redis; see the module docstring."""

    def __init__(
        self,
        redis: Redis | str,
        *,
        key_prefix: str = "fasterapi:session:",
        ttl: int = 14 * 24 * 60 * 60,
        timeout: float | None = 0.25,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be a positive number of seconds")
        self.link = RedisLink(redis, timeout=timeout, purpose="sessions")
        self.key_prefix = key_prefix
        self.ttl = ttl

    @staticmethod
    def _valid_id(payload: str) -> bool:
        return 0 < len(payload) <= 64 and payload.replace("-", "").replace("_", "").isalnum()

    async def load(self, payload: str) -> dict[str, Any] | None:
        if not self._valid_id(payload):
            return None
        key = self.key_prefix + payload
        try:
            raw = await self.link.call(lambda client: client.get(key))
        except RedisUnavailable:
            return {}  # keeps the cookie: the session is back when Redis is
        if raw is None:
            return None
        try:
            return _decoder.decode(raw)
        except msgspec.DecodeError:
            return None

    async def save(self, payload: str | None, data: dict[str, Any], max_age: int | None) -> str:
        session_id = payload if payload and self._valid_id(payload) else new_session_id()
        key = self.key_prefix + session_id
        value = _encoder.encode(data)
        expiry = max_age or self.ttl
        try:
            await self.link.call(lambda client: client.set(key, value, ex=expiry))
        except RedisUnavailable as exc:
            raise SessionStoreUnavailable(f"Cannot save the session: {exc}") from exc
        return session_id

    async def delete(self, payload: str) -> None:
        if not self._valid_id(payload):
            return
        key = self.key_prefix + payload
        try:
            await self.link.call(lambda client: client.delete(key))
        except RedisUnavailable:
            pass  # it expires on its own

    async def aclose(self) -> None:
        await self.link.aclose()


def new_session_id() -> str:
    return secrets.token_urlsafe(_ID_BYTES)
