"""SessionMiddleware: a per-client ``dict`` kept in a signed cookie.

    app.add_middleware(SessionMiddleware, secret_key=os.environ["SESSION_SECRET"])

    @app.post("/login")
    async def login(request: Request):
        request.scope["session"]["user"] = "ada"

The session is ``scope["session"]``, a plain dict of JSON values, loaded before the app
runs (for HTTP and websocket scopes; lifespan passes through untouched). After the app,
the cookie is sent again only if the session changed, deleted if the session was emptied,
and left alone otherwise. Changes made in a websocket are not saved.

The cookie is signed with ``itsdangerous`` (HMAC-SHA1 over the payload and a timestamp;
``pip install 'FasterAPI[sessions]'``), so clients can read but not forge it: keep
secrets out of it, or use a server-side backend. A cookie with a bad signature, a
malformed payload, or older than ``max_age`` seconds (counted from the last change)
gives an empty session, never an error. ``secret_key`` may be a list of keys, newest
last, to rotate keys: cookies signed with an older one are still accepted.

Cookie attributes: ``Path=path``, ``Max-Age=max_age`` (none when ``max_age`` is None: a
browser-session cookie), ``HttpOnly``, ``SameSite=same_site``, ``Secure`` with
``https_only`` (required by browsers for ``same_site="none"``), ``Domain=domain``.

Where the data lives is the ``backend``'s business (``SessionBackend``): the default
``CookieBackend`` puts it in the cookie itself (browsers keep cookies up to ~4 KB); a
server-side backend (Redis, a database) would put a session id there instead.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import msgspec

from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send
from FasterAPI.datastructures import parse_cookie_header
from FasterAPI.response import format_set_cookie

try:
    from itsdangerous import BadSignature, TimestampSigner
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "SessionMiddleware needs itsdangerous: pip install 'FasterAPI[sessions]'"
    ) from exc

__all__ = ["CookieBackend", "SessionBackend", "SessionMiddleware"]

logger = logging.getLogger("FasterAPI")

MAX_COOKIE_SIZE = 4096
_SALT = "fasterapi.sessions"
_EXPIRED = "Thu, 01 Jan 1970 00:00:00 GMT"
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(dict[str, Any])


class SessionBackend(Protocol):
    """Maps the cookie's payload (its signature already checked) to session data.

    ``payload`` is what ``save`` returned last time: the data itself for cookie sessions,
    a session id for server-side ones.
    """

    async def load(self, payload: str) -> dict[str, Any] | None:
        """The session for ``payload``, or None when there is none (unknown, unreadable)."""
        ...

    async def save(self, payload: str | None, data: dict[str, Any], max_age: int | None) -> str:
        """Store ``data`` (``payload`` is the current one, or None) and return the payload
        to put in the cookie; ``max_age`` is the cookie's lifetime in seconds."""
        ...

    async def delete(self, payload: str) -> None:
        """Forget the session the client cleared."""
        ...


class CookieBackend:
    """The whole session in the cookie: base64url-encoded JSON."""

    async def load(self, payload: str) -> dict[str, Any] | None:
        try:
            raw = base64.urlsafe_b64decode(payload.encode("ascii") + b"==")
            return _decoder.decode(raw)
        except (ValueError, binascii.Error, msgspec.DecodeError):
            return None

    async def save(self, payload: str | None, data: dict[str, Any], max_age: int | None) -> str:
        return base64.urlsafe_b64encode(encode_session(data)).rstrip(b"=").decode("ascii")

    async def delete(self, payload: str) -> None:
        return None


def encode_session(data: dict[str, Any]) -> bytes:
    try:
        return _encoder.encode(data)
    except (TypeError, msgspec.EncodeError) as exc:
        raise TypeError(f"Session values must be JSON-serialisable: {exc}") from exc


class SessionMiddleware:
    """Loads ``scope["session"]`` from a signed cookie and saves it when it changes."""

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | bytes | Sequence[str | bytes],
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
        domain: str | None = None,
        backend: SessionBackend | None = None,
    ) -> None:
        given = [secret_key] if isinstance(secret_key, (str, bytes)) else list(secret_key)
        keys = [key.encode("utf-8") if isinstance(key, str) else key for key in given]
        if not keys or not all(keys):
            raise ValueError("secret_key must be a non-empty string (or a list of them)")
        if same_site.lower() not in ("lax", "strict", "none"):
            raise ValueError("same_site must be 'lax', 'strict' or 'none'")
        if same_site.lower() == "none" and not https_only:
            raise ValueError('same_site="none" needs https_only=True (browsers require Secure)')
        if max_age is not None and max_age <= 0:
            raise ValueError("max_age must be a positive number of seconds or None")
        self.app = app
        self.signer = TimestampSigner(keys, salt=_SALT)
        self.cookie_name = session_cookie
        self.max_age = max_age
        self.backend: SessionBackend = backend if backend is not None else CookieBackend()
        attributes = (path, domain, https_only, True, same_site, False)
        format_set_cookie(session_cookie, "x", max_age, None, *attributes)  # validates them
        self._attributes = attributes
        self._needle = session_cookie.encode("latin-1") + b"="
        self._delete = format_set_cookie(session_cookie, "", 0, _EXPIRED, *attributes)

    async def load(self, scope: Scope) -> tuple[str | None, bool, dict[str, Any]]:
        """``(payload, had_cookie, data)`` for the request's session cookie."""
        header = b"; ".join(value for name, value in scope["headers"] if name == b"cookie")
        if self._needle not in header:
            return None, False, {}
        signed = parse_cookie_header(header.decode("latin-1")).get(self.cookie_name)
        if signed is None:  # the name was part of another cookie's
            return None, False, {}
        try:
            payload = self.signer.unsign(signed, max_age=self.max_age).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None, True, {}
        data = await self.backend.load(payload)
        if data is None:
            return None, True, {}
        return payload, True, data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        payload, had_cookie, data = await self.load(scope)
        scope["session"] = data
        if kind == "websocket":
            await self.app(scope, receive, send)
            return
        before = encode_session(data) if data else b""

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await self.cookie_header(scope, payload, had_cookie, before)
                if cookie is not None:
                    headers = [*message.get("headers", ()), (b"set-cookie", cookie)]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def cookie_header(
        self, scope: Scope, payload: str | None, had_cookie: bool, before: bytes
    ) -> bytes | None:
        """The ``Set-Cookie`` value to send, or None when the cookie stays as it is."""
        session = scope.get("session")
        if not isinstance(session, dict):
            raise TypeError("scope['session'] must stay a dict")
        if not session:
            if not had_cookie or (payload is not None and not before):
                return None
            if payload is not None:
                await self.backend.delete(payload)
            return self._delete.encode("latin-1")
        if payload is not None and encode_session(session) == before:
            return None
        new_payload = await self.backend.save(payload, session, self.max_age)
        signed = self.signer.sign(new_payload).decode("ascii")
        value = format_set_cookie(self.cookie_name, signed, self.max_age, None, *self._attributes)
        if len(value) > MAX_COOKIE_SIZE:
            logger.warning(
                "The session cookie is %d bytes; browsers drop cookies over %d bytes",
                len(value),
                MAX_COOKIE_SIZE,
            )
        return value.encode("latin-1")
