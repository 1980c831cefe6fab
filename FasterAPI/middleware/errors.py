"""The outermost layer: turn an unhandled exception into a 500, log it, and re-raise it.

An ``HTTPException`` raised by middleware (or by reading ``request.url`` there) is an
answer, not a server error: it goes to ``on_http_exception`` when one is given."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send
from FasterAPI.exceptions import HTTPException
from FasterAPI.middleware._asgi import ERROR_HEADERS

logger = logging.getLogger("FasterAPI")


class ServerErrorMiddleware:
    """Sends a 500 (made by ``on_error``) when nothing was sent yet, then re-raises."""

    def __init__(
        self,
        app: ASGIApp,
        on_error: Callable[[BaseException, Scope, Receive, Send], Awaitable[None]],
        on_http_exception: Callable[[HTTPException, Scope, Receive, Send], Awaitable[None]]
        | None = None,
    ) -> None:
        self.app = app
        self.on_error = on_error
        self.on_http_exception = on_http_exception

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except HTTPException as exc:
            if started or self.on_http_exception is None:
                raise
            await self.on_http_exception(exc, scope, receive, send)
        except Exception as exc:
            if started:
                logger.exception("Exception after the response started", exc_info=exc)
            else:
                await self.on_error(exc, scope, receive, _with_error_headers(scope, send))
            raise


def _with_error_headers(scope: Scope, send: Send) -> Send:
    extra = scope.get(ERROR_HEADERS)
    if not extra:
        return send

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return send_with_headers
