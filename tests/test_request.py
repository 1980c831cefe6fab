"""Request: URL, headers, query, cookies, client, body/json/stream, disconnects."""

import anyio

from FasterAPI import Faster, Request
from FasterAPI.request import ClientDisconnect
from FasterAPI.testclient import TestClient


def echo_app() -> Faster:
    app = Faster()

    @app.api_route("/echo/{name}", methods=["GET", "POST"])
    async def echo(name: str, request: Request):
        return {
            "method": request.method,
            "url": str(request.url),
            "path": request.url.path,
            "base_url": str(request.base_url),
            "headers": request.headers.getlist("x-multi"),
            "ua": request.headers["User-Agent"],
            "query": request.query_params.getlist("q"),
            "last_q": request.query_params.get("q"),
            "path_params": request.path_params,
            "cookies": request.cookies,
            "client": list(request.client) if request.client else None,
            "body": (await request.body()).decode(),
        }

    @app.post("/json")
    async def as_json(request: Request):
        return {"got": await request.json()}

    @app.post("/stream")
    async def stream(request: Request):
        sizes = [len(chunk) async for chunk in request.stream()]
        return {"total": sum(sizes)}

    return app


client = TestClient(echo_app())


def test_request_exposes_url_headers_query_cookies_client_body():
    response = client.post(
        "/echo/bob?q=1&q=2",
        content=b"payload",
        headers=[("x-multi", "a"), ("x-multi", "b"), ("cookie", "k=v; other=1")],
    )
    data = response.json()
    assert data["method"] == "POST"
    assert data["url"] == "http://testserver/echo/bob?q=1&q=2"
    assert data["path"] == "/echo/bob"
    assert data["base_url"] == "http://testserver/"
    assert data["headers"] == ["a", "b"]
    assert data["ua"] == "testclient"
    assert data["query"] == ["1", "2"]
    assert data["last_q"] == "2"
    assert data["path_params"] == {"name": "bob"}
    assert data["cookies"] == {"k": "v", "other": "1"}
    assert data["client"] == ["testclient", 50000]
    assert data["body"] == "payload"


def test_request_cookies_read_every_cookie_header():
    headers = [("cookie", "a=1"), ("cookie", "b=2; c=3")]
    response = client.get("/echo/bob", headers=headers)
    assert response.json()["cookies"] == {"a": "1", "b": "2", "c": "3"}


def test_request_url_keeps_the_escapes_the_client_sent():
    app = echo_app()
    app.root_path = "/pre"  # behind a proxy that strips /pre
    data = TestClient(app).get("/echo/a%3Fb%23c%2520?q=%3F").json()
    assert data["path_params"] == {"name": "a?b#c%20"}
    assert data["url"] == "http://testserver/pre/echo/a%3Fb%23c%2520?q=%3F"
    assert data["path"] == "/pre/echo/a%3Fb%23c%2520"
    assert data["base_url"] == "http://testserver/pre/"


def test_request_slash_redirect_keeps_the_escapes_and_the_query():
    local = TestClient(echo_app(), follow_redirects=False)
    for target, location in [
        ("/echo/a%3Fb/", "/echo/a%3Fb"),
        ("/echo/a%23b/", "/echo/a%23b"),
        ("/echo/a%2520b/", "/echo/a%2520b"),
        ("/echo/caf%C3%A9/?q=%20", "/echo/caf%C3%A9?q=%20"),
        ("/echo/a%2F", "/echo/a"),  # the decoded path's trailing "/" was sent as %2F
    ]:
        response = local.get(target)
        assert response.status_code == 307, target
        assert response.headers["location"] == "http://testserver" + location


def test_request_json_and_malformed_json_is_400():
    assert client.post("/json", json={"a": [1]}).json() == {"got": {"a": [1]}}
    response = client.post("/json", content=b"{nope")
    assert response.status_code == 400
    assert "Malformed JSON" in response.json()["detail"]


def test_request_stream_reads_chunks():
    assert client.post("/stream", content=b"x" * 5000).json() == {"total": 5000}


def test_request_body_limit_applies_to_request_body_too():
    app = Faster(max_body_size=4)

    @app.post("/raw")
    async def raw(request: Request):
        return len(await request.body())

    response = TestClient(app).post("/raw", content=b"12345")
    assert response.status_code == 413


def test_request_invalid_content_length_is_400():
    app = Faster()

    @app.post("/raw")
    async def raw(request: Request):
        return len(await request.body())

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"x", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/raw",
        "query_string": b"",
        "headers": [(b"content-length", b"abc")],
    }
    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 400


def test_request_client_disconnect_while_reading_body():
    app = Faster()
    seen = []

    @app.post("/upload")
    async def upload(request: Request):
        try:
            await request.body()
        except ClientDisconnect:
            seen.append("disconnect")
            raise

    messages = [
        {"type": "http.request", "body": b"part", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive():
        return messages.pop(0)

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "query_string": b"",
        "headers": [],
    }
    anyio.run(app, scope, receive, send)
    assert seen == ["disconnect"]
    # A 400, not a 500: dropped by the server when nobody is listening.
    assert sent[0]["status"] == 400


def test_request_is_disconnected():
    app = Faster()
    result = {}

    @app.get("/check")
    async def check(request: Request):
        result["before"] = await request.is_disconnected()
        return "ok"

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        pass

    scope = {"type": "http", "method": "GET", "path": "/check", "query_string": b"", "headers": []}
    anyio.run(app, scope, receive, send)
    assert result["before"] is True


def test_request_state_and_scope_access():
    app = Faster()

    @app.get("/state")
    async def state(request: Request):
        request.state.user = "ann"
        return {"user": request.state.user, "type": request["type"], "app": request.app is app}

    assert TestClient(app).get("/state").json() == {"user": "ann", "type": "http", "app": True}


def test_request_session_requires_session_middleware():
    from FasterAPI.middleware.sessions import SessionMiddleware

    app = Faster()
    app.add_middleware(SessionMiddleware, secret_key="s" * 32)

    @app.get("/visit")
    async def visit(request: Request):
        request.session["visits"] = request.session.get("visits", 0) + 1
        return request.session["visits"]

    client = TestClient(app)
    assert client.get("/visit").json() == 1
    assert client.get("/visit").json() == 2

    bare = Faster()

    @bare.get("/visit")
    async def no_session(request: Request):
        return request.session

    assert TestClient(bare, raise_server_exceptions=False).get("/visit").status_code == 500
