"""The RSGI floor: a hand-written Granian RSGI app with no framework.

The RSGI twin of ``raw_asgi.py``: the same endpoints, answering byte for byte alike, with
the same per-request work (find the route, convert the path and query values, decode and
validate the JSON body with msgspec, read the header, encode the JSON answer) and nothing
general. It talks to Granian's protocol object directly: one ``response_bytes`` call per
fixed body, ``response_stream`` for the stream and SSE; the file is read with a blocking
call and sent as bytes, as the raw ASGI app sends it. FasterAPI on Granian RSGI is
quoted as a fraction of this app's throughput.

Serve it with ``granian --interface rsgi apps.raw_rsgi:app`` (it has no ASGI side).
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

NAME = "raw RSGI"


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


_encode = msgspec.json.Encoder().encode
_decode_item = msgspec.json.Decoder(Item).decode
_JSON = ("content-type", "application/json")
_TEXT = ("content-type", "text/plain; charset=utf-8")
_STREAM = ("content-type", STREAM_MEDIA_TYPE)
_TEXT_BODY = TEXT.encode()


def _send_json(protocol, status: int, data) -> None:
    body = _encode(data)
    protocol.response_bytes(status, [_JSON, ("content-length", str(len(body)))], body)


def _error(protocol, status: int, detail: str) -> None:
    _send_json(protocol, status, {"detail": detail})


def _parse_query(text: str) -> dict[str, str]:
    """Last value wins; percent-decoding only when the string has an escape or a plus."""
    escaped = "%" in text or "+" in text
    query = {}
    for pair in text.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            if escaped:
                name, value = unquote_plus(name), unquote_plus(value)
            query[name] = value
    return query


async def health(scope, protocol) -> None:
    _send_json(protocol, 200, {"status": "ok"})


async def read_item(scope, protocol, item_id: str) -> None:
    try:
        number = int(item_id)
    except ValueError:
        _error(protocol, 422, "item_id must be an integer")
        return
    query = _parse_query(scope.query_string)
    if "q" not in query:
        _error(protocol, 422, "q is required")
        return
    try:
        limit = int(query.get("limit", 10))
    except ValueError:
        _error(protocol, 422, "limit must be an integer")
        return
    _send_json(protocol, 200, {"item_id": number, "q": query["q"], "limit": limit})


async def create_item(scope, protocol) -> None:
    try:
        item = _decode_item(await protocol())
    except msgspec.DecodeError as exc:
        _error(protocol, 422, str(exc))
        return
    _send_json(protocol, 201, item)


async def deps(scope, protocol) -> None:
    token = scope.headers.get(TOKEN_HEADER)
    if token is None:
        _error(protocol, 422, "x-token header is required")
        return
    _send_json(protocol, 200, {"token": token, "depth": 2})


async def text(scope, protocol) -> None:
    headers = [_TEXT, ("content-length", str(len(_TEXT_BODY)))]
    protocol.response_bytes(200, headers, _TEXT_BODY)


async def stream(scope, protocol) -> None:
    transport = protocol.response_stream(200, [_STREAM])
    for _ in range(STREAM_CHUNK_COUNT):
        await transport.send_bytes(STREAM_CHUNK)


_FILE_HEADERS = [("content-type", FILE_MEDIA_TYPE), ("content-length", str(FILE_SIZE))]
_SSE = ("content-type", SSE_MEDIA_TYPE)


async def file(scope, protocol) -> None:
    # As the raw ASGI app: a blocking read on the loop, then bytes (for 64 KiB faster
    # than Granian's response_file).
    with open(FILE_PATH, "rb") as handle:
        body = handle.read()
    protocol.response_bytes(200, _FILE_HEADERS, body)


async def sse(scope, protocol) -> None:
    transport = protocol.response_stream(200, [_SSE])
    for n in range(SSE_EVENT_COUNT):
        # Made when sent, as in raw_asgi.py.
        await transport.send_bytes(b"event: tick\nid: %d\ndata: %s\n\n" % (n, _encode({"n": n})))


_STATIC = {
    ("GET", "/file"): file,
    ("GET", "/sse"): sse,
    ("GET", "/health"): health,
    ("POST", "/items"): create_item,
    ("GET", "/deps"): deps,
    ("GET", "/text"): text,
    ("GET", "/stream"): stream,
}


async def app(scope, protocol) -> None:
    if scope.proto != "http":
        protocol.close(404)  # websockets: not served
        return
    method, path = scope.method, scope.path
    handler = _STATIC.get((method, path))
    if handler is not None:
        await handler(scope, protocol)
    elif method == "GET" and path.startswith("/items/") and path.count("/") == 2:
        await read_item(scope, protocol, path[7:])
    else:
        _error(protocol, 404, "Not Found")
