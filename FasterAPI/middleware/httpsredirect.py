"""HTTPSRedirectMiddleware: send plain-HTTP requests to the same URL over HTTPS.

    app.add_middleware(HTTPSRedirectMiddleware)

``http://example.com:80/a?b=1`` is redirected to ``https://example.com/a?b=1``: path and query
are kept, the default ports (80, 443) are dropped, other ports are kept.

The status is **307 Temporary Redirect** by default (``status_code=308`` for a permanent
one). Both make the client repeat the same method with the same body, so a ``POST`` is not
turned into a ``GET`` that silently loses its body, as 301/302 do in practice. 307 is the
default because browsers cache a permanent redirect indefinitely, which would strand
clients if TLS is later moved elsewhere; the lasting way to keep browsers on HTTPS is an
``Strict-Transport-Security`` header. Websocket handshakes on ``ws://`` get the same
redirect to ``wss://`` when the server offers the ``websocket.http.response`` extension,
and are closed with code 1008 otherwise (browsers cannot follow a websocket redirect, so
the close reason names the ``wss://`` URL).

Behind a TLS-terminating proxy, make the server trust the proxy's forwarded headers
(``uvicorn --proxy-headers``) so ``scope["scheme"]`` is ``https``, or every request loops.
"""

from __future__ import annotations

from FasterAPI._types import ASGIApp, Receive, Scope, Send
from FasterAPI.middleware._asgi import (
    format_host,
    parse_host,
    request_target,
    send_redirect,
    send_response,
)

__all__ = ["HTTPSRedirectMiddleware"]

_SECURE = {"http": "https", "ws": "wss"}
_DEFAULT_PORTS = (80, 443)


class HTTPSRedirectMiddleware:
    """Redirects ``http``/``ws`` requests to ``https``/``wss``; secure ones pass through."""

    def __init__(self, app: ASGIApp, status_code: int = 307) -> None:
        if status_code not in (307, 308):
            raise ValueError("status_code must be 307 or 308: both keep the method and body")
        self.app = app
        self.status_code = status_code

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure = _SECURE.get(scope.get("scheme", "")) if scope["type"] != "lifespan" else None
        if secure is None:
            await self.app(scope, receive, send)
            return
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        host_header = hosts[0] if hosts else None
        if len(hosts) > 1:  # which would the redirect go to? (RFC 9112 §3.2: a 400)
            parsed = None
        elif host_header is not None:
            parsed = parse_host(host_header)
        else:
            server = scope.get("server")
            parsed = (str(server[0]).lower(), server[1]) if server else None
        if parsed is None:
            if scope["type"] == "http":
                await send_response(send, 400, b"Invalid host header")
            else:
                await send({"type": "websocket.close", "code": 1008, "reason": "Invalid host"})
            return
        host, port = parsed
        if port in _DEFAULT_PORTS:
            port = None
        location = f"{secure}://{format_host(host, port)}{request_target(scope)}"
        await send_redirect(scope, send, location, self.status_code)
