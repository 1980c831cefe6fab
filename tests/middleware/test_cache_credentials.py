"""RedisCacheMiddleware and the security schemes, on a real redis-server, over ASGI and RSGI:
a response made while a scheme read a credential (sent or not) is never stored, so it is
never served to a request without that credential, unless it says ``public``/``s-maxage``
or, with ``cache_authenticated``, the key holds the credential."""

import base64
from typing import Annotated

import pytest
import redis

from FasterAPI import Depends, Faster, HTTPException, Request, Security
from FasterAPI.middleware.cache import RedisCacheMiddleware
from FasterAPI.response import JSONResponse
from FasterAPI.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBearer,
    HTTPDigest,
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OpenIdConnect,
)
from FasterAPI.security.jwt import JWTBearer, create_access_token
from FasterAPI.testclient import TestClient

pytest_plugins = ["redis_server"]

PROTOCOLS = ["asgi", "rsgi"]
JWT_SECRET = "s" * 32
BASIC = "Basic " + base64.b64encode(b"alice:secret").decode()

# name -> (scheme, what an authenticated request sends)
SCHEMES = {
    "api-key-header": (APIKeyHeader(name="X-API-Key"), {"headers": {"X-API-Key": "secret"}}),
    "api-key-query": (APIKeyQuery(name="api_key"), {"params": {"api_key": "secret"}}),
    "api-key-cookie": (APIKeyCookie(name="key"), {"headers": {"Cookie": "key=secret"}}),
    "http-basic": (HTTPBasic(), {"headers": {"Authorization": BASIC}}),
    "http-bearer": (HTTPBearer(), {"headers": {"Authorization": "Bearer secret"}}),
    "http-digest": (HTTPDigest(), {"headers": {"Authorization": 'Digest username="alice"'}}),
    "oauth2": (OAuth2(), {"headers": {"Authorization": "Bearer secret"}}),
    "oauth2-password": (
        OAuth2PasswordBearer(tokenUrl="/token"),
        {"headers": {"Authorization": "Bearer secret"}},
    ),
    "oauth2-code": (
        OAuth2AuthorizationCodeBearer(authorizationUrl="/authorize", tokenUrl="/token"),
        {"headers": {"Authorization": "Bearer secret"}},
    ),
    "openid-connect": (
        OpenIdConnect(openIdConnectUrl="https://id.example/.well-known/openid-configuration"),
        {"headers": {"Authorization": "Bearer secret"}},
    ),
    "jwt": (
        JWTBearer(JWT_SECRET),
        {"headers": {"Authorization": "Bearer " + create_access_token("alice", JWT_SECRET)}},
    ),
}


def stored_keys(redis_url):
    client = redis.Redis.from_url(redis_url)
    try:
        return [key for key in client.keys("*") if not key.endswith(b":lock")]
    finally:
        client.close()


def report_app(scheme, headers=None):
    """``GET /reports`` behind ``scheme``, counting the app's calls."""
    app = Faster()
    app.state.calls = 0

    @app.get("/reports")
    def reports(credential=Depends(scheme)):
        app.state.calls += 1
        return JSONResponse({"revenue": 123, "n": app.state.calls}, headers=headers)

    return app


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cache_api_key_response_is_never_served_without_the_key(redis_url, protocol):
    api_key = APIKeyHeader(name="X-API-Key")

    def checked_key(key: str = Depends(api_key)):
        if key != "secret":
            raise HTTPException(401, "Wrong key")
        return key

    app = Faster()

    @app.get("/reports")
    def reports(key: str = Depends(checked_key)):
        return {"revenue": 123}

    app.add_middleware(RedisCacheMiddleware, redis=redis_url)
    with TestClient(app, interface=protocol) as client:
        first = client.get("/reports", headers={"X-API-Key": "secret"})
        assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
        anonymous = client.get("/reports")
        assert anonymous.status_code == 401
        assert anonymous.headers["x-cache"] == "MISS"
        wrong = client.get("/reports", headers={"X-API-Key": "guess"})
        assert wrong.status_code == 401
        again = client.get("/reports", headers={"X-API-Key": "secret"})
        assert again.status_code == 200 and again.headers["x-cache"] == "MISS"
    assert stored_keys(redis_url) == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("cache_authenticated", [False, True])
@pytest.mark.parametrize("name", list(SCHEMES))
def test_cache_every_security_scheme_keeps_its_responses_to_itself(
    redis_url, protocol, cache_authenticated, name
):
    # cache_authenticated lets requests with Authorization or Cookie reach the cache: a
    # response a scheme read the credential for must still not be shared. Only a key
    # in the query is part of the cache key, and so may be stored then (for that key).
    scheme, credential = SCHEMES[name]
    stored = cache_authenticated and name == "api-key-query"
    sends_header = {"authorization", "cookie"} & {h.lower() for h in credential.get("headers", {})}
    app = report_app(scheme)
    app.add_middleware(
        RedisCacheMiddleware, redis=redis_url, cache_authenticated=cache_authenticated
    )
    with TestClient(app, interface=protocol) as client:
        first = client.get("/reports", **credential)
        second = client.get("/reports", **credential)
        anonymous = client.get("/reports")
    assert first.status_code == second.status_code == 200
    passed_by = "BYPASS" if sends_header and not cache_authenticated else "MISS"
    assert first.headers["x-cache"] == passed_by
    assert second.headers["x-cache"] == ("HIT" if stored else passed_by)
    assert anonymous.status_code in (401, 403)
    assert "revenue" not in anonymous.text
    assert app.state.calls == (1 if stored else 2)
    assert len(stored_keys(redis_url)) == (1 if stored else 0)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cache_optional_credential_response_is_not_shared_either_way(redis_url, protocol):
    api_key = APIKeyHeader(name="X-API-Key", auto_error=False)
    app = Faster()

    @app.get("/greeting")
    def greeting(key: Annotated[str | None, Depends(api_key)]):
        return {"hello": "member" if key else "guest"}

    app.add_middleware(RedisCacheMiddleware, redis=redis_url)
    with TestClient(app, interface=protocol) as client:
        assert client.get("/greeting").json() == {"hello": "guest"}
        member = client.get("/greeting", headers={"X-API-Key": "secret"})
        assert member.json() == {"hello": "member"}
        assert member.headers["x-cache"] == "MISS"
        assert client.get("/greeting").json() == {"hello": "guest"}
    assert stored_keys(redis_url) == []


class CheckedKey(APIKeyHeader):
    """A scheme of the application's own, built on a framework one."""

    async def __call__(self, request: Request):
        key = await super().__call__(request)
        if key != "secret":
            raise HTTPException(403, "Unknown key")
        return key


class LegacyKey(APIKeyHeader):
    """Reads the key its own way."""

    def read(self, request: Request):
        return request.headers.get(self.name) or request.headers.get("x-legacy-key")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cache_custom_schemes_and_mounted_apps_are_covered(redis_url, protocol):
    bearer = HTTPBearer(auto_error=False)

    def current_user(credentials: HTTPAuthorizationCredentials | None = Security(bearer)):
        return credentials.credentials if credentials else "anonymous"

    api = Faster()

    @api.get("/key")
    def by_key(key: str = Depends(CheckedKey(name="X-Key"))):
        return {"key": key}

    @api.get("/legacy")
    def by_legacy_key(key: str = Depends(LegacyKey(name="X-Key"))):
        return {"key": key}

    @api.get("/user")
    def by_user(user: str = Depends(current_user)):
        return {"user": user}

    app = Faster()
    app.mount("/api", api)  # the mounted app gets a copy of the scope
    app.add_middleware(RedisCacheMiddleware, redis=redis_url, cache_authenticated=True)
    with TestClient(app, interface=protocol) as client:
        assert client.get("/api/key", headers={"X-Key": "secret"}).json() == {"key": "secret"}
        assert client.get("/api/key").status_code == 401
        assert client.get("/api/key", headers={"X-Key": "other"}).status_code == 403
        assert client.get("/api/legacy", headers={"X-Legacy-Key": "old"}).json() == {"key": "old"}
        assert client.get("/api/legacy").status_code == 401
        alice = client.get("/api/user", headers={"Authorization": "Bearer alice"})
        assert alice.json() == {"user": "alice"}
        assert client.get("/api/user").json() == {"user": "anonymous"}
    assert stored_keys(redis_url) == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("cache_control", ["public, max-age=60", "s-maxage=60"])
def test_cache_public_credentialed_response_is_shared(redis_url, protocol, cache_control):
    app = report_app(APIKeyHeader(name="X-API-Key"), headers={"Cache-Control": cache_control})
    app.add_middleware(RedisCacheMiddleware, redis=redis_url)
    with TestClient(app, interface=protocol) as client:
        assert client.get("/reports", headers={"X-API-Key": "a"}).headers["x-cache"] == "MISS"
        shared = client.get("/reports")  # what the response allowed
        assert shared.status_code == 200 and shared.headers["x-cache"] == "HIT"
    assert app.state.calls == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cache_authenticated_stores_per_credential_when_the_key_holds_it(redis_url, protocol):
    app = Faster()
    header_key = APIKeyHeader(name="X-API-Key")
    query_key = APIKeyQuery(name="api_key")
    bearer = HTTPBearer()

    @app.get("/header")
    def by_header(key: str = Depends(header_key)):
        return {"key": key}

    @app.get("/query")
    def by_query(key: str = Depends(query_key)):
        return {"key": key}

    @app.get("/bearer")
    def by_bearer(credentials: HTTPAuthorizationCredentials = Depends(bearer)):
        return {"token": credentials.credentials}

    app.add_middleware(
        RedisCacheMiddleware, redis=redis_url, cache_authenticated=True, vary=["x-api-key"]
    )
    with TestClient(app, interface=protocol) as client:
        for key in ("a", "b"):
            for outcome in ("MISS", "HIT"):
                response = client.get("/header", headers={"X-API-Key": key})
                assert (response.json(), response.headers["x-cache"]) == ({"key": key}, outcome)
                response = client.get("/query", params={"api_key": key})
                assert (response.json(), response.headers["x-cache"]) == ({"key": key}, outcome)
        assert client.get("/header").status_code == 401
        assert client.get("/query").status_code == 401
        # vary does not name authorization: a bearer response is not stored.
        for _ in range(2):
            response = client.get("/bearer", headers={"Authorization": "Bearer t"})
            assert response.headers["x-cache"] == "MISS"
    assert len(stored_keys(redis_url)) == 4
