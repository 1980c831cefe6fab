"""TrustedHostMiddleware: refuse requests whose ``Host`` header is not one of yours.

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"])

This defends against Host-header attacks (poisoned password-reset links, cache poisoning)
when the app builds absolute URLs from the request.

Rules:

- Names compare case-insensitively; a trailing dot and the port are ignored
  (``Example.COM.:8443`` is ``example.com``). IPv6 literals are written without brackets
  (``"::1"``) and match ``[::1]`` or ``[::1]:8000``.
- ``*.example.com`` matches any subdomain at any depth (``a.example.com``,
  ``a.b.example.com``) but not ``example.com`` itself: list both when you want both.
- ``"*"`` allows every host; the middleware then does nothing.
- A missing, repeated or malformed Host (userinfo, path, bad port, ...) is a 400, as is a
  host not allowed. Websocket handshakes are closed with code 1008 instead.
- ``www_redirect``: when the host is not allowed but its ``www.`` form is listed explicitly
  (``"www.example.com"`` in the list, not just matched by a wildcard), an HTTP request is
  redirected there with 307, keeping scheme, port, path and query. This sends visitors of
  a bare domain to the one canonical www site instead of refusing them.
"""

from __future__ import annotations

from collections.abc import Sequence

from FasterAPI._types import ASGIApp, Receive, Scope, Send
from FasterAPI.middleware._asgi import (
    format_host,
    is_ip_literal,
    parse_host,
    request_target,
    send_redirect,
    send_response,
)

__all__ = ["TrustedHostMiddleware"]


def _normalise_pattern(pattern: str) -> str:
    text = pattern.strip().lower()
    if text == "*":
        return text
    wildcard = text.startswith("*.")
    name = text[2:] if wildcard else text
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    parsed = parse_host(f"[{name}]".encode() if ":" in name else name.encode())
    if "*" in name or parsed is None or parsed[1] is not None:
        raise ValueError(
            f"Invalid allowed host {pattern!r}: use 'example.com', '*.example.com', an IP "
            "address or '*' (no ports, no schemes)"
        )
    if wildcard and ":" in name:
        raise ValueError(f"Invalid allowed host {pattern!r}: wildcards need a domain name")
    return ("*." if wildcard else "") + parsed[0]


class TrustedHostMiddleware:
    """Lets through only requests for the listed hosts; 400 (or close 1008) otherwise."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] | None = None,
        www_redirect: bool = True,
    ) -> None:
        if isinstance(allowed_hosts, (str, bytes)):
            raise TypeError("allowed_hosts takes a list of host names, not a single string")
        patterns = [_normalise_pattern(host) for host in (allowed_hosts or ["*"])]
        self.app = app
        self.allow_any = "*" in patterns
        self.exact = frozenset(p for p in patterns if not p.startswith("*"))
        self.suffixes = tuple(p[1:] for p in patterns if p.startswith("*."))
        self.www_redirect = www_redirect

    def is_allowed(self, host: str) -> bool:
        """Whether a normalised host name (from ``parse_host``) is allowed."""
        return self.allow_any or host in self.exact or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if self.allow_any or kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        values = [value for name, value in scope["headers"] if name == b"host"]
        parsed = parse_host(values[0]) if len(values) == 1 else None
        if parsed is not None:
            host, port = parsed
            if self.is_allowed(host):
                await self.app(scope, receive, send)
                return
            www = "www." + host
            if (
                kind == "http"
                and self.www_redirect
                and www in self.exact
                and not is_ip_literal(host)
            ):
                scheme = scope.get("scheme", "http")
                location = f"{scheme}://{format_host(www, port)}{request_target(scope)}"
                await send_redirect(scope, send, location, 307)
                return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "Invalid host header"})
            return
        reason = b"Invalid host header" if parsed is not None or values else b"Missing host header"
        await send_response(send, 400, reason, head=scope.get("method") == "HEAD")
