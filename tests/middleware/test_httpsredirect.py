"""HTTPSRedirectMiddleware: 307 keeping path and query, default ports dropped, ws -> wss."""

import pytest

from FasterAPI import Faster, WebSocket, WebSocketDisconnect
from FasterAPI.middleware.httpsredirect import HTTPSRedirectMiddleware
from FasterAPI.testclient import TestClient


@pytest.fixture
def anyio_backend():
    return "asyncio"


def make_app(**options):
    app = Faster()

    @app.get("/")
    async def index():
        return "secure"

    @app.post("/upload")
    async def upload(payload: dict):
        return payload

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("secure ws")
        await websocket.close()

    app.add_middleware(HTTPSRedirectMiddleware, **options)
    return app


@pytest.mark.parametrize(
    ("base_url", "path", "location"),
    [
        ("http://example.com", "/", "https://example.com/"),
        ("http://example.com:80", "/a/b?x=1&y=%2F", "https://example.com/a/b?x=1&y=%2F"),
        ("http://example.com:443", "/", "https://example.com/"),
        ("http://example.com:8080", "/p", "https://example.com:8080/p"),
        ("http://[::1]:80", "/v6", "https://[::1]/v6"),
        ("http://example.com", "/caf%C3%A9%20x", "https://example.com/caf%C3%A9%20x"),
    ],
)
def test_httpsredirect_http_to_https_with_307(base_url, path, location):
    client = TestClient(make_app(), base_url=base_url, follow_redirects=False)
    response = client.get(path)
    assert response.status_code == 307
    assert response.headers["location"] == location
    assert response.headers["content-length"] == "0"


def test_httpsredirect_post_body_survives_the_redirect():
    client = TestClient(make_app(), base_url="http://example.com")
    response = client.post("/upload", json={"keep": "me"})
    assert response.status_code == 200
    assert response.json() == {"keep": "me"}
    assert str(response.url) == "https://example.com/upload"
    assert response.history[0].status_code == 307


def test_httpsredirect_308_can_be_chosen_and_others_refused():
    client = TestClient(make_app(status_code=308), follow_redirects=False)
    assert client.get("/").status_code == 308
    with pytest.raises(ValueError):
        HTTPSRedirectMiddleware(make_app(), status_code=301)


def test_httpsredirect_https_passes_through():
    client = TestClient(make_app(), base_url="https://example.com")
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == "secure"


def test_httpsredirect_bad_host_is_400():
    client = TestClient(make_app(), follow_redirects=False)
    response = client.get("/", headers={"Host": "evil.com/x"})
    assert response.status_code == 400


def test_httpsredirect_wss_passes_through():
    client = TestClient(make_app(), base_url="https://example.com")
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "secure ws"


def test_httpsredirect_ws_is_closed_with_1008_naming_wss():
    client = TestClient(make_app(), base_url="http://example.com")
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws?room=1"):
            pass
    assert info.value.code == 1008
    assert info.value.reason == "Use wss://example.com/ws?room=1"


@pytest.mark.anyio
async def test_httpsredirect_ws_redirected_when_the_server_offers_http_responses():
    messages = []

    async def send(message):
        messages.append(message)

    scope = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "headers": [(b"host", b"example.com:80")],
        "extensions": {"websocket.http.response": {}},
    }
    await HTTPSRedirectMiddleware(make_app())(scope, None, send)
    start, body = messages
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 307
    assert (b"location", b"wss://example.com/ws") in start["headers"]
    assert body == {"type": "websocket.http.response.body", "body": b""}


@pytest.mark.anyio
async def test_httpsredirect_double_slash_path_stays_a_path():
    location = await redirect_location(path="//evil.com/x", raw_path=b"//evil.com/x")
    assert location == b"https://example.com//evil.com/x"


@pytest.mark.anyio
async def test_httpsredirect_lifespan_passes_through():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    await HTTPSRedirectMiddleware(app)({"type": "lifespan"}, None, None)
    assert seen == ["lifespan"]


async def redirect_location(**scope_keys) -> bytes:
    messages = []

    async def send(message):
        messages.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        **scope_keys,
    }
    await HTTPSRedirectMiddleware(make_app())(scope, None, send)
    return dict(messages[0]["headers"])[b"location"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("scope_keys", "location"),
    [
        # No raw_path: the decoded path is encoded again, "%" included.
        ({"path": "/files/100%"}, b"https://example.com/files/100%25"),
        ({"path": "/a b/a?b/caf\u00e9"}, b"https://example.com/a%20b/a%3Fb/caf%C3%A9"),
        # raw_path as received keeps its escapes, %2F too.
        ({"path": "/a/b", "raw_path": b"/a%2Fb"}, b"https://example.com/a%2Fb"),
        # Behind a proxy that strips root_path: the public path has it.
        (
            {"path": "/api/x y", "raw_path": b"/x%20y", "root_path": "/api"},
            b"https://example.com/api/x%20y",
        ),
    ],
)
async def test_httpsredirect_location_path_is_percent_encoded(scope_keys, location):
    assert await redirect_location(**scope_keys) == location


def test_httpsredirect_two_host_headers_are_400_not_a_redirect():
    client = TestClient(make_app(), follow_redirects=False)
    response = client.get("/", headers=[("Host", "a.example"), ("Host", "b.example")])
    assert response.status_code == 400
    assert "location" not in response.headers
