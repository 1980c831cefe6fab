"""TestClient: one event loop for lifespan and requests, cookies, redirects, errors."""

import threading
from contextlib import asynccontextmanager

import anyio
import pytest

from FasterAPI import Faster, RedirectResponse, Request, Response
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
