"""RequestIDMiddleware: incoming ids validated or replaced, state, echo, errors, websockets."""

import itertools

import pytest

from FasterAPI import Faster, Request, WebSocket
from FasterAPI.middleware.requestid import RequestIDMiddleware
from FasterAPI.testclient import TestClient


def make_app(**options):
    app = Faster()

    @app.get("/id")
    async def read_id(request: Request):
        return {"state": request.state.request_id, "scope": request.scope["state"]["request_id"]}

    @app.get("/boom")
    async def boom():
        raise RuntimeError("kaput")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text(websocket.state.request_id)
        await websocket.close()

    app.add_middleware(RequestIDMiddleware, **options)
    return app


def test_requestid_generated_when_missing():
    response = TestClient(make_app()).get("/id")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    int(request_id, 16)
    assert response.json() == {"state": request_id, "scope": request_id}


def test_requestid_unique_per_request():
    client = TestClient(make_app())
    assert client.get("/id").headers["x-request-id"] != client.get("/id").headers["x-request-id"]


@pytest.mark.parametrize("incoming", ["abc-123", "trace:1.2/3+4=", "a" * 128])
def test_requestid_valid_incoming_id_is_kept(incoming):
    response = TestClient(make_app()).get("/id", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming
    assert response.json()["state"] == incoming


@pytest.mark.parametrize(
    "incoming", ["a" * 129, "has space", "semi;colon", "<script>", "é".encode()]
)
def test_requestid_unsafe_incoming_id_is_replaced(incoming):
    response = TestClient(make_app()).get("/id", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] != incoming
    assert len(response.headers["x-request-id"]) == 32


def test_requestid_untrusted_incoming_id_is_replaced():
    app = make_app(trust_incoming=False)
    response = TestClient(app).get("/id", headers={"X-Request-ID": "client-chosen"})
    assert response.headers["x-request-id"] != "client-chosen"


def test_requestid_custom_header_and_generator():
    counter = itertools.count(1)
    app = make_app(header_name="X-Correlation-ID", generator=lambda: f"req-{next(counter)}")
    client = TestClient(app)
    assert client.get("/id").headers["x-correlation-id"] == "req-1"
    response = client.get("/id")
    assert response.json()["state"] == "req-2"
    assert "x-request-id" not in response.headers


def test_requestid_unsafe_generator_output_is_an_error():
    client = TestClient(make_app(generator=lambda: "bad\r\nid"))
    with pytest.raises(ValueError):
        client.get("/id")


def test_requestid_invalid_header_name_refused():
    with pytest.raises(ValueError):
        RequestIDMiddleware(make_app(), header_name="X Request")


def test_requestid_left_for_the_500_of_an_unhandled_exception():
    app = make_app(generator=lambda: "fixed-id")
    seen = {}

    async def outer(scope, receive, send):
        try:
            await app(scope, receive, send)
        finally:
            seen.update(scope)

    response = TestClient(outer, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert seen["fasterapi.error_headers"] == [(b"x-request-id", b"fixed-id")]


def test_requestid_websocket_state_and_accept_header():
    client = TestClient(make_app())
    with client.websocket_connect("/ws", headers={"X-Request-ID": "ws-1"}) as session:
        assert session.receive_text() == "ws-1"
        assert (b"x-request-id", b"ws-1") in session.extra_headers
