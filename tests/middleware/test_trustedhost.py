"""TrustedHostMiddleware: exact names, wildcards, ports, IPv6, bad Host, www redirect, ws."""

import pytest

from FasterAPI import Faster, WebSocket, WebSocketDisconnect
from FasterAPI.middleware.trustedhost import TrustedHostMiddleware
from FasterAPI.testclient import TestClient


def make_app(**options):
    app = Faster()

    @app.get("/")
    async def index():
        return "ok"

    @app.post("/submit")
    async def submit():
        return "posted"

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    app.add_middleware(TrustedHostMiddleware, **options)
    return app


@pytest.fixture
def client():
    app = make_app(allowed_hosts=["example.com", "*.example.com", "::1", "10.0.0.1"])
    return TestClient(app, follow_redirects=False)


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "EXAMPLE.com",
        "example.com:8000",
        "example.com.",
        "api.example.com",
        "a.b.example.com:443",
        "[::1]",
        "[::1]:8000",
        "10.0.0.1:8080",
    ],
)
def test_trustedhost_allows_listed_hosts(client, host):
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 200
    assert response.json() == "ok"


@pytest.mark.parametrize(
    "host",
    [
        "evil.com",
        "example.com.evil.com",
        "notexample.com",
        "example.co",
        "[::2]",
        "10.0.0.2",
        "user@example.com",
        "example.com/path",
        "example.com:abc",
        "example.com:99999",
        "example.com:",
        "[::1",
        "[::1]x",
        "exa mple.com",
        "",
    ],
)
def test_trustedhost_refuses_other_or_malformed_hosts(client, host):
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid host header"}


def test_trustedhost_wildcard_does_not_match_the_bare_domain():
    client = TestClient(make_app(allowed_hosts=["*.example.com"]))
    assert client.get("/", headers={"Host": "example.com"}).status_code == 400
    assert client.get("/", headers={"Host": "www.example.com"}).status_code == 200


@pytest.mark.anyio
async def test_trustedhost_missing_or_repeated_host_is_400():
    app = TrustedHostMiddleware(make_app(), allowed_hosts=["example.com"])
    for headers, text in (
        ([], b'{"detail":"Missing host header"}'),
        ([(b"host", b"example.com"), (b"host", b"evil.com")], b'{"detail":"Invalid host header"}'),
    ):
        messages = []

        async def send(message):
            messages.append(message)

        scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
        await app(scope, None, send)
        assert messages[0]["status"] == 400
        assert messages[1]["body"] == text


@pytest.fixture
def anyio_backend():
    return "asyncio"


def test_trustedhost_star_allows_everything():
    client = TestClient(make_app(allowed_hosts=["*"]))
    assert client.get("/", headers={"Host": "anything.test"}).status_code == 200


def test_trustedhost_default_allows_everything():
    client = TestClient(make_app())
    assert client.get("/", headers={"Host": "anything.test"}).status_code == 200


@pytest.mark.parametrize(
    "pattern", ["example.com:80", "https://example.com", "ex*mple.com", "*.*.com", "*.[::1]"]
)
def test_trustedhost_invalid_patterns_refused(pattern):
    with pytest.raises(ValueError):
        TrustedHostMiddleware(make_app(), allowed_hosts=[pattern])


def test_trustedhost_single_string_refused():
    with pytest.raises(TypeError):
        TrustedHostMiddleware(make_app(), allowed_hosts="example.com")


def test_trustedhost_www_redirect_to_the_listed_www_host():
    app = make_app(allowed_hosts=["www.example.com"])
    client = TestClient(app, base_url="https://example.com:8443", follow_redirects=False)
    response = client.post("/submit?a=1&b=%20", content=b"payload")
    assert response.status_code == 307
    assert response.headers["location"] == "https://www.example.com:8443/submit?a=1&b=%20"


def test_trustedhost_www_redirect_can_be_disabled():
    client = TestClient(make_app(allowed_hosts=["www.example.com"], www_redirect=False))
    assert client.get("/", headers={"Host": "example.com"}).status_code == 400


def test_trustedhost_www_redirect_needs_an_explicit_www_entry():
    client = TestClient(make_app(allowed_hosts=["*.example.com"]), follow_redirects=False)
    assert client.get("/", headers={"Host": "example.com"}).status_code == 400


def test_trustedhost_redirect_followed_reaches_the_app():
    client = TestClient(make_app(allowed_hosts=["www.example.com"]), base_url="http://example.com")
    response = client.get("/")
    assert response.status_code == 200
    assert str(response.url) == "http://www.example.com/"


def test_trustedhost_websocket_allowed_host_passes_through():
    client = TestClient(make_app(allowed_hosts=["example.com"]), base_url="http://example.com")
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "hi"


def test_trustedhost_websocket_bad_host_is_closed_with_1008():
    client = TestClient(make_app(allowed_hosts=["example.com"]), base_url="http://evil.com")
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws"):
            pass
    assert info.value.code == 1008
