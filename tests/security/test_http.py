"""HTTP Basic, Bearer and Digest schemes through real requests."""

import base64

from FasterAPI import Depends, Faster, Security
from FasterAPI.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
)
from FasterAPI.testclient import TestClient


def basic(value: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()}


def basic_app(**options):
    app = Faster()
    security = HTTPBasic(**options)

    @app.get("/me")
    def me(credentials: HTTPBasicCredentials | None = Depends(security)):
        if credentials is None:
            return {"anonymous": True}
        return {"username": credentials.username, "password": credentials.password}

    return TestClient(app)


def test_http_basic_valid_credentials():
    response = basic_app().get("/me", headers=basic("alice:s3cr:et"))
    assert response.status_code == 200
    assert response.json() == {"username": "alice", "password": "s3cr:et"}


def test_http_basic_utf8_credentials():
    response = basic_app().get("/me", headers=basic("zoë:pässword"))
    assert response.json() == {"username": "zoë", "password": "pässword"}


def test_http_basic_scheme_case_insensitive():
    token = base64.b64encode(b"alice:pw").decode()
    client = basic_app()
    for scheme in ("basic", "BASIC", "bAsIc"):
        response = client.get("/me", headers={"Authorization": f"{scheme} {token}"})
        assert response.json() == {"username": "alice", "password": "pw"}


def test_http_basic_missing_is_401_with_realm_challenge():
    response = basic_app(realm="admin area").get("/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == 'Basic realm="admin area", charset="UTF-8"'


def test_http_basic_bad_base64_is_401():
    response = basic_app().get("/me", headers={"Authorization": "Basic not*base64!"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.json() == {"detail": "Invalid authentication credentials"}


def test_http_basic_without_colon_is_401():
    response = basic_app().get("/me", headers=basic("no-colon-here"))
    assert response.status_code == 401


def test_http_basic_invalid_utf8_is_401():
    value = base64.b64encode(b"\xff\xfe:pw").decode()
    response = basic_app().get("/me", headers={"Authorization": f"Basic {value}"})
    assert response.status_code == 401


def test_http_basic_other_scheme_is_401():
    response = basic_app().get("/me", headers={"Authorization": "Bearer abc"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic charset="UTF-8"'


def test_http_basic_auto_error_false_returns_none():
    client = basic_app(auto_error=False)
    assert client.get("/me").json() == {"anonymous": True}
    bad = client.get("/me", headers={"Authorization": "Basic %%%"})
    assert bad.json() == {"anonymous": True}


def bearer_app(**options):
    app = Faster()
    bearer = HTTPBearer(**options)

    @app.get("/token")
    def token(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
        if credentials is None:
            return None
        return {"scheme": credentials.scheme, "token": credentials.credentials}

    @app.get("/scoped")
    def scoped(credentials=Security(bearer, scopes=["items:read", "items:write"])):
        return credentials.credentials

    return TestClient(app)


def test_http_bearer_returns_scheme_and_token():
    response = bearer_app().get("/token", headers={"Authorization": "bearer abc.def"})
    assert response.json() == {"scheme": "bearer", "token": "abc.def"}


def test_http_bearer_missing_is_401_bearer_challenge():
    response = bearer_app(realm="api").get("/token")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'


def test_http_bearer_missing_names_required_scopes():
    response = bearer_app().get("/scoped")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer scope="items:read items:write"'


def test_http_bearer_wrong_scheme_or_empty_token_is_401():
    client = bearer_app()
    for value in ("Basic abc", "Bearer", "Bearer    ", "Token abc"):
        response = client.get("/token", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.json() == {"detail": "Invalid authentication credentials"}


def test_http_bearer_auto_error_false_returns_none():
    client = bearer_app(auto_error=False)
    assert client.get("/token").json() is None
    assert client.get("/token", headers={"Authorization": "Basic x"}).json() is None


def test_http_digest_returns_raw_credentials():
    app = Faster()

    @app.get("/")
    def index(credentials: HTTPAuthorizationCredentials = Depends(HTTPDigest(realm="r"))):
        return credentials.credentials

    client = TestClient(app)
    assert client.get("/", headers={"Authorization": 'Digest username="a"'}).json() == (
        'username="a"'
    )
    missing = client.get("/")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Digest realm="r"'
