"""RedisCacheMiddleware on a real redis-server: hits and misses, keys, what is never
cached, request directives, 304s, streaming pass-through, and the failure modes (Redis
down, slow, restarted, corrupt entries) where every request must still be served."""

import asyncio
import logging
import time
from email.utils import formatdate

import msgspec
import pytest
import redis

from FasterAPI import Faster, Request, WebSocket
from FasterAPI.middleware.cache import Entry, RedisCacheMiddleware, etag_matches
from FasterAPI.response import JSONResponse, PlainTextResponse, Response, StreamingResponse
from FasterAPI.testclient import TestClient
from servers import free_port

pytest_plugins = ["redis_server"]


def make_app():
    app = Faster()
    app.state.calls = 0

    def count():
        app.state.calls += 1
        return app.state.calls

    @app.get("/count")
    async def counter(request: Request):
        return {"n": count(), "query": str(request.query_params)}

    @app.get("/etag")
    async def tagged():
        return JSONResponse({"n": count()}, headers={"ETag": '"v1"', "Cache-Control": "max-age=60"})

    @app.get("/status/{code}")
    async def status(code: int):
        return JSONResponse({"n": count()}, status_code=code)

    @app.get("/header/{name}/{value}")
    async def with_header(name: str, value: str):
        return JSONResponse({"n": count()}, headers={name: value})

    @app.get("/cookie")
    async def cookie():
        response = JSONResponse({"n": count()})
        response.set_cookie("a", "b")
        return response

    @app.get("/event-stream")
    async def event_stream():
        count()
        return Response(b"data: one\n\n", media_type="text/event-stream")

    @app.get("/big/{size}")
    async def big(size: int):
        count()
        return PlainTextResponse("x" * size)

    @app.get("/stream")
    async def stream():
        count()

        async def chunks():
            yield b"one,"
            yield b"two"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.post("/count")
    async def post_count():
        return {"n": count()}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    return app


def cached(url, **options):
    app = make_app()
    return app, RedisCacheMiddleware(app, redis=url, **options)


def test_cache_miss_then_hit(redis_url):
    app, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        first = client.get("/count")
        assert first.headers["x-cache"] == "MISS"
        assert "age" not in first.headers
        second = client.get("/count")
        assert second.headers["x-cache"] == "HIT"
        assert second.headers["age"] == "0"
        assert second.json() == first.json() == {"n": 1, "query": ""}
        assert second.headers["content-type"] == "application/json"
        assert second.headers["content-length"] == first.headers["content-length"]
    assert app.state.calls == 1


def test_cache_entry_is_msgspec_encoded_with_ttl(redis_url, redis_server):
    _, middleware = cached(redis_url, ttl=30, key_prefix="test:")
    with TestClient(middleware) as client:
        client.get("/count")
    sync = redis.Redis.from_url(redis_url)
    try:
        [key] = sync.keys("*")
        assert key.startswith(b"test:v1:GET:")
        entry = msgspec.msgpack.decode(sync.get(key), type=Entry)
        assert entry.status == 200
        assert entry.body == b'{"n":1,"query":""}'
        assert (b"x-cache", b"MISS") not in entry.headers
        assert abs(entry.stored_at - time.time()) < 5
        assert 29_000 < sync.pttl(key) <= 30_000
    finally:
        sync.close()


def test_cache_age_counts_from_storage(redis_url):
    _, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        client.get("/count")
        sync = redis.Redis.from_url(redis_url)
        [key] = sync.keys("*")
        entry = msgspec.msgpack.decode(sync.get(key), type=Entry)
        entry.stored_at -= 100
        sync.set(key, msgspec.msgpack.encode(entry))
        sync.close()
        assert 100 <= int(client.get("/count").headers["age"]) <= 101


def test_cache_key_includes_query_host_and_vary_headers(redis_url):
    app, middleware = cached(redis_url, vary=["Accept-Language"])
    with TestClient(middleware) as client:
        assert client.get("/count?a=1").json()["n"] == 1
        assert client.get("/count?a=2").json()["n"] == 2
        assert client.get("/count?a=1").headers["x-cache"] == "HIT"
        assert client.get("/count?a=1", headers={"host": "other"}).json()["n"] == 3
        french = client.get("/count?a=1", headers={"accept-language": "fr"})
        assert french.json()["n"] == 4
        assert client.get("/count?a=1", headers={"accept-language": "fr"}).json()["n"] == 4
        assert client.get("/count?a=1", headers={"accept-language": ""}).json()["n"] == 5
    assert app.state.calls == 5


def link_app():
    app = Faster()
    app.state.calls = 0

    @app.get("/reset")
    async def reset(request: Request):
        app.state.calls += 1
        return {"link": str(request.url_for("reset")), "url": str(request.url)}

    return app


@pytest.mark.parametrize("protocol", ["asgi", "rsgi"])
def test_cache_request_with_two_host_lines_is_neither_stored_nor_served(
    redis_url, redis_server, protocol
):
    # RFC 9112 §3.2: such a request is invalid; the app answers 400 where it builds a URL.
    app = link_app()
    app.add_middleware(RedisCacheMiddleware, redis=redis_url)
    two_hosts = [("Host", "evil.example"), ("Host", "victim.com")]
    with TestClient(app, interface=protocol) as client:
        poisoned = client.get("/reset", headers=two_hosts)
        assert poisoned.headers["x-cache"] == "BYPASS"
        assert poisoned.status_code == 400
        assert redis_server.command(b"DBSIZE") == b":0"
        victim = client.get("/reset", headers={"Host": "victim.com"})
        assert victim.headers["x-cache"] == "MISS"
        assert victim.json() == {
            "link": "http://victim.com/reset",
            "url": "http://victim.com/reset",
        }
        assert client.get("/reset", headers={"Host": "victim.com"}).headers["x-cache"] == "HIT"
        again = client.get("/reset", headers=two_hosts)  # not served victim.com's entry
        assert again.headers["x-cache"] == "BYPASS"
        assert again.status_code == 400
        assert "evil.example" not in again.text
    assert app.state.calls == 3


def test_cache_key_without_host_uses_the_server_address_as_request_url_does(redis_url):
    app = link_app()

    async def run():
        middleware = RedisCacheMiddleware(app, redis=redis_url)
        answers = []
        for port in (8000, 8001, 8000):
            sent = []

            async def send(message, sent=sent):
                sent.append(message)

            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            scope = {
                "type": "http",
                "http_version": "1.0",
                "method": "GET",
                "path": "/reset",
                "raw_path": b"/reset",
                "query_string": b"",
                "headers": [],
                "scheme": "http",
                "server": ("10.0.0.1", port),
            }
            await middleware(scope, receive, send)
            answers.append((dict(sent[0]["headers"])[b"x-cache"], sent[1]["body"]))
        await middleware.link.aclose()
        return answers

    answers = asyncio.run(run())
    assert answers == [
        (b"MISS", b'{"link":"http://10.0.0.1:8000/reset","url":"http://10.0.0.1:8000/reset"}'),
        (b"MISS", b'{"link":"http://10.0.0.1:8001/reset","url":"http://10.0.0.1:8001/reset"}'),
        (b"HIT", b'{"link":"http://10.0.0.1:8000/reset","url":"http://10.0.0.1:8000/reset"}'),
    ]


def test_cache_head_is_served_from_get_entry_but_never_fills_it(redis_url):
    app, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        head = client.head("/count")
        assert head.headers["x-cache"] == "MISS"
        assert client.get("/count").headers["x-cache"] == "MISS"
        hit = client.head("/count")
        assert hit.headers["x-cache"] == "HIT"
        assert hit.content == b""
        assert hit.headers["content-length"] == str(len(b'{"n":2,"query":""}'))
    assert app.state.calls == 2


def test_cache_other_methods_pass_through(redis_url):
    _, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        response = client.post("/count")
        assert response.json() == {"n": 1}
        assert "x-cache" not in response.headers


@pytest.mark.parametrize("header", ["authorization", "cookie"])
def test_cache_credentialed_requests_bypass(redis_url, header):
    app, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        client.get("/count")
        for _ in range(2):
            response = client.get("/count", headers={header: "secret"})
            assert response.headers["x-cache"] == "BYPASS"
    assert app.state.calls == 3


def test_cache_credentialed_requests_cached_when_allowed(redis_url):
    app, middleware = cached(redis_url, cache_authenticated=True, vary=["authorization"])
    with TestClient(middleware) as client:
        assert client.get("/count", headers={"authorization": "a"}).json()["n"] == 1
        assert client.get("/count", headers={"authorization": "a"}).headers["x-cache"] == "HIT"
        assert client.get("/count", headers={"authorization": "b"}).json()["n"] == 2


@pytest.mark.parametrize(
    "path",
    [
        "/cookie",
        "/header/cache-control/private",
        "/header/cache-control/no-store",
        "/header/cache-control/public, no-cache",
        "/header/cache-control/no-cache",
        "/header/cache-control/max-age=0",
        "/header/cache-control/public, max-age=0",
        "/header/cache-control/s-maxage=0, max-age=60",
        "/header/cache-control/max-age=soon",
        "/header/expires/0",
        "/header/expires/Thu, 01 Jan 1970 00:00:00 GMT",
        "/header/age/61",
        "/event-stream",
        "/header/vary/*",
        "/header/vary/accept-encoding",
        "/status/201",
        "/status/404",
        "/status/500",
        "/big/1025",
        "/stream",
    ],
)
def test_cache_responses_that_are_never_stored(redis_url, redis_server, path):
    app, middleware = cached(redis_url, max_body_bytes=1024)
    with TestClient(middleware) as client:
        first = client.get(path)
        client.cookies.clear()  # a Cookie header would make it a BYPASS
        second = client.get(path)
    assert first.headers["x-cache"] == second.headers["x-cache"] == "MISS"
    assert app.state.calls == 2
    assert redis_server.command(b"DBSIZE") == b":0"


@pytest.mark.parametrize("path", ["/status/203", "/big/1024", "/header/vary/Accept-Language"])
def test_cache_responses_that_are_stored(redis_url, path):
    app, middleware = cached(redis_url, max_body_bytes=1024, vary=["accept-language"])
    with TestClient(middleware) as client:
        first = client.get(path)
        second = client.get(path)
    assert second.headers["x-cache"] == "HIT"
    assert second.status_code == first.status_code
    assert second.content == first.content
    assert app.state.calls == 1


def entry_ttl(redis_url):
    sync = redis.Redis.from_url(redis_url)
    try:
        [key] = sync.keys("*")
        return sync.pttl(key)
    finally:
        sync.close()


@pytest.mark.parametrize(
    ("path", "longest"),
    [
        ("/header/cache-control/max-age=5", 5_000),
        ('/header/cache-control/max-age="5"', 5_000),
        ("/header/cache-control/max-age=600, max-age=5", 5_000),
        ("/header/cache-control/s-maxage=5, max-age=600", 5_000),
        ("/header/cache-control/public, max-age=600", 60_000),  # ttl is the longest
        ("/header/age/50", 10_000),  # 50 of the ttl's 60 s already gone
        ("/header/cache-control/max-age=00000000005", 5_000),  # leading zeros: 5 s
    ],
)
def test_cache_response_freshness_caps_the_entry_ttl(redis_url, path, longest):
    _, middleware = cached(redis_url, ttl=60)
    with TestClient(middleware) as client:
        assert client.get(path).headers["x-cache"] == "MISS"
        assert client.get(path).headers["x-cache"] == "HIT"
    assert longest - 2_000 < entry_ttl(redis_url) <= longest


def test_cache_expires_caps_the_entry_ttl(redis_url):
    _, middleware = cached(redis_url, ttl=60)
    path = "/header/expires/" + formatdate(time.time() + 10, usegmt=True)
    with TestClient(middleware) as client:
        client.get(path)
        assert client.get(path).headers["x-cache"] == "HIT"
    assert 7_000 < entry_ttl(redis_url) <= 10_000


def test_cache_response_age_counts_in_the_hit_age(redis_url):
    _, middleware = cached(redis_url, ttl=60)
    with TestClient(middleware) as client:
        assert client.get("/header/age/50").headers["age"] == "50"
        hit = client.get("/header/age/50")
    assert hit.headers["x-cache"] == "HIT"
    assert 50 <= int(hit.headers["age"]) <= 51


def test_cache_entry_expires_with_the_response_max_age(redis_url):
    app, middleware = cached(redis_url, ttl=60)
    with TestClient(middleware) as client:
        assert client.get("/header/cache-control/max-age=1").headers["x-cache"] == "MISS"
        assert client.get("/header/cache-control/max-age=1").headers["x-cache"] == "HIT"
        time.sleep(1.1)
        assert client.get("/header/cache-control/max-age=1").headers["x-cache"] == "MISS"
    assert app.state.calls == 2


def test_cache_streamed_response_passes_through_unbuffered(redis_url):
    log = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        log.append("after first chunk")
        await send({"type": "http.response.body", "body": b"b", "more_body": False})

    async def run():
        middleware = RedisCacheMiddleware(app, redis=redis_url)
        sent = []

        async def send(message):
            sent.append(message)
            log.append(message["type"] + ":" + repr(message.get("body")))

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/s",
            "query_string": b"",
            "headers": [(b"host", b"x")],
            "scheme": "http",
        }
        await middleware(scope, receive, send)
        await middleware.link.aclose()
        return sent

    sent = asyncio.run(run())
    assert log == [
        "http.response.start:None",
        "http.response.body:b'a'",
        "after first chunk",
        "http.response.body:b'b'",
    ]
    assert sent[0]["headers"] == [(b"x-cache", b"MISS")]


def test_cache_request_no_cache_bypasses_and_refreshes(redis_url):
    _, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        assert client.get("/count").json()["n"] == 1
        fresh = client.get("/count", headers={"cache-control": "no-cache"})
        assert fresh.headers["x-cache"] == "BYPASS"
        assert fresh.json()["n"] == 2
        refreshed = client.get("/count")
        assert refreshed.headers["x-cache"] == "HIT"
        assert refreshed.json()["n"] == 2
        assert client.get("/count", headers={"pragma": "no-cache"}).json()["n"] == 3


def test_cache_request_no_store_bypasses_without_storing(redis_url, redis_server):
    _, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        response = client.get("/count", headers={"cache-control": "no-store"})
        assert response.headers["x-cache"] == "BYPASS"
    assert redis_server.command(b"DBSIZE") == b":0"


def test_cache_range_requests_bypass(redis_url):
    _, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        client.get("/count")
        assert client.get("/count", headers={"range": "bytes=0-1"}).headers["x-cache"] == "BYPASS"


def test_cache_if_none_match_gets_304_on_hit(redis_url):
    app, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        client.get("/etag")
        response = client.get("/etag", headers={"if-none-match": 'W/"v0", W/"v1"'})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == '"v1"'
        assert response.headers["cache-control"] == "max-age=60"
        assert response.headers["x-cache"] == "HIT"
        assert "content-type" not in response.headers
        other = client.get("/etag", headers={"if-none-match": '"v2"'})
        assert other.status_code == 200
        assert other.headers["x-cache"] == "HIT"
        no_etag = client.get("/count")
        assert client.get("/count", headers={"if-none-match": "*"}).status_code == 200
        assert no_etag.status_code == 200
    assert app.state.calls == 2


@pytest.mark.parametrize(
    ("header", "etag", "expected"),
    [
        (b'"a"', b'"a"', True),
        (b'W/"a"', b'"a"', True),
        (b'"a"', b'W/"a"', True),
        (b'"b", "a"', b'"a"', True),
        (b"*", b'"a"', True),
        (b'"b"', b'"a"', False),
        (b"a", b'"a"', False),
    ],
)
def test_cache_etag_matching(header, etag, expected):
    assert etag_matches(header, etag) is expected


@pytest.mark.parametrize("garbage", [b"not msgpack \xc1", msgspec.msgpack.encode([1, 2]), b""])
def test_cache_corrupt_entry_is_bypassed_and_replaced(redis_url, caplog, garbage):
    app, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        client.get("/count")
        sync = redis.Redis.from_url(redis_url)
        [key] = sync.keys("*")
        sync.set(key, garbage)
        sync.close()
        with caplog.at_level(logging.WARNING, logger="FasterAPI"):
            response = client.get("/count")
        assert response.status_code == 200
        assert response.headers["x-cache"] == "BYPASS"
        assert response.json()["n"] == 2
        assert "Corrupt response cache entry" in caplog.text
        assert client.get("/count").headers["x-cache"] == "HIT"


def test_cache_stored_entry_with_uncacheable_status_is_corrupt(redis_url):
    _, middleware = cached(redis_url)
    with TestClient(middleware) as client:
        client.get("/count")
        sync = redis.Redis.from_url(redis_url)
        [key] = sync.keys("*")
        sync.set(key, msgspec.msgpack.encode(Entry(500, [], b"", time.time())))
        sync.close()
        response = client.get("/count")
        assert response.status_code == 200
        assert response.headers["x-cache"] == "BYPASS"


def test_cache_redis_down_mid_run_serves_every_request_then_resumes(own_redis, caplog):
    app, middleware = cached(own_redis.url)
    middleware.link.cooldown = 0.2
    with TestClient(middleware) as client:
        assert client.get("/count?x=1").headers["x-cache"] == "MISS"
        assert client.get("/count?x=1").headers["x-cache"] == "HIT"
        own_redis.stop()
        with caplog.at_level(logging.WARNING, logger="FasterAPI"):
            for index in range(30):
                response = client.get(f"/count?i={index}")
                assert response.status_code == 200
                assert response.json() == {"n": index + 2, "query": f"i={index}"}
                assert response.headers["x-cache"] == "BYPASS"
        failures = [r for r in caplog.records if "response cache failed" in r.getMessage()]
        assert 1 <= len(failures) <= 2  # at most once a second
        own_redis.start()  # same port, empty
        deadline = time.monotonic() + 5
        while client.get("/count?x=2").headers["x-cache"] != "MISS":
            assert time.monotonic() < deadline, "caching did not resume"
            time.sleep(0.05)
        hit = client.get("/count?x=2")
        assert hit.headers["x-cache"] == "HIT"
        assert hit.status_code == 200
    assert middleware.link._client is None  # closed at lifespan shutdown


def test_cache_redis_unreachable_serves_every_request(caplog):
    _, middleware = cached(f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(middleware) as client, caplog.at_level(logging.WARNING, logger="FasterAPI"):
        for index in range(10):
            response = client.get("/count")
            assert response.status_code == 200
            assert response.json()["n"] == index + 1
            assert response.headers["x-cache"] == "BYPASS"
    assert len([r for r in caplog.records if "response cache failed" in r.getMessage()]) == 1


def test_cache_slow_redis_times_out_to_bypass(own_redis):
    _, middleware = cached(own_redis.url, timeout=0.1)
    with TestClient(middleware) as client:
        assert client.get("/count").headers["x-cache"] == "MISS"
        own_redis.pause()
        try:
            started = time.monotonic()
            response = client.get("/count")
            elapsed = time.monotonic() - started
        finally:
            own_redis.resume()
        assert response.status_code == 200
        assert response.headers["x-cache"] == "BYPASS"
        assert response.json()["n"] == 2
        assert elapsed < 1.0


def test_cache_with_a_redis_client_through_add_middleware(redis_url):
    import redis.asyncio

    connection = redis.asyncio.Redis.from_url(redis_url)
    app = make_app()
    app.add_middleware(RedisCacheMiddleware, redis=connection, ttl=5)
    app.on_event("shutdown")(connection.aclose)  # the client is ours to close
    with TestClient(app) as client:
        assert client.get("/count").headers["x-cache"] == "MISS"
        assert client.get("/count").headers["x-cache"] == "HIT"
        assert client.post("/count").json() == {"n": 2}


def test_cache_refuses_decoding_clients_and_bad_options(redis_url):
    import redis.asyncio

    decoding = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    with pytest.raises(ValueError, match="decode_responses"):
        RedisCacheMiddleware(None, redis=decoding)
    for options in ({"ttl": 0}, {"methods": ["POST"]}, {"max_body_bytes": -1}, {"timeout": 0}):
        with pytest.raises(ValueError):
            RedisCacheMiddleware(None, redis=redis_url, **options)


@pytest.mark.parametrize("kind", ["websocket", "lifespan"])
def test_cache_other_scopes_pass_through_untouched(kind):
    seen = []
    messages = [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]

    async def app(scope, receive, send):
        seen.append((dict(scope), receive))
        for message in messages:
            await send(message)

    async def receive():
        return {}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": kind, "path": "/ws", "headers": [(b"cookie", b"a=b")]}
    middleware = RedisCacheMiddleware(app, redis="redis://127.0.0.1:1/0")
    asyncio.run(middleware(scope, receive, send))
    assert seen == [(scope, receive)]
    assert sent == messages
    assert all(a is b for a, b in zip(sent, messages))


def test_cache_websocket_through_the_middleware(redis_url):
    _, middleware = cached(redis_url)
    with TestClient(middleware) as client, client.websocket_connect("/ws") as websocket:
        assert websocket.receive_text() == "hi"


async def serve_lifespan(receive, send):
    while True:
        message = await receive()
        phase = message["type"].rsplit(".", 1)[-1]
        await send({"type": f"lifespan.{phase}.complete"})
        if phase == "shutdown":
            return


def test_cache_response_headers_are_not_shared_between_requests(redis_url):
    shared = [(b"content-type", b"text/plain"), (b"content-length", b"2")]

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": shared})
        await send({"type": "http.response.body", "body": b"ok"})

    with TestClient(RedisCacheMiddleware(app, redis=redis_url)) as client:
        client.get("/")
        client.get("/")
    assert shared == [(b"content-type", b"text/plain"), (b"content-length", b"2")]


def test_cache_plain_response_class(redis_url):
    app = Faster()

    @app.get("/raw")
    async def raw():
        return Response(b"\x00\x01", media_type="application/octet-stream")

    with TestClient(RedisCacheMiddleware(app, redis=redis_url)) as client:
        client.get("/raw")
        hit = client.get("/raw")
        assert hit.headers["x-cache"] == "HIT"
        assert hit.content == b"\x00\x01"


def test_cache_response_dated_in_the_past_is_that_old(redis_url):
    # RFC 9111 §4.2.3: a relayed response whose Date is 30 s old has 10 s left of 40.
    app = Faster()

    @app.get("/relayed/{seconds_old}")
    async def relayed(seconds_old: int):
        sent = formatdate(time.time() - seconds_old, usegmt=True)
        return Response(b"x", headers={"date": sent, "cache-control": "max-age=40"})

    middleware = RedisCacheMiddleware(app, redis=redis_url, ttl=60)
    with TestClient(middleware) as client:
        client.get("/relayed/30")
        assert client.get("/relayed/30").headers["x-cache"] == "HIT"
        assert 7_000 < entry_ttl(redis_url) <= 10_000
        assert client.get("/relayed/50").headers["x-cache"] == "MISS"
        assert client.get("/relayed/50").headers["x-cache"] == "MISS"  # already stale
