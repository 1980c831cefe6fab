"""GZipMiddleware: negotiation, sizes, streaming chunk by chunk, exclusions, websockets."""

import gzip
import os
import zlib

import anyio
import brotli
import pytest
import zstandard

from FasterAPI import Faster, PlainTextResponse, Response, StreamingResponse, WebSocket
from FasterAPI.middleware.gzip import GZipMiddleware, negotiate, parse_accept_encoding
from FasterAPI.sse import EventSourceResponse
from FasterAPI.testclient import TestClient

BIG = "x" * 1000
NOISE = os.urandom(1024)
OFFER = ("br", "zstd", "gzip")


@pytest.fixture
def anyio_backend():
    return "asyncio"


def decode(coding, data):
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "br":
        return brotli.decompress(data)
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def make_app(**options):
    app = Faster()

    @app.get("/big")
    async def big():
        return PlainTextResponse(BIG, headers={"ETag": '"v1"'})

    @app.get("/small")
    async def small():
        return PlainTextResponse("tiny")

    @app.get("/encoded")
    async def encoded():
        return Response(gzip.compress(BIG.encode()), headers={"Content-Encoding": "gzip"})

    @app.get("/no-transform")
    async def no_transform():
        return PlainTextResponse(BIG, headers={"Cache-Control": "no-transform"})

    @app.get("/stream")
    async def stream():
        async def chunks():
            for i in range(5):
                yield f"chunk {i} " * 100

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/events")
    async def events():
        async def feed():
            for i in range(3):
                yield {"data": "y" * 400, "id": str(i)}

        return EventSourceResponse(feed())

    @app.get("/random")
    async def random_bytes():
        return Response(NOISE, media_type="application/octet-stream")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text(BIG)
        await websocket.close()

    app.add_middleware(GZipMiddleware, **options)
    return app


@pytest.fixture
def client():
    return TestClient(make_app(minimum_size=500))


def raw_get(client, path, accept):
    with client.stream("GET", path, headers={"Accept-Encoding": accept}) as response:
        return response, b"".join(response.iter_raw())


# -- negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("zstd, gzip", "zstd"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("*, br;q=0", "zstd"),
        ("*;q=0", None),
        ("gzip;q=0", None),
        ("identity", None),
        ("", None),
        ("x-gzip", "gzip"),
        ("GZIP", "gzip"),
        ("gzip;q=abc, zstd;q=0.1", "zstd"),
        ("gzip;q=2", None),
        ("gzip;q=nan", None),
        ("gzip, gzip;q=0", None),
        ("deflate, compress", None),
        ("  br ;  q=0.8 , gzip ; q=0.8", "br"),
    ],
)
def test_gzip_negotiate_q_values(header, expected):
    assert negotiate(header, OFFER) == expected


def test_gzip_negotiate_follows_the_server_order_on_ties():
    assert negotiate("gzip, br", ("gzip", "br")) == "gzip"
    assert parse_accept_encoding("br;q=0.5;level=1, *;q=0.1") == {"br": 0.5, "*": 0.1}


def test_gzip_unknown_or_missing_encodings_are_refused():
    with pytest.raises(ValueError):
        GZipMiddleware(make_app(), encodings=("deflate",))
    with pytest.raises(TypeError):
        GZipMiddleware(make_app(), encodings="gzip")
    with pytest.raises(ValueError):
        GZipMiddleware(make_app(), compresslevel=10)


# -- fixed bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("interface", ["asgi", "rsgi"], indirect=True)
@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_gzip_fixed_body_compressed_with_correct_length(client, coding):
    response, raw = raw_get(client, "/big", coding)
    assert response.headers["content-encoding"] == coding
    assert response.headers["content-length"] == str(len(raw))
    assert len(raw) < len(BIG)
    assert decode(coding, raw) == BIG.encode()
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["etag"] == 'W/"v1"'


def test_gzip_client_decodes_transparently(client):
    response = client.get("/big", headers={"Accept-Encoding": "gzip"})
    assert response.text == BIG


def test_gzip_small_body_untouched(client):
    response, raw = raw_get(client, "/small", "gzip")
    assert raw == b"tiny"
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == "4"
    assert "vary" not in response.headers


def test_gzip_no_acceptable_coding_sends_identity_but_varies(client):
    for accept in ("identity", "gzip;q=0", ""):
        response, raw = raw_get(client, "/big", accept)
        assert raw == BIG.encode()
        assert "content-encoding" not in response.headers
        assert response.headers["content-length"] == str(len(BIG))
        assert response.headers["vary"] == "Accept-Encoding"


def test_gzip_already_encoded_response_passes_through(client):
    response, raw = raw_get(client, "/encoded", "br, gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == BIG.encode()
    assert response.headers.get_list("content-encoding") == ["gzip"]


def test_gzip_respects_no_transform(client):
    response, raw = raw_get(client, "/no-transform", "gzip")
    assert raw == BIG.encode()
    assert "content-encoding" not in response.headers


def test_gzip_incompressible_body_sent_as_is(client):
    response, raw = raw_get(client, "/random", "gzip")
    assert raw == NOISE
    assert "content-encoding" not in response.headers


def test_gzip_head_is_never_compressed(client):
    response = client.head("/big", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(BIG))
    assert response.headers["vary"] == "Accept-Encoding"


def test_gzip_encodings_option_restricts_the_offer():
    client = TestClient(make_app(encodings=("gzip",)))
    response, _ = raw_get(client, "/big", "br, zstd, gzip;q=0.1")
    assert response.headers["content-encoding"] == "gzip"


# -- streaming -----------------------------------------------------------------------------


@pytest.mark.parametrize("interface", ["asgi", "rsgi"], indirect=True)
@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_gzip_streaming_compressed_chunk_by_chunk(client, coding):
    response, raw = raw_get(client, "/stream", coding)
    assert response.headers["content-encoding"] == coding
    assert "content-length" not in response.headers
    expected = "".join(f"chunk {i} " * 100 for i in range(5)).encode()
    assert decode(coding, raw) == expected


def test_gzip_server_sent_events_are_never_compressed(client):
    response, raw = raw_get(client, "/events", "gzip, br")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in response.headers
    assert raw.count(b"y" * 400) == 3


def test_gzip_passes_websockets_through(client):
    with client.websocket_connect("/ws", headers={"Accept-Encoding": "gzip"}) as session:
        assert session.receive_text() == BIG


# -- exact messages on the wire ------------------------------------------------------------


def http_scope(accept=b"gzip", method="GET"):
    return {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"accept-encoding", accept)],
    }


async def receive():
    await anyio.sleep_forever()


@pytest.mark.anyio
async def test_gzip_streaming_sends_each_chunk_decodable_as_it_arrives():
    events = []
    parts = [b"alpha " * 200, b"beta " * 200, b"gamma " * 200]

    async def app(scope, receive, send):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"9999")],
            }
        )
        for part in parts:
            events.append("produce")
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    messages = []

    async def send(message):
        events.append(message["type"])
        messages.append(message)

    await GZipMiddleware(app)(http_scope(), receive, send)
    start, *bodies = messages
    headers = dict(start["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert b"content-length" not in headers
    # Nothing is held back: each produced chunk is sent before the next is produced.
    assert events == [
        "produce",
        "http.response.start",
        "http.response.body",
        "produce",
        "http.response.body",
        "produce",
        "http.response.body",
        "http.response.body",
    ]
    assert len([b for b in bodies if b["body"]]) > 1
    decoder = zlib.decompressobj(31)
    for part, message in zip(parts, bodies):
        assert message["more_body"] is True
        assert decoder.decompress(message["body"]) == part  # flushed: decodable at once
    assert bodies[-1]["more_body"] is False
    decoder.decompress(bodies[-1]["body"])
    assert decoder.eof


@pytest.mark.anyio
async def test_gzip_pathsend_passes_through_unchanged():
    async def app(scope, receive, send):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5000")],
            }
        )
        await send({"type": "http.response.pathsend", "path": "/tmp/file.txt"})

    messages = []

    async def send(message):
        messages.append(message)

    await GZipMiddleware(app)(http_scope(), receive, send)
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.pathsend"]
    assert dict(messages[0]["headers"])[b"content-length"] == b"5000"


@pytest.mark.anyio
@pytest.mark.parametrize("status", [204, 304, 206])
async def test_gzip_bodiless_and_partial_statuses_untouched(status):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"z" * 600 if status == 206 else b""})

    messages = []

    async def send(message):
        messages.append(message)

    await GZipMiddleware(app)(http_scope(), receive, send)
    assert messages[0]["headers"] == []


@pytest.mark.anyio
async def test_gzip_lifespan_passes_through():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    await GZipMiddleware(app)({"type": "lifespan"}, receive, None)
    assert seen == ["lifespan"]


def test_gzip_optional_codings_are_offered_only_when_importable(monkeypatch):
    import FasterAPI.middleware.gzip as module

    monkeypatch.setattr(module, "brotli", None)
    monkeypatch.setattr(module, "zstandard", None)
    assert module.available_encodings() == ("gzip",)
    with pytest.raises(ValueError, match="brotli"):
        GZipMiddleware(make_app(), encodings=("br",))
    client = TestClient(make_app())
    response, raw = raw_get(client, "/big", "br, zstd, gzip;q=0.5")
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == BIG.encode()


def test_gzip_304_for_a_compressed_copy_carries_its_etag_and_vary(tmp_path):
    # The compressed 200 has a weak ETag and Vary; revalidating that copy must give a 304
    # with the same validators, so caches can refresh what they stored.
    from FasterAPI.staticfiles import StaticFiles

    (tmp_path / "page.html").write_text("<p>" + "hello " * 400 + "</p>")
    app = Faster()
    app.mount("/static", StaticFiles(directory=tmp_path))
    app.add_middleware(GZipMiddleware, minimum_size=100)
    client = TestClient(app)
    full = client.get("/static/page.html", headers={"accept-encoding": "gzip"})
    assert full.headers["content-encoding"] == "gzip"
    weak = full.headers["etag"]
    assert weak.startswith('W/"')
    again = client.get(
        "/static/page.html", headers={"accept-encoding": "gzip", "if-none-match": weak}
    )
    assert again.status_code == 304
    assert again.headers["etag"] == weak
    assert "accept-encoding" in again.headers["vary"].lower()
    # A client holding the uncompressed copy revalidates it with the strong ETag.
    strong = weak[2:]
    plain = client.get("/static/page.html", headers={"if-none-match": strong})
    assert plain.status_code == 304
    assert plain.headers["etag"] == strong
