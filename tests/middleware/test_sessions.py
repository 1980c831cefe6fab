"""SessionMiddleware: signed cookie round trips, change detection, tampering, expiry,
cookie attributes, key rotation, websockets, lifespan and the backend hook."""

import asyncio
import uuid

import pytest
from itsdangerous import TimestampSigner

from FasterAPI import Faster, Request, WebSocket
from FasterAPI.middleware.sessions import CookieBackend, SessionMiddleware
from FasterAPI.testclient import TestClient

SECRET = "s3cret-for-tests"


def make_app(**options):
    app = Faster()

    @app.get("/read")
    async def read(request: Request):
        return dict(request.scope["session"])

    @app.post("/set/{name}/{value}")
    async def set_value(name: str, value: str, request: Request):
        request.scope["session"][name] = value
        return dict(request.scope["session"])

    @app.post("/append/{value}")
    async def append(value: str, request: Request):
        request.scope["session"].setdefault("items", []).append(value)
        return dict(request.scope["session"])

    @app.post("/clear")
    async def clear(request: Request):
        request.scope["session"].clear()
        return {}

    @app.post("/object")
    async def store_object(request: Request):
        request.scope["session"]["bad"] = object()
        return {}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_json(websocket.scope["session"])
        await websocket.close()

    options.setdefault("secret_key", SECRET)
    app.add_middleware(SessionMiddleware, **options)
    return app


def set_cookie_headers(response):
    return response.headers.get_list("set-cookie")


def test_sessions_round_trip_through_the_cookie():
    client = TestClient(make_app())
    response = client.post("/set/user/ada")
    assert response.json() == {"user": "ada"}
    [cookie] = set_cookie_headers(response)
    assert cookie.startswith("session=")
    assert client.get("/read").json() == {"user": "ada"}


def test_sessions_cookie_attributes_default():
    response = TestClient(make_app()).post("/set/a/b")
    [cookie] = set_cookie_headers(response)
    attributes = [part.strip() for part in cookie.split(";")[1:]]
    assert attributes == ["Max-Age=1209600", "Path=/", "HttpOnly", "SameSite=Lax"]


def test_sessions_cookie_attributes_configured():
    app = make_app(
        session_cookie="sid",
        max_age=None,
        path="/app",
        same_site="none",
        https_only=True,
        domain="example.com",
    )
    [cookie] = set_cookie_headers(TestClient(app).post("/set/a/b"))
    assert cookie.startswith("sid=")
    attributes = [part.strip() for part in cookie.split(";")[1:]]
    assert attributes == ["Path=/app", "Domain=example.com", "Secure", "HttpOnly", "SameSite=None"]


def test_sessions_unchanged_session_sends_no_cookie():
    client = TestClient(make_app())
    client.post("/set/user/ada")
    response = client.get("/read")
    assert response.json() == {"user": "ada"}
    assert set_cookie_headers(response) == []


def test_sessions_rewriting_the_same_value_sends_no_cookie():
    client = TestClient(make_app())
    client.post("/set/user/ada")
    assert set_cookie_headers(client.post("/set/user/ada")) == []
    assert len(set_cookie_headers(client.post("/set/user/bob"))) == 1


def test_sessions_nested_mutation_is_saved():
    client = TestClient(make_app())
    client.post("/append/x")
    response = client.post("/append/y")
    assert len(set_cookie_headers(response)) == 1
    assert client.get("/read").json() == {"items": ["x", "y"]}


def test_sessions_untouched_request_without_cookie_sends_none():
    response = TestClient(make_app()).get("/read")
    assert response.json() == {}
    assert set_cookie_headers(response) == []


def test_sessions_cleared_session_deletes_the_cookie():
    client = TestClient(make_app())
    client.post("/set/user/ada")
    response = client.post("/clear")
    [cookie] = set_cookie_headers(response)
    assert cookie.startswith("session=;") or cookie.startswith('session="";')
    assert "Max-Age=0" in cookie and "1970" in cookie
    assert "session" not in client.cookies
    assert client.get("/read").json() == {}


def test_sessions_clearing_an_empty_session_sends_nothing():
    response = TestClient(make_app()).post("/clear")
    assert set_cookie_headers(response) == []


def tampered(value: str) -> str:
    payload, timestamp, signature = value.rsplit(".", 2)
    return f"{payload}x.{timestamp}.{signature}"


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "",
        "a.b.c",
        "é",
        "x" * 5000,
    ],
)
def test_sessions_malformed_cookie_gives_an_empty_session(cookie):
    client = TestClient(make_app())
    response = client.get("/read", headers={"cookie": f"session={cookie}".encode()})
    assert response.status_code == 200
    assert response.json() == {}


def test_sessions_tampered_cookie_gives_an_empty_session_and_is_deleted():
    client = TestClient(make_app())
    client.post("/set/user/ada")
    value = client.cookies["session"]
    client.cookies.clear()
    response = client.get("/read", headers={"cookie": f"session={tampered(value)}"})
    assert response.status_code == 200
    assert response.json() == {}
    [cookie] = set_cookie_headers(response)
    assert "Max-Age=0" in cookie


def test_sessions_cookie_signed_with_another_key_is_rejected():
    value = TestClient(make_app(secret_key="other")).post("/set/a/b").cookies["session"]
    response = TestClient(make_app()).get("/read", headers={"cookie": f"session={value}"})
    assert response.json() == {}


def test_sessions_key_rotation_accepts_old_keys_and_signs_with_the_newest():
    value = TestClient(make_app(secret_key="old")).post("/set/a/b").cookies["session"]
    rotated = TestClient(make_app(secret_key=["old", "new"]))
    assert rotated.get("/read", headers={"cookie": f"session={value}"}).json() == {"a": "b"}
    new_value = rotated.post("/set/c/d", headers={"cookie": f"session={value}"}).cookies["session"]
    assert TestClient(make_app(secret_key="new")).get(
        "/read", headers={"cookie": f"session={new_value}"}
    ).json() == {"a": "b", "c": "d"}


def test_sessions_valid_signature_over_garbage_payload_gives_an_empty_session():
    signer = TimestampSigner(SECRET, salt="fasterapi.sessions")
    for payload in (b"!!!", b"bm90IGpzb24", b"WzFd"):  # not base64, not JSON, a list
        value = signer.sign(payload).decode()
        response = TestClient(make_app()).get("/read", headers={"cookie": f"session={value}"})
        assert response.status_code == 200
        assert response.json() == {}


def test_sessions_expired_cookie_gives_an_empty_session(monkeypatch):
    client = TestClient(make_app(max_age=60))
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) - 61)
    client.post("/set/user/ada")
    monkeypatch.undo()
    response = client.get("/read")
    assert response.status_code == 200
    assert response.json() == {}


def test_sessions_cookie_within_max_age_is_accepted(monkeypatch):
    client = TestClient(make_app(max_age=60))
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) - 50)
    client.post("/set/user/ada")
    monkeypatch.undo()
    assert client.get("/read").json() == {"user": "ada"}


def test_sessions_other_cookies_are_left_alone():
    client = TestClient(make_app())
    client.post("/set/user/ada")
    value = client.cookies["session"]
    client.cookies.clear()
    response = client.get("/read", headers={"cookie": f"theme=dark; session={value}; lang=en"})
    assert response.json() == {"user": "ada"}
    assert set_cookie_headers(response) == []


def test_sessions_unserialisable_value_is_an_error():
    with pytest.raises(TypeError, match="JSON-serialisable"):
        TestClient(make_app()).post("/object")
    response = TestClient(make_app(), raise_server_exceptions=False).post("/object")
    assert response.status_code == 500
    assert set_cookie_headers(response) == []


def test_sessions_oversized_cookie_is_logged(caplog):
    app = make_app()
    with caplog.at_level("WARNING", logger="FasterAPI"):
        TestClient(app).post(f"/set/big/{'x' * 5000}")
    assert "browsers drop cookies" in caplog.text


@pytest.mark.parametrize(
    "options",
    [
        {"secret_key": ""},
        {"secret_key": []},
        {"same_site": "none"},
        {"same_site": "sometimes"},
        {"max_age": 0},
        {"path": "/a;b"},
        {"session_cookie": "bad name"},
    ],
)
def test_sessions_invalid_options_are_refused(options):
    with pytest.raises(ValueError):
        SessionMiddleware(lambda scope, receive, send: None, **{"secret_key": SECRET, **options})


def test_sessions_websocket_reads_the_session():
    client = TestClient(make_app())
    client.post("/set/user/ada")
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_json() == {"user": "ada"}


def test_sessions_lifespan_passes_through_untouched():
    seen = []

    async def app(scope, receive, send):
        seen.append((dict(scope), receive, send))

    async def receive():
        return {"type": "lifespan.startup"}

    async def send(message):
        pass

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    asyncio.run(SessionMiddleware(app, secret_key=SECRET)(scope, receive, send))
    assert seen == [(scope, receive, send)]
    assert "session" not in scope


class MemoryStore:
    """A server-side backend: the cookie carries a random id, the data stays here."""

    def __init__(self):
        self.sessions = {}

    async def load(self, payload):
        return self.sessions.get(payload)

    async def save(self, payload, data, max_age):
        payload = payload or uuid.uuid4().hex
        self.sessions[payload] = dict(data)
        return payload

    async def delete(self, payload):
        self.sessions.pop(payload, None)


def test_sessions_backend_hook_keeps_data_server_side():
    store = MemoryStore()
    client = TestClient(make_app(backend=store))
    client.post("/set/user/ada")
    [(session_id, data)] = store.sessions.items()
    assert data == {"user": "ada"}
    assert "ada" not in client.cookies["session"]
    assert client.cookies["session"].startswith(session_id + ".")
    client.post("/set/role/admin")
    assert store.sessions == {session_id: {"user": "ada", "role": "admin"}}
    assert client.get("/read").json() == {"user": "ada", "role": "admin"}
    client.post("/clear")
    assert store.sessions == {}


def test_sessions_backend_hook_unknown_id_gives_an_empty_session():
    store = MemoryStore()
    client = TestClient(make_app(backend=store))
    client.post("/set/user/ada")
    store.sessions.clear()  # expired server-side
    assert client.get("/read").json() == {}


def test_sessions_cookie_backend_round_trip():
    backend = CookieBackend()
    payload = asyncio.run(backend.save(None, {"a": [1, 2], "b": None}, 60))
    assert asyncio.run(backend.load(payload)) == {"a": [1, 2], "b": None}
    assert asyncio.run(backend.load("%%%")) is None


def test_sessions_cookie_with_a_longer_name_is_not_ours():
    response = TestClient(make_app()).get("/read", headers={"cookie": "mysession=abc"})
    assert response.json() == {}
    assert set_cookie_headers(response) == []


def test_sessions_empty_cookie_value_is_deleted():
    response = TestClient(make_app()).get("/read", headers={"cookie": "session="})
    assert response.json() == {}
    [cookie] = set_cookie_headers(response)
    assert "Max-Age=0" in cookie
