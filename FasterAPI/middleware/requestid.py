"""RequestIDMiddleware: give every request an id, expose it to handlers and echo it back.

    app.add_middleware(RequestIDMiddleware)

    @app.get("/")
    async def index(request: Request):
        return {"id": request.state.request_id}

The id is taken from the incoming ``X-Request-ID`` header (``header_name``) when
``trust_incoming`` is true and the value is 1-128 characters of letters, digits and
``-_.:+=/``; otherwise (missing, too long, odd characters, or not trusted) a new one is made
by ``generator`` (default: a random UUID4 as 32 hex digits). It is stored in
``scope["state"]["request_id"]`` (so ``request.state.request_id``, for HTTP and websockets)
and sent back in the same response header, also on a 500 sent by the error middleware
(through ``scope["fasterapi.error_headers"]``) and on the websocket accept.

Only trust incoming ids when a proxy you control sets or sanitises the header: a client
can otherwise pick ids that collide with other requests in your logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from uuid import uuid4

from FasterAPI._extract import get_header
from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send
from FasterAPI.middleware._asgi import add_error_headers

__all__ = ["RequestIDMiddleware"]

_SAFE_ID = re.compile(rb"[A-Za-z0-9._:+=/-]{1,128}")


def _uuid_hex() -> str:
    return uuid4().hex


class RequestIDMiddleware:
    """Assigns ``scope["state"]["request_id"]`` and echoes it in ``header_name``."""

    def __init__(
        self,
        app: ASGIApp,
        header_name: str = "X-Request-ID",
        generator: Callable[[], str] = _uuid_hex,
        trust_incoming: bool = True,
    ) -> None:
        if not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", header_name):
            raise ValueError(f"{header_name!r} is not a valid header name")
        self.app = app
        self.header = header_name.lower().encode("latin-1")
        self.generator = generator
        self.trust_incoming = trust_incoming

    def new_id(self) -> bytes:
        value = self.generator().encode("latin-1")
        if not _SAFE_ID.fullmatch(value):
            raise ValueError(f"The request id generator returned an unsafe id: {value!r}")
        return value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = self.header
        incoming = get_header(scope["headers"], header) if self.trust_incoming else None
        if incoming is not None and _SAFE_ID.fullmatch(incoming):
            request_id = incoming
        else:
            request_id = self.new_id()
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = request_id.decode("latin-1")
        start_type = "http.response.start" if kind == "http" else "websocket.accept"

        async def send_with_id(message: Message) -> None:
            if message["type"] == start_type:
                raw = list(message.get("headers") or ())
                if all(name.lower() != header for name, _ in raw):
                    raw.append((header, request_id))
                message = {**message, "headers": raw}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if kind == "http":
                add_error_headers(scope, [(header, request_id)])
            raise
