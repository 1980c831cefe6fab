"""RedisSessionBackend on a real redis-server: the cookie carries an id, the data lives in
Redis (shared by every worker), expiry follows max_age, and a Redis outage never loses a
change silently."""

import pytest
import redis

from FasterAPI import Faster, Request
from FasterAPI.middleware.redis_sessions import RedisSessionBackend, SessionStoreUnavailable
from FasterAPI.middleware.sessions import SessionMiddleware
from FasterAPI.testclient import TestClient

pytest_plugins = ["redis_server"]

SECRET = "s3cret-for-tests"


def make_app(url, **options):
    app = Faster()
    backend = RedisSessionBackend(url, key_prefix="test:session:")
    app.add_middleware(SessionMiddleware, secret_key=SECRET, backend=backend, **options)

    @app.get("/read")
    async def read(request: Request):
        return dict(request.scope["session"])

    @app.post("/set/{name}/{value}")
    async def set_value(name: str, value: str, request: Request):
        request.scope["session"][name] = value
        return dict(request.scope["session"])

    @app.post("/clear")
    async def clear(request: Request):
        request.scope["session"].clear()
        return {}

    return app


def session_keys(url):
    return redis.Redis.from_url(url).keys("test:session:*")


def test_redis_sessions_keep_data_server_side_and_share_it_between_workers(redis_url):
    with TestClient(make_app(redis_url)) as one, TestClient(make_app(redis_url)) as two:
        assert one.post("/set/user/ada").json() == {"user": "ada"}
        cookie = one.cookies["session"]
        assert "ada" not in cookie  # only a signed id
        (key,) = session_keys(redis_url)
        assert redis.Redis.from_url(redis_url).get(key) == b'{"user":"ada"}'
        # Another worker (another app instance) reads the same session.
        sent = {"cookie": f"session={cookie}"}
        assert two.get("/read", headers=sent).json() == {"user": "ada"}
        response = two.post("/set/theme/dark", headers=sent)
        assert response.json() == {"user": "ada", "theme": "dark"}
        # The id stays: the cookie is re-signed but the key is the same one.
        assert session_keys(redis_url) == [key]
        assert one.get("/read").json() == {"user": "ada", "theme": "dark"}


def test_redis_sessions_expire_with_max_age(redis_url):
    with TestClient(make_app(redis_url, max_age=120)) as client:
        client.post("/set/a/1")
        (key,) = session_keys(redis_url)
        assert 100 < redis.Redis.from_url(redis_url).ttl(key) <= 120


def test_redis_sessions_browser_session_cookie_uses_the_backend_ttl(redis_url):
    with TestClient(make_app(redis_url, max_age=None)) as client:
        client.post("/set/a/1")
        (key,) = session_keys(redis_url)
        assert redis.Redis.from_url(redis_url).ttl(key) > 13 * 24 * 60 * 60


def test_redis_sessions_clearing_deletes_the_key_and_the_cookie(redis_url):
    with TestClient(make_app(redis_url)) as client:
        client.post("/set/a/1")
        response = client.post("/clear")
        assert "max-age=0" in response.headers["set-cookie"].lower()
        assert session_keys(redis_url) == []


def test_redis_sessions_unknown_id_gives_an_empty_session(redis_url):
    with TestClient(make_app(redis_url)) as client:
        client.post("/set/a/1")
        redis.Redis.from_url(redis_url).flushdb()
        assert client.get("/read").json() == {}


def test_redis_sessions_redis_down_reads_empty_keeps_the_cookie_and_refuses_writes(own_redis):
    app = make_app(own_redis.url)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post("/set/user/ada")
        cookie = client.cookies["session"]
        own_redis.stop()
        response = client.get("/read")
        assert response.status_code == 200 and response.json() == {}
        assert "set-cookie" not in response.headers  # the user is not logged out for good
        assert client.post("/set/user/bob").status_code == 500
        own_redis.start()  # a fresh server: the old session is gone, and writes work again
        assert client.cookies["session"] == cookie


def test_redis_sessions_save_raises_a_clear_error_when_redis_is_down(own_redis):
    import anyio

    backend = RedisSessionBackend(own_redis.url)
    own_redis.stop()
    with pytest.raises(SessionStoreUnavailable):
        anyio.run(backend.save, None, {"a": 1}, 60)


def test_redis_sessions_malformed_ids_are_not_looked_up(redis_url):
    import anyio

    backend = RedisSessionBackend(redis_url)

    async def scenario():
        assert await backend.load("../../etc") is None
        assert await backend.load("x" * 100) is None
        await backend.delete("bad id")
        await backend.aclose()

    anyio.run(scenario)


def test_redis_sessions_ttl_must_be_positive(redis_url):
    with pytest.raises(ValueError):
        RedisSessionBackend(redis_url, ttl=0)
