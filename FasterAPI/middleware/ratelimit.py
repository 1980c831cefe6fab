"""RateLimitMiddleware: at most ``limit`` requests per ``window`` seconds per client.

    app.add_middleware(RateLimitMiddleware, limit=100, window=60)
    app.add_middleware(
        RateLimitMiddleware,
        limit=1000,
        window=3600,
        key="header:X-API-Key",
        backend=RedisBackend("redis://localhost:6379/0"),
        trusted_proxies=["10.0.0.0/8"],
        exempt=["/health", "/static/*"],
    )

The algorithm is GCRA: requests may come in a burst of ``limit`` and then at one per
``window / limit`` seconds, so there is no window edge where twice the limit gets through.

Every counted response carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (seconds until the whole allowance is back). A refused request gets a
429 ``{"detail": "Too Many Requests"}`` with the same headers and ``Retry-After``.

``key`` says who is counted:

- ``"ip"`` (default): the client address. ``X-Forwarded-For`` is used only when the direct
  peer is one of ``trusted_proxies`` (addresses or networks, such as ``"10.0.0.0/8"``);
  the client is then the right-most address in it that is not a trusted proxy, because
  the entries to its left were written by the client itself and can be forged.
- ``"header:<name>"``: the value of that request header (an API key, say); requests
  without it are counted by IP address.
- a callable ``key(scope) -> str | None`` (may be async); None means "do not count".

``backend`` is ``"memory"`` (per process, bounded; see ``MemoryBackend``), a
``MemoryBackend`` or a ``RedisBackend`` (shared by all workers; fails open when Redis is
down). ``exempt`` is a predicate ``exempt(scope) -> bool`` or a list of paths, where a
path ending in ``*`` is a prefix. Websocket and lifespan scopes pass through untouched
(a ``RedisBackend`` made from a URL closes its client when the lifespan shuts down).
"""

from __future__ import annotations

import hashlib
import inspect
import ipaddress
import math
from collections.abc import Callable, Iterable
from typing import Any, Literal, Union

from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send
from FasterAPI.middleware._asgi import RawHeaders
from FasterAPI.middleware._ratelimit_backends import (
    Decision,
    MemoryBackend,
    RateLimitBackend,
    RedisBackend,
    window_micros,
)
from FasterAPI.middleware._redis import run_lifespan

__all__ = ["Decision", "MemoryBackend", "RateLimitBackend", "RateLimitMiddleware", "RedisBackend"]

KeyFunc = Callable[[Scope], Any]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

_BODY = b'{"detail":"Too Many Requests"}'
_JSON = (b"content-type", b"application/json")
_MAX_KEY_PART = 64


def _parse_address(text: str) -> Address | None:
    """An address from an ``X-Forwarded-For`` entry; tolerates ``[v6]:port``/``v4:port``."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _bounded(value: str) -> str:
    """Keys stay short whatever a client sends: long values are hashed."""
    if len(value) <= _MAX_KEY_PART:
        return value
    return "sha256:" + hashlib.sha256(value.encode("latin-1", "replace")).hexdigest()


class RateLimitMiddleware:
    """Counts requests per key and answers 429 once a key is over its limit."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        window: float,
        key: str | KeyFunc = "ip",
        backend: Literal["memory"] | RateLimitBackend = "memory",
        trusted_proxies: Iterable[str] = (),
        exempt: Callable[[Scope], bool] | Iterable[str] | None = None,
    ) -> None:
        window_micros(limit, window)  # validates both
        self.app = app
        self.limit = limit
        self.window = window
        self.backend: RateLimitBackend = MemoryBackend() if backend == "memory" else backend
        if isinstance(self.backend, str) or not hasattr(self.backend, "hit"):
            raise TypeError('backend must be "memory", a MemoryBackend or a RedisBackend')
        if isinstance(trusted_proxies, str):
            trusted_proxies = [trusted_proxies]
        self.trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies
        )
        self._key_func, self._header = self._key_source(key)
        self._exempt_func, self._exempt_paths, self._exempt_prefixes = self._exemptions(exempt)
        # Keys carry the policy so that two limits sharing a backend never share counters.
        self._prefix = f"{limit}/{window}:"
        self._limit_header = (b"ratelimit-limit", str(limit).encode())

    @staticmethod
    def _key_source(key: str | KeyFunc) -> tuple[KeyFunc | None, bytes | None]:
        if callable(key):
            return key, None
        if key == "ip":
            return None, None
        if isinstance(key, str) and key.startswith("header:") and key[7:].strip():
            return None, key[7:].strip().lower().encode("latin-1")
        raise ValueError('key must be "ip", "header:<name>" or a callable(scope) -> str')

    @staticmethod
    def _exemptions(
        exempt: Callable[[Scope], bool] | Iterable[str] | None,
    ) -> tuple[Callable[[Scope], bool] | None, frozenset[str], tuple[str, ...]]:
        if exempt is None:
            return None, frozenset(), ()
        if callable(exempt):
            return exempt, frozenset(), ()
        if isinstance(exempt, str):
            raise TypeError("exempt takes a list of paths, not a single string")
        paths = list(exempt)
        exact = frozenset(path for path in paths if not path.endswith("*"))
        prefixes = tuple(path[:-1] for path in paths if path.endswith("*"))
        return None, exact, prefixes

    def is_exempt(self, scope: Scope) -> bool:
        if self._exempt_func is not None:
            return bool(self._exempt_func(scope))
        path: str = scope["path"]
        return path in self._exempt_paths or (
            bool(self._exempt_prefixes) and path.startswith(self._exempt_prefixes)
        )

    def client_ip(self, scope: Scope) -> str:
        """The client's address, from ``X-Forwarded-For`` only behind a trusted proxy."""
        client = scope.get("client")
        peer: str = client[0] if client else "unknown"
        if not self.trusted or not self._is_trusted(_parse_address(peer)):
            return peer
        forwarded = [
            entry
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
            for entry in value.decode("latin-1").split(",")
            if entry.strip()
        ]
        for entry in reversed(forwarded):
            address = _parse_address(entry)
            if address is None:
                return _bounded(entry.strip())  # what our proxy recorded, odd as it is
            if not self._is_trusted(address):
                return str(address)
        if forwarded:  # every hop is one of ours: the left-most is the origin
            address = _parse_address(forwarded[0])
            return str(address) if address is not None else peer
        return peer

    def _is_trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    async def key_for(self, scope: Scope) -> str | None:
        if self._key_func is not None:
            value = self._key_func(scope)
            if inspect.isawaitable(value):
                value = await value
            return None if value is None else "key:" + _bounded(str(value))
        if self._header is not None:
            for name, raw in scope["headers"]:
                if name == self._header:
                    return "header:" + _bounded(raw.decode("latin-1"))
        return "ip:" + self.client_ip(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan" and isinstance(self.backend, RedisBackend):
                await run_lifespan(self.app, scope, receive, send, self.backend.aclose)
            else:
                await self.app(scope, receive, send)
            return
        if self.is_exempt(scope):
            await self.app(scope, receive, send)
            return
        key = await self.key_for(scope)
        decision = None
        if key is not None:
            decision = await self.backend.hit(self._prefix + key, self.limit, self.window)
        if decision is None:  # not counted, or the backend cannot tell: let it through
            await self.app(scope, receive, send)
            return
        headers = self._headers(decision)
        if not decision.allowed:
            await self._refuse(scope, send, headers, decision)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, decision: Decision) -> RawHeaders:
        return [
            self._limit_header,
            (b"ratelimit-remaining", str(decision.remaining).encode()),
            (b"ratelimit-reset", str(math.ceil(decision.reset)).encode()),
        ]

    async def _refuse(
        self, scope: Scope, send: Send, headers: RawHeaders, decision: Decision
    ) -> None:
        retry_after = max(1, math.ceil(decision.retry_after))
        raw = [
            *headers,
            (b"retry-after", str(retry_after).encode()),
            _JSON,
            (b"content-length", str(len(_BODY)).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": raw})
        body = b"" if scope["method"] == "HEAD" else _BODY
        await send({"type": "http.response.body", "body": body})
