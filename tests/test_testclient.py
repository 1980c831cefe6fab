"""TestClient: one event loop for lifespan and requests, cookies, redirects, errors."""

import threading
from contextlib import asynccontextmanager

import anyio
import pytest

from FasterAPI import (
    Faster,
    RedirectResponse,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
)
from FasterAPI.testclient import TestClient


def test_testclient_lifespan_and_requests_share_one_event_loop():
    seen = {}

    @asynccontextmanager
    async def lifespan(app):
        seen["startup"] = threading.get_ident()
        seen["event"] = anyio.Event()
        yield

    app = Faster(lifespan=lifespan)

    @app.get("/loop")
    async def loop():
        seen.setdefault("requests", set()).add(threading.get_ident())
        seen["event"].set()  # an anyio primitive made at startup works in handlers
        return "ok"

    with TestClient(app) as client:
        client.get("/loop")
        client.get("/loop")
    assert seen["requests"] == {seen["startup"]}


def test_testclient_cookies_persist_between_requests():
    app = Faster()

    @app.get("/login")
    async def login():
        response = Response("in")
        response.set_cookie("session", "abc")
        return response

    @app.get("/whoami")
    async def whoami(request: Request):
        return request.cookies.get("session")

    client = TestClient(app)
    client.get("/login")
    assert client.get("/whoami").json() == "abc"


def test_testclient_follow_redirects_switch():
    app = Faster()

    @app.get("/from")
    async def source():
        return RedirectResponse("/to")

    @app.get("/to")
    async def target():
        return "arrived"

    assert TestClient(app).get("/from").json() == "arrived"
    assert TestClient(app, follow_redirects=False).get("/from").status_code == 307


def test_testclient_base_url_sets_host_and_scheme():
    app = Faster()

    @app.get("/where")
    async def where(request: Request):
        return str(request.url)

    client = TestClient(app, base_url="https://example.org")
    assert client.get("/where").json() == "https://example.org/where"


def test_testclient_raise_server_exceptions_switch():
    app = Faster()

    @app.get("/bug")
    async def bug():
        raise LookupError("bug")

    with pytest.raises(LookupError):
        TestClient(app).get("/bug")
    assert TestClient(app, raise_server_exceptions=False).get("/bug").status_code == 500


def test_testclient_without_context_does_not_run_lifespan():
    started = []
    app = Faster(on_startup=[lambda: started.append(1)])

    @app.get("/")
    async def root():
        return "ok"

    assert TestClient(app).get("/").json() == "ok"
    assert started == []


def echo_then_fail_app():
    app = Faster()

    @app.websocket("/echo-then-fail")
    async def echo_then_fail(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        raise ValueError("bug after echo")

    @app.websocket("/fail-after-accept")
    async def fail_after_accept(websocket: WebSocket):
        await websocket.accept()
        raise ValueError("bug after accept")

    @app.websocket("/fail-before-accept")
    async def fail_before_accept(websocket: WebSocket):
        raise ValueError("bug before accept")

    return app


def test_testclient_websocket_app_error_is_raised_at_exit():
    client = TestClient(echo_then_fail_app())
    with pytest.raises(ValueError, match="bug after echo"):
        with client.websocket_connect("/echo-then-fail") as session:
            session.send_text("hi")
            assert session.receive_text() == "hi"


def test_testclient_websocket_app_error_right_after_accept_is_raised_at_exit():
    client = TestClient(echo_then_fail_app())
    with pytest.raises(ValueError, match="bug after accept"):
        with client.websocket_connect("/fail-after-accept"):
            pass


def test_testclient_websocket_app_error_replaces_the_close_it_caused():
    # The app's 1011 reaches the test as a WebSocketDisconnect; leaving the block then
    # raises the bug behind it, with the disconnect as its context.
    client = TestClient(echo_then_fail_app())
    with pytest.raises(ValueError, match="bug after accept") as info:
        with client.websocket_connect("/fail-after-accept") as session:
            session.receive_text()
    assert isinstance(info.value.__context__, WebSocketDisconnect)
    assert info.value.__context__.code == 1011


def test_testclient_websocket_app_error_raised_by_receive_is_not_raised_again():
    client = TestClient(echo_then_fail_app())
    with client.websocket_connect("/fail-after-accept") as session:
        assert session.receive()["code"] == 1011
        with pytest.raises(ValueError, match="bug after accept"):
            session.receive()


def test_testclient_websocket_app_error_not_raised_without_raise_server_exceptions():
    client = TestClient(echo_then_fail_app(), raise_server_exceptions=False)
    with client.websocket_connect("/echo-then-fail") as session:
        session.send_text("hi")
        assert session.receive_text() == "hi"
        assert session.receive()["code"] == 1011
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive()
        assert info.value.code == 1006


async def raw_fail_before_accept(scope, receive, send):
    await receive()
    raise ValueError("raw bug before accept")


@pytest.mark.parametrize(
    ("app", "path", "match"),
    [
        (echo_then_fail_app(), "/fail-before-accept", "bug before accept"),
        (raw_fail_before_accept, "/", "raw bug before accept"),
    ],
    ids=["faster", "raw-asgi"],
)
def test_testclient_websocket_app_error_before_accept_is_raised_and_frees_the_portal(
    app, path, match
):
    client = TestClient(app)
    before = threading.active_count()
    for _ in range(4):
        with pytest.raises(ValueError, match=match):
            with client.websocket_connect(path):
                pass
    assert threading.active_count() == before


def test_testclient_websocket_disconnect_from_its_own_close_is_not_raised():
    async def app(scope, receive, send):
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        message = await receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message["code"])  # what an uncaught disconnect does

    with TestClient(app).websocket_connect("/") as session:
        session.close(1001)
    with TestClient(app).websocket_connect("/"):
        pass


def test_testclient_websocket_disconnect_the_app_raises_itself_is_raised():
    async def app(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        raise WebSocketDisconnect(1006)  # not the client's doing

    with pytest.raises(WebSocketDisconnect):
        with TestClient(app).websocket_connect("/"):
            pass


def test_testclient_can_be_entered_again_after_its_with_block():
    events = []

    @asynccontextmanager
    async def lifespan(app):
        events.append("startup")
        yield
        events.append("shutdown")

    app = Faster(lifespan=lifespan)

    @app.get("/")
    def index():
        return "ok"

    client = TestClient(app)
    with client:
        assert client.get("/").json() == "ok"
    assert client.get("/").json() == "ok"  # still usable, without lifespan
    with client:
        assert client.get("/").json() == "ok"
    assert events == ["startup", "shutdown", "startup", "shutdown"]


def test_testclient_exits_for_an_app_that_ignores_lifespan():
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return  # no lifespan support: the ASGI spec lets an app just return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    done = threading.Event()

    def use_client():
        with TestClient(app) as client:
            assert client.get("/").text == "ok"
        done.set()

    thread = threading.Thread(target=use_client, daemon=True)
    thread.start()
    thread.join(5)
    assert done.is_set(), "leaving the with block hung waiting for a lifespan shutdown"
