"""The floor: a hand-written ASGI app with no framework, doing only each endpoint's own work.

It still does what the endpoint needs per request (find the route, convert the path and
query values, decode and validate the JSON body with msgspec, read the header, encode the
JSON answer), but nothing general: no middleware, no dependency injection, no response
objects. Every framework is quoted as a fraction of this app's throughput.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

import msgspec

from apps.common import (
    FILE_MEDIA_TYPE,
    FILE_PATH,
    FILE_SIZE,
    SSE_EVENT_COUNT,
    SSE_MEDIA_TYPE,
    STREAM_CHUNK,
    STREAM_CHUNK_COUNT,
    STREAM_MEDIA_TYPE,
    TEXT,
    TOKEN_HEADER,
)

NAME = "raw ASGI"


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


_encode = msgspec.json.Encoder().encode
_decode_item = msgspec.json.Decoder(Item).decode
_TOKEN = TOKEN_HEADER.encode()
_JSON = (b"content-type", b"application/json")
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_STREAM = (b"content-type", STREAM_MEDIA_TYPE.encode())


async def _send_json(send, status: int, data) -> None:
    body = _encode(data)
    headers = [_JSON, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send, status: int, detail: str) -> None:
    await _send_json(send, status, {"detail": detail})


def _parse_query(raw: bytes) -> dict[str, str]:
    """Last value wins; percent-decoding only when the string has an escape or a plus."""
    text = raw.decode("latin-1")
    escaped = "%" in text or "+" in text
    query = {}
    for pair in text.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            if escaped:
                name, value = unquote_plus(name), unquote_plus(value)
            query[name] = value
    return query


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def health(scope, receive, send) -> None:
    await _send_json(send, 200, {"status": "ok"})


async def read_item(scope, receive, send, item_id: str) -> None:
    try:
        number = int(item_id)
    except ValueError:
        await _error(send, 422, "item_id must be an integer")
        return
    query = _parse_query(scope["query_string"])
    if "q" not in query:
        await _error(send, 422, "q is required")
        return
    try:
        limit = int(query.get("limit", 10))
    except ValueError:
        await _error(send, 422, "limit must be an integer")
        return
    await _send_json(send, 200, {"item_id": number, "q": query["q"], "limit": limit})


async def create_item(scope, receive, send) -> None:
    try:
        item = _decode_item(await _read_body(receive))
    except msgspec.DecodeError as exc:
        await _error(send, 422, str(exc))
        return
    await _send_json(send, 201, item)


async def deps(scope, receive, send) -> None:
    token = None
    for name, value in scope["headers"]:
        if name == _TOKEN:
            token = value.decode("latin-1")
            break
    if token is None:
        await _error(send, 422, "x-token header is required")
        return
    await _send_json(send, 200, {"token": token, "depth": 2})


async def text(scope, receive, send) -> None:
    body = TEXT.encode()
    headers = [_TEXT, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def stream(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [_STREAM]})
    for _ in range(STREAM_CHUNK_COUNT):
        await send({"type": "http.response.body", "body": STREAM_CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


_FILE_HEADERS = [
    (b"content-type", FILE_MEDIA_TYPE.encode()),
    (b"content-length", str(FILE_SIZE).encode()),
]
_SSE = (b"content-type", SSE_MEDIA_TYPE.encode())


async def file(scope, receive, send) -> None:
    with open(FILE_PATH, "rb") as handle:
        body = handle.read()
    await send({"type": "http.response.start", "status": 200, "headers": _FILE_HEADERS})
    await send({"type": "http.response.body", "body": body})


async def sse(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [_SSE]})
    for n in range(SSE_EVENT_COUNT):
        # Each event is made when it is sent, as a live feed makes it: its JSON data
        # encoded, the event formatted.
        event = b"event: tick\nid: %d\ndata: %s\n\n" % (n, _encode({"n": n}))
        await send({"type": "http.response.body", "body": event, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


_STATIC = {
    ("GET", "/file"): file,
    ("GET", "/sse"): sse,
    ("GET", "/health"): health,
    ("POST", "/items"): create_item,
    ("GET", "/deps"): deps,
    ("GET", "/text"): text,
    ("GET", "/stream"): stream,
}


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        return
    method, path = scope["method"], scope["path"]
    handler = _STATIC.get((method, path))
    if handler is not None:
        await handler(scope, receive, send)
    elif method == "GET" and path.startswith("/items/") and path.count("/") == 2:
        await read_item(scope, receive, send, path[7:])
    else:
        await _error(send, 404, "Not Found")
