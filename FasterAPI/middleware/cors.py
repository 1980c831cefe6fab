"""CORSMiddleware: cross-origin resource sharing, denied unless configured.

    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://app.example.com"],
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization"],
        allow_credentials=True,
    )

Rules:

- Nothing is allowed by default: no origin, only ``GET``, only the CORS-safelisted request
  headers (``Accept``, ``Accept-Language``, ``Content-Language``, ``Content-Type``).
- ``allow_origins`` are exact ``scheme://host[:port]`` strings (compared case-insensitively);
  ``"*"`` allows any origin but cannot be combined with ``allow_credentials=True``
  (``ValueError`` at start-up: browsers forbid it and echoing every origin would hand any
  site the user's cookies). ``allow_origin_regex`` must match the whole origin
  (``fullmatch``), so ``https://.*\\.example\\.com`` does not match
  ``https://evil.example.com.attacker.io``.
- A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered
  here, never by the app: 200 with the exact allowed methods and headers, or 400 with a plain
  reason. ``"*"`` in ``allow_methods``/``allow_headers`` echoes what was requested (a literal
  ``*`` means nothing to browsers on credentialed requests).
- Every HTTP response gets ``Vary: Origin``: what it carries depends on the Origin header.
  Responses to allowed origins get the CORS headers, error responses (404, 405, 500 from
  exception handlers) included. For an unhandled exception the 500 is sent by the outermost
  error middleware; the headers are left for it in ``scope["fasterapi.error_headers"]``.
- Responses to disallowed origins get no CORS headers, so the browser withholds them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from FasterAPI._extract import get_header
from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send
from FasterAPI.middleware._asgi import (
    RawHeaders,
    add_error_headers,
    send_response,
    with_vary,
)

__all__ = ["CORSMiddleware"]

SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PREFLIGHT_VARY = (
    b"vary",
    b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
)
_CORS_NAMES = frozenset(
    {
        b"access-control-allow-origin",
        b"access-control-allow-credentials",
        b"access-control-expose-headers",
    }
)


def _check_list(name: str, value: Sequence[str]) -> list[str]:
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} takes a list of strings, not a single string")
    return [item.strip() for item in value]


def _normalise_origin(origin: str) -> str:
    lowered = origin.lower()
    if lowered == "null":
        return lowered
    scheme, sep, rest = lowered.partition("://")
    rest = rest.removesuffix("/")
    if not sep or not scheme or not rest or "/" in rest:
        raise ValueError(
            f"CORS origin {origin!r} must look like 'https://example.com[:port]', with no path"
        )
    return f"{scheme}://{rest}"


class CORSMiddleware:
    """Adds CORS headers for allowed origins and answers preflight requests."""

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        origins = _check_list("allow_origins", allow_origins)
        methods = [method.upper() for method in _check_list("allow_methods", allow_methods)]
        headers = [header.lower() for header in _check_list("allow_headers", allow_headers)]
        exposed = _check_list("expose_headers", expose_headers)
        for item in [*methods, *headers, *exposed]:
            if item != "*" and not _TOKEN.fullmatch(item):
                raise ValueError(f"{item!r} is not a valid HTTP method or header name")
        self.app = app
        self.allow_all_origins = "*" in origins
        if allow_credentials and self.allow_all_origins:
            raise ValueError(
                "allow_credentials=True cannot be used with allow_origins=['*']: "
                "list the trusted origins explicitly"
            )
        self.allow_origins = frozenset(_normalise_origin(o) for o in origins if o != "*")
        self.allow_origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        self.allow_all_methods = "*" in methods
        self.allow_methods = frozenset(m for m in methods if m != "*")
        self.allow_all_headers = "*" in headers
        self.allow_headers = frozenset(h for h in headers if h != "*") | SAFELISTED_HEADERS
        self.allow_credentials = allow_credentials
        self.max_age = max_age

        # PERF: every header value is encoded once here, not per request.
        common: RawHeaders = []
        if allow_credentials:
            common.append((b"access-control-allow-credentials", b"true"))
        self._preflight_common = [*common, (b"access-control-max-age", str(max_age).encode())]
        if exposed:
            common.append((b"access-control-expose-headers", ", ".join(exposed).encode()))
        self._simple_common = common
        self._star_simple = [(b"access-control-allow-origin", b"*"), *common]
        self._methods_value = ", ".join(sorted(self.allow_methods)).encode()
        self._headers_value = ", ".join(sorted(self.allow_headers)).encode()

    def is_allowed_origin(self, origin: str) -> bool:
        if self.allow_all_origins or origin.lower() in self.allow_origins:
            return True
        regex = self.allow_origin_regex
        return regex is not None and regex.fullmatch(origin) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        origin = get_header(headers, b"origin")
        if origin is not None and scope["method"] == "OPTIONS":
            requested = get_header(headers, b"access-control-request-method")
            if requested is not None:
                await self._preflight(scope, send, origin, requested)
                return
        if origin is None:
            added: RawHeaders = []
        elif self.allow_all_origins:
            added = self._star_simple
        elif self.is_allowed_origin(origin.decode("latin-1")):
            added = [(b"access-control-allow-origin", origin), *self._simple_common]
        else:
            added = []

        async def cors_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.get("headers") or []
                if added:
                    raw = [pair for pair in raw if pair[0].lower() not in _CORS_NAMES]
                    raw.extend(added)
                message = {**message, "headers": with_vary(raw, b"Origin")}
            await send(message)

        try:
            await self.app(scope, receive, cors_send)
        except Exception:
            add_error_headers(scope, [*added, (b"vary", b"Origin")])
            raise

    async def _preflight(self, scope: Scope, send: Send, origin: bytes, requested: bytes) -> None:
        """Answer the preflight: 200 with what is allowed, or 400 naming what is not."""
        problems: list[str] = []
        origin_ok = self.is_allowed_origin(origin.decode("latin-1"))
        if not origin_ok:
            problems.append("origin")
        method = requested.decode("latin-1").strip()
        if not _TOKEN.fullmatch(method) or not (
            self.allow_all_methods or method in self.allow_methods
        ):
            problems.append("method")
        asked = get_header(scope["headers"], b"access-control-request-headers") or b""
        names = [name.strip().lower() for name in asked.decode("latin-1").split(",")]
        names = [name for name in names if name]
        if any(not _TOKEN.fullmatch(name) for name in names) or not (
            self.allow_all_headers or all(name in self.allow_headers for name in names)
        ):
            problems.append("headers")
        out: RawHeaders = [_PREFLIGHT_VARY]
        if origin_ok:
            allow_origin = b"*" if self.allow_all_origins else origin
            out.append((b"access-control-allow-origin", allow_origin))
            out.extend(self._preflight_common)
            # "*" echoes the request, but only once it has been checked.
            echo_method = self.allow_all_methods and "method" not in problems
            methods = method.encode() if echo_method else self._methods_value
            if methods:
                out.append((b"access-control-allow-methods", methods))
            echo_headers = self.allow_all_headers and "headers" not in problems
            allowed = ", ".join(names).encode() if echo_headers else self._headers_value
            if allowed:
                out.append((b"access-control-allow-headers", allowed))
        if problems:
            reason = "Disallowed CORS " + ", ".join(problems)
            await send_response(send, 400, reason.encode(), out)
        else:
            await send_response(send, 200, b"OK", out)
