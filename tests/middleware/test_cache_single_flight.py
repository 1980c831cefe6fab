"""RedisCacheMiddleware single-flight on a real redis-server: concurrent misses on one key,
across independent middleware instances (standing for workers), run the app once; a
response that will not be stored (a stream) holds nobody back; waiting is bounded and
Redis failures fall back to running the app."""

import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
import redis

from FasterAPI import Faster
from FasterAPI.middleware.cache import RedisCacheMiddleware
from FasterAPI.response import JSONResponse, StreamingResponse
from FasterAPI.sse import EventSourceResponse
from FasterAPI.testclient import TestClient

pytest_plugins = ["redis_server"]


class SlowApp:
    """An ASGI app that takes ``delay`` seconds and counts its calls."""

    def __init__(self, delay=0.2, headers=()):
        self.delay = delay
        self.headers = list(headers)
        self.calls = 0

    async def __call__(self, scope, receive, send):
        self.calls += 1
        await anyio.sleep(self.delay)
        body = b'{"n": %d}' % self.calls
        headers = [(b"content-type", b"application/json"), *self.headers]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def scope(path="/slow"):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }


async def get(app, path="/slow"):
    messages = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    await app(scope(path), receive, send)
    headers = dict(messages[0]["headers"])
    return messages[0]["status"], headers.get(b"x-cache"), messages[1]["body"]


async def concurrently(apps, count):
    results = []

    async def one(app):
        results.append(await get(app))

    async with anyio.create_task_group() as group:
        for n in range(count):
            group.start_soon(one, apps[n % len(apps)])
    return results


def test_cache_single_flight_computes_once_across_instances(redis_url):
    backend = SlowApp()
    workers = [RedisCacheMiddleware(backend, redis=redis_url, ttl=30) for _ in range(3)]
    results = anyio.run(concurrently, workers, 12)
    assert backend.calls == 1
    assert sorted(outcome for _, outcome, _ in results) == [b"HIT"] * 11 + [b"MISS"]
    assert {body for _, _, body in results} == {b'{"n": 1}'}


def test_cache_single_flight_waiters_stop_waiting_when_the_response_is_not_stored(redis_url):
    backend = SlowApp(headers=[(b"set-cookie", b"a=b")])  # never stored
    workers = [RedisCacheMiddleware(backend, redis=redis_url, single_flight_timeout=5)]
    started = time.monotonic()
    results = anyio.run(concurrently, workers, 4)
    assert time.monotonic() - started < 2  # not the 5 s lock lifetime
    assert all(outcome == b"MISS" and status == 200 for status, outcome, _ in results)
    assert backend.calls == 4


def test_cache_single_flight_waits_at_most_its_timeout_for_a_stuck_holder(redis_url):
    backend = SlowApp(delay=0)
    cache = RedisCacheMiddleware(backend, redis=redis_url, single_flight_timeout=0.3)
    client = redis.Redis.from_url(redis_url)
    key = None

    async def scenario():
        nonlocal key
        from FasterAPI.middleware._cache_policy import CacheRequest

        key = cache.cache_key(scope(), CacheRequest(scope()["headers"], frozenset()))
        client.set(key + ":lock", "someone-else", px=10_000)  # a worker that died holding it
        started = time.monotonic()
        result = await get(cache)
        return result, time.monotonic() - started

    (status, outcome, _), waited = anyio.run(scenario)
    assert status == 200 and outcome == b"MISS" and backend.calls == 1
    assert 0.25 < waited < 1.5
    assert client.get(key + ":lock") == b"someone-else"  # only the holder releases it


def test_cache_single_flight_releases_its_lock_after_storing(redis_url):
    cache = RedisCacheMiddleware(SlowApp(delay=0), redis=redis_url)
    anyio.run(get, cache)
    client = redis.Redis.from_url(redis_url)
    assert [key for key in client.keys("*") if key.endswith(b":lock")] == []


def test_cache_single_flight_off_lets_every_miss_run_the_app(redis_url):
    backend = SlowApp()
    cache = RedisCacheMiddleware(backend, redis=redis_url, single_flight_timeout=None)
    results = anyio.run(concurrently, [cache], 3)
    assert backend.calls == 3
    assert [outcome for _, outcome, _ in results] == [b"MISS"] * 3


def test_cache_single_flight_with_redis_down_runs_the_app_without_waiting(own_redis):
    backend = SlowApp(delay=0)
    cache = RedisCacheMiddleware(backend, redis=own_redis.url)
    own_redis.stop()
    started = time.monotonic()
    results = anyio.run(concurrently, [cache], 3)
    assert time.monotonic() - started < 1
    assert [outcome for _, outcome, _ in results] == [b"BYPASS"] * 3


def test_cache_single_flight_timeout_must_be_positive(redis_url):
    with pytest.raises(ValueError):
        RedisCacheMiddleware(SlowApp(), redis=redis_url, single_flight_timeout=0)


STREAM_SECONDS = 1.5


def streaming_app(kind):
    """``GET /feed``: a first chunk at once, the last one ``STREAM_SECONDS`` later; the
    time each request's stream started is recorded."""
    app = Faster()
    app.state.started = []

    async def chunks():
        app.state.started.append(time.monotonic())
        yield "first\n"
        await anyio.sleep(STREAM_SECONDS)
        yield "last\n"

    @app.get("/feed")
    async def feed():
        if kind == "server-sent events":
            return EventSourceResponse(chunks())
        return StreamingResponse(chunks(), media_type="text/plain")  # no Content-Length

    return app


@pytest.mark.parametrize("kind", ["server-sent events", "plain stream"])
def test_cache_single_flight_does_not_hold_back_responses_it_will_not_store(redis_url, kind):
    app = streaming_app(kind)
    app.add_middleware(RedisCacheMiddleware, redis=redis_url, single_flight_timeout=5)
    with TestClient(app) as client, ThreadPoolExecutor(4) as pool:
        began = time.monotonic()
        responses = list(pool.map(lambda _: client.get("/feed"), range(4)))
        took = time.monotonic() - began
    assert [response.status_code for response in responses] == [200] * 4
    assert [response.headers["x-cache"] for response in responses] == ["MISS"] * 4
    assert all("last" in response.text for response in responses)
    # Every stream started at once, not after the lock holder's stream ended.
    started = app.state.started
    assert len(started) == 4
    assert max(started) - min(started) < STREAM_SECONDS / 2
    assert took < STREAM_SECONDS * 1.5


def test_cache_single_flight_through_http_computes_a_stored_response_once(redis_url):
    app = Faster()
    app.state.calls = 0

    @app.get("/report")
    async def report():
        app.state.calls += 1
        await anyio.sleep(0.3)
        return JSONResponse({"n": app.state.calls})

    app.add_middleware(RedisCacheMiddleware, redis=redis_url)
    with TestClient(app) as client, ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda _: client.get("/report"), range(4)))
    assert app.state.calls == 1
    assert sorted(response.headers["x-cache"] for response in responses) == ["HIT"] * 3 + ["MISS"]
    assert {response.text for response in responses} == {'{"n":1}'}
