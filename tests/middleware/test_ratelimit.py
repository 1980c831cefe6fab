"""RateLimitMiddleware: GCRA limits and headers, keys, trusted proxies, exemptions, the
bounded memory backend, and the Redis backend (atomic, shared, fail-open) on a real
redis-server."""

import asyncio
import logging
import time

import pytest

from FasterAPI import Faster, WebSocket
from FasterAPI.middleware.ratelimit import MemoryBackend, RateLimitMiddleware, RedisBackend
from FasterAPI.testclient import TestClient

pytest_plugins = ["redis_server"]


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def make_app(**options):
    app = Faster()

    @app.get("/")
    async def index():
        return {"ok": True}

    @app.get("/health")
    async def health():
        return {"ok": True}

    @app.get("/static/app.js")
    async def static():
        return {"ok": True}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    app.add_middleware(RateLimitMiddleware, **options)
    return app


def memory(clock=None, **options):
    return MemoryBackend(clock=clock or Clock(), **options)


def test_ratelimit_allows_the_limit_then_refuses_with_429():
    client = TestClient(make_app(limit=3, window=60, backend=memory()))
    for remaining in ("2", "1", "0"):
        response = client.get("/")
        assert response.status_code == 200
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-remaining"] == remaining
    assert response.headers["ratelimit-reset"] == "60"
    refused = client.get("/")
    assert refused.status_code == 429
    assert refused.json() == {"detail": "Too Many Requests"}
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["retry-after"] == "20"
    assert refused.headers["ratelimit-limit"] == "3"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["ratelimit-reset"] == "60"


def test_ratelimit_allowance_comes_back_one_interval_at_a_time():
    clock = Clock()
    client = TestClient(make_app(limit=3, window=60, backend=memory(clock)))
    for _ in range(3):
        assert client.get("/").status_code == 200
    clock.now += 19.9
    assert client.get("/").status_code == 429
    clock.now += 0.1
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["ratelimit-remaining"] == "0"
    clock.now += 60
    assert client.get("/").headers["ratelimit-remaining"] == "2"


def test_ratelimit_refused_requests_do_not_extend_the_wait():
    clock = Clock()
    client = TestClient(make_app(limit=1, window=10, backend=memory(clock)))
    assert client.get("/").status_code == 200
    for _ in range(5):
        assert client.get("/").status_code == 429
    clock.now += 10
    assert client.get("/").status_code == 200


def test_ratelimit_head_refusal_has_no_body():
    client = TestClient(make_app(limit=1, window=60, backend=memory()))
    client.head("/")
    response = client.head("/")
    assert response.status_code == 429
    assert response.content == b""
    assert response.headers["content-length"] == str(len(b'{"detail":"Too Many Requests"}'))


def test_ratelimit_header_key_counts_per_value_and_falls_back_to_ip():
    client = TestClient(make_app(limit=1, window=60, key="header:X-API-Key", backend=memory()))
    assert client.get("/", headers={"x-api-key": "a"}).status_code == 200
    assert client.get("/", headers={"x-api-key": "a"}).status_code == 429
    assert client.get("/", headers={"x-api-key": "b"}).status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 429


def test_ratelimit_callable_key_and_none_means_not_counted():
    def key(scope):
        return None if scope["path"] == "/health" else "everyone"

    client = TestClient(make_app(limit=1, window=60, key=key, backend=memory()))
    assert client.get("/").status_code == 200
    assert client.get("/static/app.js").status_code == 429
    response = client.get("/health")
    assert response.status_code == 200
    assert "ratelimit-limit" not in response.headers


def test_ratelimit_async_key():
    async def key(scope):
        return dict(scope["headers"]).get(b"x-user", b"anon").decode()

    client = TestClient(make_app(limit=1, window=60, key=key, backend=memory()))
    assert client.get("/", headers={"x-user": "u1"}).status_code == 200
    assert client.get("/", headers={"x-user": "u2"}).status_code == 200
    assert client.get("/", headers={"x-user": "u1"}).status_code == 429


@pytest.mark.parametrize("exempt", [["/health", "/static/*"], lambda scope: scope["path"] != "/"])
def test_ratelimit_exempt_paths_are_not_counted(exempt):
    client = TestClient(make_app(limit=1, window=60, exempt=exempt, backend=memory()))
    for _ in range(3):
        response = client.get("/health")
        assert response.status_code == 200
        assert "ratelimit-limit" not in response.headers
        assert client.get("/static/app.js").status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 429


def test_ratelimit_separate_limits_sharing_a_backend_do_not_share_counters():
    backend = memory()
    inner = make_app(limit=1, window=60, backend=backend)
    outer = RateLimitMiddleware(inner, limit=5, window=60, backend=backend)
    client = TestClient(outer)
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers.get_list("ratelimit-limit") == ["1", "5"]
    assert client.get("/").status_code == 429


# -- client addresses and proxies --------------------------------------------------------


def scope_from(peer, *forwarded):
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": (peer, 5000) if peer else None, "headers": headers}


def limiter(trusted=()):
    return RateLimitMiddleware(None, limit=1, window=1, trusted_proxies=trusted)


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        ((), "203.0.113.9", ["1.2.3.4"], "203.0.113.9"),  # no trusted proxies: peer
        (["10.0.0.1"], "203.0.113.9", ["1.2.3.4"], "203.0.113.9"),  # peer not trusted
        (["10.0.0.1"], "10.0.0.1", [], "10.0.0.1"),  # trusted, no header
        (["10.0.0.1"], "10.0.0.1", ["1.2.3.4"], "1.2.3.4"),
        (["10.0.0.0/8"], "10.1.2.3", ["6.6.6.6, 1.2.3.4, 10.9.9.9"], "1.2.3.4"),  # spoofed left
        (["10.0.0.0/8"], "10.1.2.3", ["6.6.6.6", "1.2.3.4"], "1.2.3.4"),  # several headers
        (["10.0.0.0/8"], "10.1.2.3", ["10.5.5.5, 10.6.6.6"], "10.5.5.5"),  # all trusted
        (["10.0.0.0/8"], "10.1.2.3", ["1.2.3.4:5678"], "1.2.3.4"),
        (["::1"], "::1", ["[2001:db8::1]:443"], "2001:db8::1"),
        (["::1"], "::1", ["2001:DB8::2"], "2001:db8::2"),
        (["10.0.0.0/8"], "10.1.2.3", ["unknown"], "unknown"),
        ([], None, [], "unknown"),
    ],
)
def test_ratelimit_client_ip(trusted, peer, forwarded, expected):
    assert limiter(trusted).client_ip(scope_from(peer, *forwarded)) == expected


def test_ratelimit_forwarded_for_end_to_end_behind_a_trusted_proxy():
    middleware = make_app(limit=1, window=60, trusted_proxies=["10.0.0.1"], backend=memory())

    async def call(peer, forwarded):
        messages = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            messages.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/",
            "raw_path": b"/",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"x"), (b"x-forwarded-for", forwarded.encode())],
            "client": (peer, 1234),
            "server": ("x", 80),
        }
        await middleware(scope, receive, send)
        return messages[0]["status"]

    async def scenario():
        assert await call("10.0.0.1", "1.1.1.1") == 200
        assert await call("10.0.0.1", "2.2.2.2") == 200  # another client behind the proxy
        assert await call("10.0.0.1", "1.1.1.1") == 429
        assert await call("10.0.0.1", "9.9.9.9, 1.1.1.1") == 429  # spoofing does not help
        assert await call("5.5.5.5", "3.3.3.3") == 200  # untrusted peer: its own address
        assert await call("5.5.5.5", "4.4.4.4") == 429

    asyncio.run(scenario())


def test_ratelimit_long_keys_are_hashed():
    backend = memory()
    client = TestClient(make_app(limit=1, window=60, key="header:x-key", backend=backend))
    client.get("/", headers={"x-key": "k" * 10_000})
    [key] = backend._tats
    assert len(key) < 120


# -- memory backend ----------------------------------------------------------------------


def test_ratelimit_memory_backend_forgets_keys_after_their_window():
    clock = Clock()
    backend = MemoryBackend(max_keys=1_000_000, clock=clock)

    async def flood():
        for index in range(100_000):
            await backend.hit(f"ip:{index}", 10, 60)
        assert len(backend) == 100_000
        clock.now += 60
        await backend.hit("ip:late", 10, 60)

    asyncio.run(flood())
    assert len(backend) == 1


def test_ratelimit_memory_backend_keeps_keys_inside_their_window():
    clock = Clock()
    backend = MemoryBackend(clock=clock)

    async def run():
        await backend.hit("a", 2, 60)
        clock.now += 20
        await backend.hit("b", 2, 60)
        clock.now += 11  # "a" is fully restored at +30, "b" at +50
        await backend.hit("c", 2, 60)

    asyncio.run(run())
    assert sorted(backend._tats) == ["b", "c"]


def test_ratelimit_memory_backend_size_is_capped():
    backend = MemoryBackend(max_keys=1000, clock=Clock())

    async def flood():
        for index in range(5000):
            await backend.hit(str(index), 10, 3600)

    asyncio.run(flood())
    assert len(backend) == 1000
    assert list(backend._tats)[0] == "4000"


@pytest.mark.parametrize(
    "options",
    [
        {"limit": 0, "window": 1},
        {"limit": True, "window": 1},
        {"limit": 1.5, "window": 1},
        {"limit": 1, "window": 0},
        {"limit": 10_000_000, "window": 1},
        {"limit": 1, "window": 1, "key": "cookie"},
        {"limit": 1, "window": 1, "key": "header:"},
        {"limit": 1, "window": 1, "backend": "disk"},
        {"limit": 1, "window": 1, "trusted_proxies": ["not an ip"]},
    ],
)
def test_ratelimit_invalid_options_are_refused(options):
    with pytest.raises((ValueError, TypeError)):
        RateLimitMiddleware(None, **options)


def test_ratelimit_exempt_as_a_single_string_is_refused():
    with pytest.raises(TypeError):
        RateLimitMiddleware(None, limit=1, window=1, exempt="/health")


# -- websocket and lifespan --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["websocket", "lifespan"])
def test_ratelimit_other_scopes_pass_through_untouched(kind):
    seen = []

    async def app(scope, receive, send):
        seen.append((dict(scope), receive, send))

    async def receive():
        return {}

    async def send(message):
        pass

    scope = {"type": kind, "path": "/ws", "headers": [], "client": ("1.2.3.4", 1)}
    middleware = RateLimitMiddleware(app, limit=1, window=60)
    for _ in range(3):
        asyncio.run(middleware(scope, receive, send))
    assert seen == [(scope, receive, send)] * 3


def test_ratelimit_websockets_are_not_counted():
    client = TestClient(make_app(limit=1, window=60, backend=memory()))
    for _ in range(3):
        with client.websocket_connect("/ws") as websocket:
            assert websocket.receive_text() == "hi"
    assert client.get("/").status_code == 200


# -- Redis backend -----------------------------------------------------------------------


def test_ratelimit_redis_backend_limits(redis_url):
    with TestClient(make_app(limit=3, window=60, backend=RedisBackend(redis_url))) as client:
        remaining = [client.get("/").headers["ratelimit-remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        refused = client.get("/")
        assert refused.status_code == 429
        assert refused.json() == {"detail": "Too Many Requests"}
        assert 19 <= int(refused.headers["retry-after"]) <= 20
        assert refused.headers["ratelimit-reset"] == "60"


def test_ratelimit_redis_backend_is_shared_between_apps(redis_url, redis_server):
    first = TestClient(make_app(limit=2, window=60, backend=RedisBackend(redis_url)))
    second = TestClient(make_app(limit=2, window=60, backend=RedisBackend(redis_url)))
    with first, second:
        assert first.get("/").status_code == 200
        assert second.get("/").status_code == 200
        assert first.get("/").status_code == 429
        assert second.get("/").status_code == 429
    keys = redis_server.command(b"DBSIZE")
    assert keys == b":1"


def test_ratelimit_redis_keys_expire_with_their_window(redis_url, redis_server):
    with TestClient(make_app(limit=2, window=0.2, backend=RedisBackend(redis_url))) as client:
        client.get("/")
        assert redis_server.command(b"DBSIZE") == b":1"
        time.sleep(0.3)
        assert redis_server.command(b"DBSIZE") == b":0"


def test_ratelimit_redis_backend_is_atomic_under_concurrency(redis_url):
    async def burst():
        backend = RedisBackend(redis_url)
        try:
            decisions = await asyncio.gather(*(backend.hit("k", 10, 60) for _ in range(50)))
        finally:
            await backend.aclose()
        return decisions

    decisions = asyncio.run(burst())
    assert sum(decision.allowed for decision in decisions) == 10
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))


def test_ratelimit_redis_backend_with_a_client(redis_url):
    import redis.asyncio

    async def run():
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            backend = RedisBackend(client, key_prefix="custom:")
            first = await backend.hit("k", 1, 60)
            second = await backend.hit("k", 1, 60)
            keys = await client.keys("custom:*")
            await backend.aclose()  # leaves a client it did not make open
            assert await client.ping()
        finally:
            await client.aclose()
        return first, second, keys

    first, second, keys = asyncio.run(run())
    assert first.allowed and not second.allowed
    assert keys == [b"custom:k"]


def test_ratelimit_redis_down_fails_open_and_resumes(own_redis, caplog):
    backend = RedisBackend(own_redis.url)
    backend.link.cooldown = 0.2
    app = make_app(limit=2, window=60, backend=backend)
    with TestClient(app) as client, caplog.at_level(logging.WARNING, logger="FasterAPI"):
        assert client.get("/").headers["ratelimit-remaining"] == "1"
        own_redis.stop()
        for _ in range(20):
            response = client.get("/")
            assert response.status_code == 200
            assert response.json() == {"ok": True}
            assert "ratelimit-remaining" not in response.headers
        failures = [r for r in caplog.records if "rate limiting failed" in r.getMessage()]
        assert 1 <= len(failures) <= 2  # at most once a second
        own_redis.start()
        deadline = time.monotonic() + 5
        while "ratelimit-remaining" not in client.get("/").headers:
            assert time.monotonic() < deadline, "rate limiting did not resume"
            time.sleep(0.05)
        assert client.get("/").status_code == 200
        assert client.get("/").status_code == 429
    assert backend.link._client is None  # closed at shutdown


def test_ratelimit_redis_unreachable_from_the_start_fails_open(caplog):
    from servers import free_port

    backend = RedisBackend(f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(make_app(limit=1, window=60, backend=backend)) as client:
        with caplog.at_level(logging.WARNING, logger="FasterAPI"):
            statuses = [client.get("/").status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert "rate limiting failed" in caplog.text


def test_ratelimit_slow_redis_fails_open_within_the_timeout(own_redis):
    backend = RedisBackend(own_redis.url, timeout=0.1)
    with TestClient(make_app(limit=5, window=60, backend=backend)) as client:
        assert client.get("/").headers["ratelimit-remaining"] == "4"
        own_redis.pause()
        try:
            started = time.monotonic()
            response = client.get("/")
            elapsed = time.monotonic() - started
        finally:
            own_redis.resume()
        assert response.status_code == 200
        assert "ratelimit-remaining" not in response.headers
        assert elapsed < 1.0


def test_ratelimit_single_trusted_proxy_string():
    middleware = RateLimitMiddleware(None, limit=1, window=1, trusted_proxies="10.0.0.1")
    assert middleware.client_ip(scope_from("10.0.0.1", "1.2.3.4")) == "1.2.3.4"
