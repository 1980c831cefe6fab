"""Small raw-ASGI helpers the built-in middleware share: header lookup, ``Vary`` merging,
tiny responses, Host parsing and the ``fasterapi.error_headers`` scope contract."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote_from_bytes

import msgspec

from FasterAPI._types import Message, Scope, Send
from FasterAPI.datastructures import url_path

RawHeaders = list[tuple[bytes, bytes]]

# Scope key: header pairs that the outermost error middleware adds to the 500 it sends when
# an exception escapes the stack before a response started (CORS and request-id use it).
ERROR_HEADERS = "fasterapi.error_headers"

_TEXT_PLAIN = (b"content-type", b"text/plain; charset=utf-8")
_HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?")
_IPV6 = re.compile(r"[0-9a-f:.]+")


def _has_token(value: bytes, token: bytes) -> bool:
    lowered = token.lower()
    return any(part.strip().lower() in (lowered, b"*") for part in value.split(b","))


def with_vary(headers: Sequence[tuple[bytes, bytes]], token: bytes) -> RawHeaders:
    """A copy of ``headers`` whose ``Vary`` lists ``token`` (merged into an existing one)."""
    out: RawHeaders = []
    merged = False
    for key, value in headers:
        if key.lower() == b"vary" and not merged:
            merged = True
            if not _has_token(value, token):
                value = value + b", " + token if value.strip() else token
        out.append((key, value))
    if not merged:
        out.append((b"vary", token))
    return out


def add_error_headers(scope: Scope, headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Ask the error middleware to add ``headers`` to a 500 sent for this request."""
    pending: RawHeaders | None = scope.get(ERROR_HEADERS)
    if pending is None:
        pending = scope[ERROR_HEADERS] = []
    pending.extend(headers)


async def send_response(
    send: Send,
    status: int,
    body: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    *,
    head: bool = False,
) -> None:
    """Send a complete small response (not its body for HEAD).

    ``body`` is plain text; for an error status it goes out as ``{"detail": body}`` JSON,
    like every other error the framework answers.
    """
    raw: RawHeaders = list(headers)
    content_type = _TEXT_PLAIN
    if body and status >= 400:
        body = msgspec.json.encode({"detail": body.decode("utf-8", "replace")})
        content_type = (b"content-type", b"application/json")
    raw.append((b"content-length", str(len(body)).encode()))
    if body:
        raw.append(content_type)
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def send_redirect(scope: Scope, send: Send, location: str, status: int) -> None:
    """Redirect an HTTP request, or a websocket handshake when the server offers
    ``websocket.http.response``; otherwise close the websocket with 1008."""
    headers = [(b"location", location.encode("ascii"))]
    if scope["type"] == "http":
        await send_response(send, status, headers=headers)
    elif "websocket.http.response" in (scope.get("extensions") or {}):
        headers.append((b"content-length", b"0"))
        start = {"type": "websocket.http.response.start", "status": status, "headers": headers}
        await send(start)
        await send({"type": "websocket.http.response.body", "body": b""})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": "Use " + location[:100]})


def request_target(scope: Scope) -> str:
    """The request's path and query, percent-encoded, for building a ``Location``."""
    target = url_path(scope)
    query: bytes = scope.get("query_string", b"")
    if query:
        target += "?" + quote_from_bytes(query, safe="/%:@!$&'()*+,;=~?")
    return target


def parse_host(value: bytes) -> tuple[str, int | None] | None:
    """Split a Host header into a lower-case host name (IPv6 without brackets) and port.

    Returns None for anything that is not a plain host name, IPv4 or bracketed IPv6
    literal with an optional numeric port: userinfo, paths, spaces and empty hosts.
    """
    try:
        text = value.decode("ascii").strip().lower()
    except UnicodeDecodeError:
        return None
    port_text = ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                return None
            port_text = rest[1:]
        if ":" not in host or not _IPV6.fullmatch(host):
            return None
    else:
        host, sep, port_text = text.partition(":")
        if sep and not port_text:
            return None
        if len(host) > 253 or not _HOST_NAME.fullmatch(host):
            return None
        host = host.rstrip(".")
    port: int | None = None
    if port_text:
        if not port_text.isdigit() or len(port_text) > 5 or int(port_text) > 65535:
            return None
        port = int(port_text)
    return host, port


def format_host(host: str, port: int | None) -> str:
    """The inverse of ``parse_host``: brackets for IPv6, ``:port`` when given."""
    netloc = f"[{host}]" if ":" in host else host
    return netloc if port is None else f"{netloc}:{port}"


def is_ip_literal(host: str) -> bool:
    return ":" in host or host.replace(".", "").isdigit()


def start_headers(message: Message) -> RawHeaders:
    """The headers of an ``http.response.start`` message as a fresh list (never mutate the
    response's own list: it may be a module-level constant reused by other requests)."""
    return list(message.get("headers") or ())
