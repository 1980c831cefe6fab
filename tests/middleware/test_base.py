"""BaseHTTPMiddleware (raw ASGI dispatch) and FunctionMiddleware (request, call_next)."""

import threading

import anyio
import pytest

from FasterAPI import (
    BackgroundTasks,
    Faster,
    JSONResponse,
    Middleware,
    PlainTextResponse,
    Request,
    StreamingResponse,
    WebSocket,
)
from FasterAPI.middleware.base import BaseHTTPMiddleware, FunctionMiddleware
from FasterAPI.testclient import TestClient


@pytest.fixture
def anyio_backend():
    return "asyncio"


def make_app():
    app = Faster()
    app.state.log = []

    @app.get("/")
    async def index(request: Request):
        return {"seen": getattr(request.state, "tag", None)}

    @app.post("/echo")
    async def echo(request: Request):
        return PlainTextResponse(await request.body())

    @app.get("/boom")
    async def boom():
        raise RuntimeError("kaput")

    @app.get("/later")
    async def later(tasks: BackgroundTasks):
        tasks.add_task(app.state.log.append, "background ran")
        return "done"

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("ws ok")
        await websocket.close()

    return app


# -- BaseHTTPMiddleware: raw ASGI dispatch --------------------------------------------------


class ProcessTime(BaseHTTPMiddleware):
    async def dispatch(self, scope, receive, send):
        async def send_with_header(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"x-time", b"1")]}
            await send(message)

        await self.app(scope, receive, send_with_header)


def test_base_raw_dispatch_wraps_the_app():
    app = make_app()
    app.add_middleware(ProcessTime)
    response = TestClient(app).get("/")
    assert response.json() == {"seen": None}
    assert response.headers["x-time"] == "1"


def test_base_default_dispatch_passes_through():
    app = make_app()
    app.add_middleware(BaseHTTPMiddleware)
    assert TestClient(app).get("/").status_code == 200


def test_base_websockets_bypass_dispatch():
    calls = []

    class Recorder(BaseHTTPMiddleware):
        async def dispatch(self, scope, receive, send):
            calls.append(scope["type"])
            await self.app(scope, receive, send)

    async def fn(request, call_next):
        calls.append("function")
        return await call_next(request)

    app = make_app()
    app.add_middleware(Recorder)
    app.add_middleware(FunctionMiddleware, dispatch=fn)
    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "ws ok"
    assert calls == []


def test_base_subclass_with_request_call_next_dispatch():
    class Tagger(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            request.state.tag = "from middleware"
            response = await call_next(request)
            response.headers["X-Tagged"] = "yes"
            return response

    app = make_app()
    app.add_middleware(Tagger)
    response = TestClient(app).get("/")
    assert response.json() == {"seen": "from middleware"}
    assert response.headers["x-tagged"] == "yes"


def test_base_dispatch_keyword_like_starlette():
    async def fn(request, call_next):
        response = await call_next(request)
        response.headers["X-Fn"] = "1"
        return response

    app = make_app()
    app.add_middleware(BaseHTTPMiddleware, dispatch=fn)
    assert TestClient(app).get("/").headers["x-fn"] == "1"


# -- FunctionMiddleware --------------------------------------------------------------------


def test_function_middleware_edits_headers_and_status():
    async def mw(request, call_next):
        response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.status_code = 202
        return response

    app = make_app()
    app.add_middleware(FunctionMiddleware, dispatch=mw)
    response = TestClient(app).get("/")
    assert response.status_code == 202
    assert response.headers["x-frame-options"] == "DENY"
    assert response.json() == {"seen": None}
    assert response.headers["content-length"] == str(len(response.content))


def test_function_middleware_order_first_in_list_is_outermost():
    order = []

    def named(name):
        async def mw(request, call_next):
            order.append(f"{name} in")
            response = await call_next(request)
            order.append(f"{name} out")
            return response

        return mw

    app = Faster(
        middleware=[
            Middleware(FunctionMiddleware, dispatch=named("a")),
            Middleware(FunctionMiddleware, dispatch=named("b")),
        ]
    )
    app.get("/")(lambda: "ok")
    app.add_middleware(FunctionMiddleware, dispatch=named("c"))
    TestClient(app).get("/")
    assert order == ["c in", "a in", "b in", "b out", "a out", "c out"]


def test_function_middleware_early_response_skips_the_app():
    calls = []

    async def guard(request, call_next):
        if "authorization" not in request.headers:
            return JSONResponse({"detail": "no"}, status_code=401)
        return await call_next(request)

    app = make_app()

    @app.get("/guarded")
    async def guarded():
        calls.append("app")
        return "in"

    app.add_middleware(FunctionMiddleware, dispatch=guard)
    client = TestClient(app)
    assert client.get("/guarded").status_code == 401
    assert calls == []
    assert client.get("/guarded", headers={"Authorization": "x"}).json() == "in"


def test_function_middleware_body_read_in_dispatch_reaches_the_app():
    async def peek(request, call_next):
        body = await request.body()
        response = await call_next(request)
        response.headers["X-Body-Length"] = str(len(body))
        return response

    app = make_app()
    app.add_middleware(FunctionMiddleware, dispatch=peek)
    response = TestClient(app).post("/echo", content=b"hello body")
    assert response.text == "hello body"
    assert response.headers["x-body-length"] == "10"


def test_function_middleware_app_error_raised_from_call_next():
    caught = []

    async def catcher(request, call_next):
        try:
            return await call_next(request)
        except RuntimeError as exc:
            caught.append(str(exc))
            return PlainTextResponse("handled", status_code=503)

    app = make_app()
    app.add_middleware(FunctionMiddleware, dispatch=catcher)
    response = TestClient(app).get("/boom")
    assert (response.status_code, response.text) == (503, "handled")
    assert caught == ["kaput"]


def test_function_middleware_uncaught_error_becomes_500_and_propagates():
    async def passthrough(request, call_next):
        return await call_next(request)

    app = make_app()
    app.add_middleware(FunctionMiddleware, dispatch=passthrough)
    with pytest.raises(RuntimeError, match="kaput"):
        TestClient(app).get("/boom")
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_function_middleware_background_tasks_still_run():
    async def passthrough(request, call_next):
        return await call_next(request)

    app = make_app()
    app.add_middleware(FunctionMiddleware, dispatch=passthrough)
    assert TestClient(app).get("/later").json() == "done"
    assert app.state.log == ["background ran"]


def test_function_middleware_body_iterator_can_rebuild_the_response():
    async def upper(request, call_next):
        response = await call_next(request)
        body = b"".join([chunk async for chunk in response.body_iterator])
        return PlainTextResponse(body.upper(), status_code=response.status_code)

    app = make_app()

    @app.get("/stream")
    async def stream():
        async def chunks():
            yield "abc"
            yield "def"

        return StreamingResponse(chunks())

    app.add_middleware(FunctionMiddleware, dispatch=upper)
    assert TestClient(app).get("/stream").text == "ABCDEF"


def test_function_middleware_misuse_is_reported():
    async def returns_none(request, call_next):
        await call_next(request)

    async def twice(request, call_next):
        await call_next(request)
        return await call_next(request)

    for dispatch, error in ((returns_none, TypeError), (twice, RuntimeError)):
        app = make_app()
        app.add_middleware(FunctionMiddleware, dispatch=dispatch)
        with pytest.raises(error):
            TestClient(app).get("/")
    with pytest.raises(TypeError):
        FunctionMiddleware(make_app(), dispatch="not callable")


# -- streaming is never buffered (hand-written ASGI peers) ---------------------------------


def http_scope(path="/stream"):
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def streaming_app(produce):
    app = Faster()

    @app.get("/stream")
    async def stream():
        return StreamingResponse(produce(), media_type="text/plain")

    return app


async def header_mw(request, call_next):
    response = await call_next(request)
    response.headers["X-Wrapped"] = "1"
    return response


@pytest.mark.anyio
async def test_function_middleware_never_buffers_a_streaming_response():
    events = []
    first_sent = anyio.Event()

    async def produce():
        events.append("produce one")
        yield b"one"
        await first_sent.wait()  # deadlocks (and times out) if the middleware buffers
        events.append("produce two")
        yield b"two"

    app = streaming_app(produce)
    app.add_middleware(FunctionMiddleware, dispatch=header_mw)
    messages = []

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        messages.append(message)
        if message["type"] == "http.response.body":
            events.append(f"sent {message['body'].decode() or 'end'}")
            if message["body"] == b"one":
                first_sent.set()

    with anyio.fail_after(2):
        await app(http_scope(), receive, send)
    assert events == ["produce one", "sent one", "produce two", "sent two", "sent end"]
    assert (b"x-wrapped", b"1") in messages[0]["headers"]
    assert [m.get("more_body") for m in messages[1:]] == [True, True, False]


@pytest.mark.anyio
async def test_function_middleware_other_response_cancels_the_app():
    closed = anyio.Event()

    async def produce():
        try:
            yield b"one"
            await anyio.sleep_forever()
        finally:
            closed.set()

    async def replace(request, call_next):
        await call_next(request)
        return PlainTextResponse("replaced")

    app = streaming_app(produce)
    app.add_middleware(FunctionMiddleware, dispatch=replace)
    messages = []

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        messages.append(message)

    with anyio.fail_after(2):
        await app(http_scope(), receive, send)
        await closed.wait()
    assert messages[1]["body"] == b"replaced"


@pytest.mark.anyio
async def test_function_middleware_client_gone_stops_the_stream():
    produced = []
    closed = anyio.Event()

    async def produce():
        try:
            for i in range(100):
                produced.append(i)
                yield b"chunk"
        finally:
            closed.set()

    app = streaming_app(produce)
    app.add_middleware(FunctionMiddleware, dispatch=header_mw)
    bodies = []

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        if message["type"] == "http.response.body":
            bodies.append(message)
            if len(bodies) >= 2:
                raise OSError("client went away")

    with anyio.fail_after(2):
        await app(http_scope(), receive, send)
        await closed.wait()
    assert len(produced) < 5


@pytest.mark.anyio
async def test_function_middleware_around_gzip_and_cors_keeps_chunks_flowing():
    import zlib

    from FasterAPI.middleware.cors import CORSMiddleware
    from FasterAPI.middleware.gzip import GZipMiddleware

    first_sent = anyio.Event()

    async def produce():
        yield b"a" * 600
        await first_sent.wait()
        yield b"b" * 600

    app = streaming_app(produce)
    app.add_middleware(GZipMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.test"])
    app.add_middleware(FunctionMiddleware, dispatch=header_mw)
    scope = http_scope()
    scope["headers"] += [(b"accept-encoding", b"gzip"), (b"origin", b"https://app.test")]
    messages = []
    decoder = zlib.decompressobj(31)

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        messages.append(message)
        if message["type"] == "http.response.body" and message["body"]:
            if decoder.decompress(message["body"]) == b"a" * 600:
                first_sent.set()

    with anyio.fail_after(2):
        await app(scope, receive, send)
    headers = dict(messages[0]["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert headers[b"access-control-allow-origin"] == b"https://app.test"
    assert headers[b"vary"] == b"Accept-Encoding, Origin"
    assert headers[b"x-wrapped"] == b"1"
    assert decoder.eof


def test_function_middleware_that_streams_the_body_leaves_the_app_an_empty_one():
    seen: list[int] = []

    async def drain(request, call_next):
        async for chunk in request.stream():
            seen.append(len(chunk))
        return await call_next(request)

    app = make_app()
    app.add_middleware(FunctionMiddleware, dispatch=drain)
    answers: list[object] = []
    worker = threading.Thread(
        target=lambda: answers.append(TestClient(app).post("/echo", content=b"hello body")),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=10)
    assert answers, "the app waited for a body the middleware had already read"
    assert sum(seen) == 10
    assert answers[0].status_code == 200
    assert answers[0].text == ""


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
def test_http_exception_from_middleware_is_answered_not_a_500(interface):
    from FasterAPI import HTTPException

    app = Faster()

    @app.middleware("http")
    async def guard(request, call_next):
        _ = request.url  # two Host headers: a 400 raised here
        if request.url.path == "/deny":
            raise HTTPException(401, "no token", headers={"www-authenticate": "Bearer"})
        return await call_next(request)

    @app.get("/open")
    async def open_route():
        return "ok"

    client = TestClient(app, interface=interface)
    assert client.get("/open").json() == "ok"
    denied = client.get("/deny")
    assert (denied.status_code, denied.json()) == (401, {"detail": "no token"})
    assert denied.headers["www-authenticate"] == "Bearer"
    hosts = [("host", "a.example"), ("host", "b.example")]
    twice = client.get("/open", headers=hosts)
    assert (twice.status_code, twice.json()) == (400, {"detail": "More than one Host header"})
