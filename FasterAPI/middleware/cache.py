"""RedisCacheMiddleware: a shared response cache in Redis, safe by default.

    app.add_middleware(RedisCacheMiddleware, redis="redis://localhost:6379/0", ttl=30)

Only ``methods`` (GET and HEAD) are cached; HEAD is answered from GET's entry but never
fills it. The key hashes the method, scheme, host (the first ``Host``, the one
``request.url`` uses), path, query string and the request headers named in ``vary``.
Responses say how they were served in ``X-Cache``:

- ``HIT``: from Redis, with ``Age`` (seconds since stored, plus the ``Age`` the app's
  response had). A request whose ``If-None-Match`` matches the stored ``ETag`` gets a 304.
- ``MISS``: from the app; stored if it qualifies (below).
- ``BYPASS``: from the app without reading the cache, because the request carries
  ``Authorization`` or ``Cookie`` (unless ``cache_authenticated``) or ``Range``, asks
  ``Cache-Control: no-cache`` (the fresh response is stored) or ``no-store``, or has more
  than one ``Host`` line (RFC 9112 §3.2 makes it invalid: it is passed to the app as it
  came, never stored nor served from the cache); or because Redis is down, slower than
  ``timeout`` seconds, or returned a corrupt entry (the entry is replaced). Redis errors
  are logged at most once a second and Redis is then left alone for a second, so an
  outage costs requests nothing.

A response is stored only when it is a 200 or 203 to a GET with a ``Content-Length`` of
at most ``max_body_bytes``, sent as one body message (streams and server-sent events
never are), without ``Set-Cookie``, without ``Cache-Control: private``, ``no-store`` or
``no-cache``, whose ``Vary`` names only headers listed in ``vary`` (``Vary: *`` never),
and that is still fresh: its ``s-maxage``, else ``max-age``, else ``Expires``, less its
``Age``, caps the entry's ``ttl`` (``max-age=0`` is never stored). Responses are never
buffered: each message goes to the client as the app sends it, and a qualifying body is
written to Redis (encoded with msgspec) after the client has it.

Credentials: a response is never stored when a security scheme of the framework (API
key in a header, query or cookie, HTTP Basic/Bearer/Digest, OAuth2, OpenID Connect, JWT)
looked for a credential while the app made it, sent or not, unless it says
``Cache-Control: public`` or ``s-maxage`` (RFC 9111 §3.5): it may depend on who asked.
Those aside, no request gets an entry made for a credential, and a request with one never
gets the anonymous entry of a route that reads it. With ``cache_authenticated=True`` such a
response is stored when the key tells the credentials apart: ``vary`` names its header
(``authorization``, ``x-api-key``, or ``cookie`` for a cookie) or it came in the query.
A credential read some other way (a plain ``Header()`` parameter) is not seen: call
``FasterAPI.security.base.note_credential`` where it is read, or answer
``Cache-Control: private``.

Single-flight (stampede protection): when a GET misses, the request takes a short lock
in Redis (``SET NX`` with an expiry of ``single_flight_timeout`` seconds) and runs the
app; concurrent misses on the same key, on any worker or machine, wait for its entry
(polling Redis every 5 to 50 ms) and answer ``HIT`` from it, so the app computes the
response once. The lock is released as soon as the response shows it will not be
stored (its start already does for a stream, an event stream, ``no-store`` or an error
status), so the waiters run the app themselves at once instead of waiting for a stream
to end. Waiting is bounded: a waiter runs the app itself once the lock is gone without
an entry or after ``single_flight_timeout`` seconds, and at once when Redis fails.
``single_flight_timeout=None`` turns it off.

Place the cache outside middleware that makes responses differ per request (sessions,
request ids) and add ``accept-encoding`` to ``vary`` when compression runs inside it.
With ``cache_authenticated=True`` responses to requests with ``Authorization`` or
``Cookie`` that no security scheme reads are shared between users unless ``vary`` names
``authorization``/``cookie``.

``redis`` is a ``redis.asyncio.Redis`` client (yours to close) or a URL (the client is
made on the first request, on the server's event loop, and closed at lifespan shutdown).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio
import msgspec

from FasterAPI._extract import get_header
from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send
from FasterAPI.middleware._asgi import RawHeaders, start_headers
from FasterAPI.middleware._cache_policy import (
    CACHEABLE_STATUS,
    CacheRequest,
    Storage,
    etag_matches,
    storage,
)
from FasterAPI.middleware._redis import RedisLink, RedisUnavailable, ThrottledLog, run_lifespan
from FasterAPI.security.base import CREDENTIALS_READ

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisCacheMiddleware"]

HIT, MISS, BYPASS = b"HIT", b"MISS", b"BYPASS"
_NOT_MODIFIED_HEADERS = frozenset(
    {b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary"}
)
_DROPPED_ON_STORE = frozenset({b"x-cache", b"age"})
_FORMAT = "v1"
# KEYS[1]: the lock; ARGV[1]: the holder's token. Deletes the lock only if still ours.
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_POLL_FIRST, _POLL_LONGEST = 0.005, 0.05


class Entry(msgspec.Struct, array_like=True):
    """A stored response."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stored_at: float  # time.time() when stored, less the response's own Age


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Entry)


class RedisCacheMiddleware:
    """Serves repeated GET/HEAD requests from Redis; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        redis: Redis | str,
        ttl: float = 60,
        methods: Iterable[str] = ("GET", "HEAD"),
        key_prefix: str = "fasterapi:cache:",
        vary: Iterable[str] = (),
        cache_authenticated: bool = False,
        max_body_bytes: int = 1024 * 1024,
        timeout: float | None = 0.25,
        single_flight_timeout: float | None = 5.0,
    ) -> None:
        if not ttl > 0:
            raise ValueError("ttl must be a positive number of seconds")
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must not be negative")
        if single_flight_timeout is not None and not single_flight_timeout > 0:
            raise ValueError("single_flight_timeout must be a positive number of seconds or None")
        self.app = app
        if not isinstance(redis, str) and redis.connection_pool.connection_kwargs.get(
            "decode_responses"
        ):
            raise ValueError("The cache needs a Redis client with decode_responses=False")
        self.link = RedisLink(redis, timeout=timeout, purpose="response cache")
        self.ttl_ms = max(1, round(ttl * 1000))
        self.methods = frozenset(method.upper() for method in methods)
        unsupported = self.methods - {"GET", "HEAD"}
        if unsupported:
            raise ValueError(f"Only GET and HEAD responses can be cached, not {unsupported}")
        self.key_prefix = f"{key_prefix}{_FORMAT}:"
        self.vary = tuple(sorted({name.strip().lower().encode("latin-1") for name in vary}))
        self._vary_set = frozenset(self.vary)
        self.cache_authenticated = cache_authenticated
        self.max_body_bytes = max_body_bytes
        self.single_flight_timeout = single_flight_timeout
        self._log = ThrottledLog()
        self._release_script: Any = None

    def cache_key(self, scope: Scope, request: CacheRequest) -> str:
        """The Redis key: method in clear (HEAD shares GET's), the rest hashed."""
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        digest = hashlib.sha256()
        parts = [
            scope.get("scheme", "http").encode(),
            request.url_host(scope),
            scope.get("root_path", "").encode("utf-8", "surrogateescape"),
            scope["path"].encode("utf-8", "surrogateescape"),
            scope.get("query_string", b""),
        ]
        for name in self.vary:
            values = request.vary.get(name)
            parts.append(name)
            parts.append(b"\xff" if values is None else b"\x00" + b", ".join(values))
        for part in parts:  # length-prefixed, so no two lists of parts hash alike
            digest.update(len(part).to_bytes(4, "big"))
            digest.update(part)
        return f"{self.key_prefix}{method}:{digest.hexdigest()}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" or scope["method"] not in self.methods:
            if kind == "lifespan":
                await run_lifespan(self.app, scope, receive, send, self.link.aclose)
            else:
                await self.app(scope, receive, send)
            return
        request = CacheRequest(scope["headers"], self._vary_set)
        if (
            request.hosts > 1
            or (request.credentials and not self.cache_authenticated)
            or request.range
            or b"no-store" in request.cache_control
        ):
            await self.serve(scope, receive, send, BYPASS, None)
            return
        key = self.cache_key(scope, request)
        if b"no-cache" in request.cache_control:
            await self.serve(scope, receive, send, BYPASS, key)
            return
        try:
            raw = await self.link.call(lambda client: client.get(key))
        except RedisUnavailable:
            await self.serve(scope, receive, send, BYPASS, None)
            return
        if raw is None:
            wait = self.single_flight_timeout
            if wait is None or scope["method"] != "GET":
                await self.serve(scope, receive, send, MISS, key)
            else:
                await self.serve_single_flight(scope, receive, send, key, request, wait)
            return
        entry = self.decode(key, raw)
        if entry is None:
            await self.serve(scope, receive, send, BYPASS, key)  # replaces the entry
        else:
            await self.send_hit(scope, send, entry, request)

    def decode(self, key: str, raw: object) -> Entry | None:
        """The stored entry, or None (logged) when it is corrupt."""
        try:
            if not isinstance(raw, bytes):
                raise msgspec.DecodeError("Expected bytes (decode_responses must be off)")
            entry = _decoder.decode(raw)
            if entry.status not in CACHEABLE_STATUS:
                raise msgspec.ValidationError(f"status {entry.status}")
        except msgspec.DecodeError as exc:
            self._log.warning("Corrupt response cache entry %s: %s", key, exc)
            return None
        return entry

    async def serve_single_flight(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: str,
        request: CacheRequest,
        wait: float,
    ) -> None:
        """A GET miss: run the app holding the key's lock, or wait for whoever holds it."""
        lock, token = key + ":lock", secrets.token_hex(16)
        lock_ms = max(1, round(wait * 1000))
        try:
            acquired = await self.link.call(
                lambda client: client.set(lock, token, nx=True, px=lock_ms)
            )
        except RedisUnavailable:
            await self.serve(scope, receive, send, BYPASS, None)
            return
        if not acquired:
            entry = await self.wait_for_entry(key, lock, wait)
            if entry is not None:
                await self.send_hit(scope, send, entry, request)
            else:
                await self.serve(scope, receive, send, MISS, key)
            return
        released = False

        async def release_early() -> None:
            # Nothing will be stored: the waiters need not wait for the rest of the body.
            nonlocal released
            await self.release(lock, token)
            released = True

        try:
            await self.serve(scope, receive, send, MISS, key, release_early)
        finally:
            # The entry is stored by now; waiters read it before they see the lock gone.
            if not released:
                with anyio.CancelScope(shield=True):
                    await self.release(lock, token)

    async def wait_for_entry(self, key: str, lock: str, timeout: float) -> Entry | None:
        """The entry another request is computing, or None once waiting is pointless:
        the lock is gone without an entry, ``timeout`` passed, or Redis failed."""
        deadline = time.monotonic() + timeout
        delay = _POLL_FIRST
        while time.monotonic() < deadline:
            await anyio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, _POLL_LONGEST)
            try:
                raw, holder = await self.link.call(lambda client: client.mget(key, lock))
            except RedisUnavailable:
                return None
            if raw is not None:
                return self.decode(key, raw)
            if holder is None:
                return None
        return None

    async def release(self, lock: str, token: str) -> None:
        async def run(client: Redis) -> Any:
            script = self._release_script
            if script is None or script.registered_client is not client:
                script = self._release_script = client.register_script(_RELEASE_LUA)
            return await script(keys=[lock], args=[token])

        try:
            await self.link.call(run)
        except RedisUnavailable:
            pass  # it expires on its own

    async def send_hit(self, scope: Scope, send: Send, entry: Entry, request: CacheRequest) -> None:
        age = str(max(0, int(time.time() - entry.stored_at))).encode()
        marks = [(b"x-cache", HIT), (b"age", age)]
        etag = get_header(entry.headers, b"etag")
        if etag is not None and any(etag_matches(value, etag) for value in request.if_none_match):
            kept = [pair for pair in entry.headers if pair[0] in _NOT_MODIFIED_HEADERS]
            await send({"type": "http.response.start", "status": 304, "headers": kept + marks})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = entry.headers + marks
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else entry.body
        await send({"type": "http.response.body", "body": body})

    async def serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        outcome: bytes,
        key: str | None,
        not_stored: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Run the app, marking its response with ``outcome``; store it under ``key`` if
        it qualifies (never for HEAD, whose body is empty). ``not_stored`` is awaited as
        soon as a message shows that the response will not be stored."""
        collect = key is not None and scope["method"] == "GET"
        seen: set[tuple[str, str]] | None = None
        if collect:
            # Security schemes add the credentials they read (copies of the scope share it).
            seen = scope.get(CREDENTIALS_READ)
            if seen is None:
                seen = scope[CREDENTIALS_READ] = set()
        status = 0
        how: Storage | None = None
        stored_headers: RawHeaders = []
        body: bytes | None = None

        async def mark(message: Message) -> None:
            nonlocal collect, status, how, stored_headers, body, not_stored
            kind = message["type"]
            if kind == "http.response.start":
                headers = start_headers(message)
                if collect:
                    how = self.storage(message["status"], headers, seen)
                    if how is None:
                        collect = False
                    else:
                        status = message["status"]
                        kept = [pair for pair in headers if pair[0] not in _DROPPED_ON_STORE]
                        stored_headers = kept
                headers.append((b"x-cache", outcome))
                message = {**message, "headers": headers}
            elif collect:
                chunk = message.get("body", b"")
                if (
                    kind != "http.response.body"
                    or body is not None
                    or message.get("more_body", False)
                    or how is None
                    or len(chunk) != how.length
                ):
                    collect = False
                else:
                    body = bytes(chunk)
            await send(message)
            if not collect and not_stored is not None:
                callback, not_stored = not_stored, None
                await callback()

        await self.app(scope, receive, mark)
        if (
            collect
            and key is not None
            and body is not None
            and how is not None
            and self.credentials_allow(seen, how)  # again: read after the start
        ):
            entry = Entry(status, stored_headers, body, time.time() - how.age)
            await self.store(key, entry, how.ttl_ms)

    def storage(
        self, status: int, headers: RawHeaders, seen: set[tuple[str, str]] | None
    ) -> Storage | None:
        """How the response may be stored (see ``_cache_policy.storage``), or None; also
        None when it depends on credentials the key does not tell apart."""
        how = storage(
            status,
            headers,
            ttl_ms=self.ttl_ms,
            max_body_bytes=self.max_body_bytes,
            vary=self._vary_set,
            now=time.time(),
        )
        if how is None or not self.credentials_allow(seen, how):
            return None
        return how

    def credentials_allow(self, seen: set[tuple[str, str]] | None, how: Storage) -> bool:
        """Whether a response that security schemes read ``seen`` credentials for may be
        stored: none were read, it is ``public``, or (with ``cache_authenticated``) the key
        holds each of them."""
        if not seen or how.shared:
            return True
        if not self.cache_authenticated:
            return False
        for location, name in seen:
            header = b"cookie" if location == "cookie" else name.encode("latin-1")
            if location != "query" and header not in self._vary_set:
                return False
        return True

    async def store(self, key: str, entry: Entry, ttl_ms: int) -> None:
        data = _encoder.encode(entry)
        try:
            await self.link.call(lambda client: client.set(key, data, px=ttl_ms))
        except RedisUnavailable:
            pass  # logged by the link; the client already has its response
