"""Faults at exact points, with hand-scripted ASGI receive/send: nothing hangs, leaks or lies."""

import logging
from contextlib import asynccontextmanager

import anyio
import pytest

from FasterAPI import (
    BackgroundTasks,
    Depends,
    Faster,
    HTTPException,
    JSONResponse,
    Request,
    StreamingResponse,
)
from FasterAPI.request import ClientDisconnect


class Peer:
    """A scripted client: messages to hand out, and what the app sent."""

    def __init__(self, *messages, then_disconnect=True, send_error=None):
        self.inbox = list(messages)
        self.sent = []
        self.then_disconnect = then_disconnect
        self.send_error = send_error

    async def receive(self):
        if self.inbox:
            return self.inbox.pop(0)
        if not self.then_disconnect:
            await anyio.sleep_forever()
        return {"type": "http.disconnect"}

    async def send(self, message):
        if self.send_error is not None:
            raise self.send_error
        self.sent.append(message)

    @property
    def status(self):
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) <= 1, "http.response.start sent twice"
        return starts[0]["status"] if starts else None


def scope(method="GET", path="/", headers=()):
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": list(headers),
        "root_path": "",
    }


def run(app, request_scope, peer, timeout=2):
    async def go():
        with anyio.fail_after(timeout):
            await app(request_scope, peer.receive, peer.send)

    anyio.run(go)


def test_fault_disconnect_after_some_body_bytes_is_a_400_not_a_500(caplog):
    app = Faster()
    reached = []

    @app.post("/upload")
    async def upload(request: Request):
        await request.body()
        reached.append(True)

    peer = Peer({"type": "http.request", "body": b"x" * 10, "more_body": True})
    run(app, scope("POST", "/upload"), peer)
    assert reached == []
    # Servers report a broken body as a disconnect too: the answer is a 400, which a
    # server drops when the client has really gone.
    assert peer.status == 400
    assert b"ended before it was complete" in peer.sent[1]["body"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_fault_disconnect_when_the_answer_cannot_be_sent_is_quiet(caplog):
    app = Faster()

    @app.post("/upload")
    async def upload(request: Request):
        await request.body()

    peer = Peer(
        {"type": "http.request", "body": b"x", "more_body": True},
        send_error=OSError("connection reset"),
    )
    run(app, scope("POST", "/upload"), peer)
    assert peer.sent == []
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_fault_send_raising_oserror_propagates_without_second_start():
    app = Faster()

    @app.get("/")
    async def root():
        return {"ok": True}

    peer = Peer(send_error=OSError("connection reset"))
    with pytest.raises(OSError):
        run(app, scope(), peer)


def test_fault_disconnect_during_slow_dependency_stops_cleanly():
    app = Faster()
    events = []

    async def slow():
        try:
            await anyio.sleep(10)
            yield "never"
        finally:
            events.append("dependency cleaned up")

    @app.get("/")
    async def root(value: str = Depends(slow)):
        events.append("handler")
        return value

    async def go():
        peer = Peer(then_disconnect=False)
        with anyio.move_on_after(0.2):  # the server cancels the request task
            await app(scope(), peer.receive, peer.send)
        return peer

    peer = anyio.run(go)
    assert events == ["dependency cleaned up"]
    assert peer.sent == []


def test_fault_exception_before_response_started_gives_one_500():
    app = Faster()

    @app.get("/")
    async def root():
        raise RuntimeError("before")

    peer = Peer()
    with pytest.raises(RuntimeError):
        run(app, scope(), peer)
    assert peer.status == 500


def test_fault_exception_after_response_started_is_raised_not_reanswered():
    app = Faster()

    async def chunks():
        yield b"partial"
        raise RuntimeError("after")

    @app.get("/")
    async def root():
        return StreamingResponse(chunks())

    peer = Peer(then_disconnect=False)
    with pytest.raises(RuntimeError, match="after"):
        run(app, scope(), peer)
    assert peer.status == 200
    assert [m.get("body") for m in peer.sent[1:]] == [b"partial"]


def test_fault_http_exception_after_response_started_is_not_a_second_response():
    app = Faster()

    async def chunks():
        yield b"a"
        raise HTTPException(400, "too late")

    @app.get("/")
    async def root():
        return StreamingResponse(chunks())

    peer = Peer(then_disconnect=False)
    with pytest.raises(HTTPException):
        run(app, scope(), peer)
    assert peer.status == 200


def test_fault_exception_in_middleware_gives_500_and_is_raised():
    class Broken:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            if scope["type"] == "http":
                raise ValueError("middleware bug")
            await self.app(scope, receive, send)

    app = Faster(middleware=[])
    app.add_middleware(Broken)

    @app.get("/")
    async def root():
        return "ok"

    peer = Peer()
    with pytest.raises(ValueError):
        run(app, scope(), peer)
    assert peer.status == 500


def test_fault_exception_in_exception_handler_gives_500(caplog):
    class Custom(Exception):
        pass

    app = Faster()

    @app.exception_handler(Custom)
    async def broken_handler(request, exc):
        raise KeyError("handler bug")

    @app.get("/")
    async def root():
        raise Custom()

    peer = Peer()
    with pytest.raises(KeyError):
        run(app, scope(), peer)
    assert peer.status == 500


def test_fault_exception_in_500_handler_still_sends_generic_500(caplog):
    app = Faster()

    @app.exception_handler(500)
    async def broken(request, exc):
        raise KeyError("500 handler bug")

    @app.get("/")
    async def root():
        raise RuntimeError("original")

    peer = Peer()
    with caplog.at_level(logging.ERROR, logger="FasterAPI"), pytest.raises(RuntimeError):
        run(app, scope(), peer)
    assert peer.status == 500
    assert peer.sent[1]["body"] == b'{"detail":"Internal Server Error"}'
    assert "The 500 exception handler failed" in caplog.text


def test_fault_background_task_error_after_response_is_raised_and_response_intact():
    app = Faster()

    def explode():
        raise RuntimeError("background bug")

    @app.get("/")
    async def root(tasks: BackgroundTasks):
        tasks.add_task(explode)
        return JSONResponse({"sent": True})

    peer = Peer()
    with pytest.raises(RuntimeError, match="background bug"):
        run(app, scope(), peer)
    assert peer.status == 200
    assert peer.sent[1]["body"] == b'{"sent":true}'


def test_fault_dependency_teardown_error_before_fixed_response_is_a_500():
    app = Faster()

    async def resource():
        yield "r"
        raise RuntimeError("teardown bug")

    @app.get("/")
    async def root(value: str = Depends(resource)):
        return value

    peer = Peer()
    with pytest.raises(RuntimeError):
        run(app, scope(), peer)
    assert peer.status == 500


def test_fault_dependency_teardown_error_after_stream_is_raised_and_logged(caplog):
    app = Faster()

    async def resource():
        yield "r"
        raise RuntimeError("teardown bug")

    async def chunks():
        yield b"data"

    @app.get("/")
    async def root(value: str = Depends(resource)):
        return StreamingResponse(chunks())

    peer = Peer()
    with caplog.at_level(logging.ERROR, logger="FasterAPI"), pytest.raises(RuntimeError):
        run(app, scope(), peer)
    assert peer.status == 200
    assert "after the response started" in caplog.text


def lifespan_peer(*messages):
    return Peer(*messages, then_disconnect=False)


def test_fault_lifespan_startup_failure_reports_failed():
    @asynccontextmanager
    async def lifespan(app):
        raise ConnectionError("database down")
        yield

    peer = lifespan_peer({"type": "lifespan.startup"})
    with pytest.raises(ConnectionError):
        run(Faster(lifespan=lifespan), {"type": "lifespan"}, peer)
    assert peer.sent[0]["type"] == "lifespan.startup.failed"
    assert "database down" in peer.sent[0]["message"]


def test_fault_lifespan_startup_hang_times_out():
    @asynccontextmanager
    async def lifespan(app):
        await anyio.sleep_forever()
        yield

    app = Faster(lifespan=lifespan, startup_timeout=0.1)
    peer = lifespan_peer({"type": "lifespan.startup"})
    with pytest.raises(TimeoutError):
        run(app, {"type": "lifespan"}, peer)
    assert peer.sent[0]["type"] == "lifespan.startup.failed"
    assert "longer than 0.1" in peer.sent[0]["message"]


def test_fault_lifespan_with_task_group_and_timeout_starts_and_stops():
    events = []

    @asynccontextmanager
    async def lifespan(app):
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.sleep_forever)
            events.append("up")
            yield
            group.cancel_scope.cancel()
        events.append("down")

    app = Faster(lifespan=lifespan, startup_timeout=1)
    peer = lifespan_peer({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"})
    run(app, {"type": "lifespan"}, peer)
    assert [m["type"] for m in peer.sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert events == ["up", "down"]


def test_fault_shutdown_hook_failure_reports_failed_and_runs_the_rest():
    ran = []
    app = Faster()

    @app.on_shutdown
    def first():
        ran.append("first")
        raise RuntimeError("hook bug")

    @app.on_shutdown
    async def second():
        ran.append("second")

    peer = lifespan_peer({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"})
    with pytest.raises(RuntimeError):
        run(app, {"type": "lifespan"}, peer)
    assert [m["type"] for m in peer.sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.failed",
    ]
    assert ran == ["first", "second"]


def test_fault_client_disconnect_exception_class_is_public():
    assert issubclass(ClientDisconnect, Exception)
