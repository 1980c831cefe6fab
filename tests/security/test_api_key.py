"""API keys in a header, a query parameter and a cookie."""

import pytest

from FasterAPI import Depends, Faster
from FasterAPI.security import APIKeyCookie, APIKeyHeader, APIKeyQuery
from FasterAPI.testclient import TestClient


def make_client(scheme):
    app = Faster()

    @app.get("/")
    def index(key: str | None = Depends(scheme)):
        return {"key": key}

    return TestClient(app)


def test_api_key_header_read_case_insensitively():
    client = make_client(APIKeyHeader(name="X-API-Key"))
    assert client.get("/", headers={"x-api-key": "k1"}).json() == {"key": "k1"}


def test_api_key_query():
    client = make_client(APIKeyQuery(name="api_key"))
    assert client.get("/?api_key=k2").json() == {"key": "k2"}


def test_api_key_cookie():
    client = make_client(APIKeyCookie(name="session"))
    assert client.get("/", headers={"Cookie": "session=k3"}).json() == {"key": "k3"}


@pytest.mark.parametrize(
    "scheme",
    [APIKeyHeader(name="X-Key"), APIKeyQuery(name="key"), APIKeyCookie(name="key")],
)
def test_api_key_missing_is_401(scheme):
    response = make_client(scheme).get("/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "APIKey"
    assert response.json() == {"detail": "Not authenticated"}


def test_api_key_empty_value_is_401():
    client = make_client(APIKeyQuery(name="key"))
    assert client.get("/?key=").status_code == 401


def test_api_key_auto_error_false_returns_none():
    client = make_client(APIKeyHeader(name="X-Key", auto_error=False))
    assert client.get("/").json() == {"key": None}


def test_api_key_openapi_scheme():
    scheme = APIKeyCookie(name="sid", description="Session cookie", scheme_name="cookieAuth")
    assert scheme.scheme_name == "cookieAuth"
    assert scheme.openapi_scheme == {
        "type": "apiKey",
        "in": "cookie",
        "name": "sid",
        "description": "Session cookie",
    }


def test_api_key_needs_a_name():
    with pytest.raises(ValueError):
        APIKeyHeader(name="")
