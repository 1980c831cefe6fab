"""StreamingResponse: seed examples, chunk boundaries on the wire, HEAD/204, disconnects, errors."""

import asyncio
import threading
import time

import anyio
import pytest

from FasterAPI import BackgroundTasks, Faster, Middleware, StreamingResponse
from FasterAPI._stream import WATCH_DELAY
from FasterAPI.background import BackgroundTask
from FasterAPI.testclient import TestClient


@pytest.fixture
def anyio_backend():
    return "asyncio"


def http_scope(method="GET", path="/", headers=()):
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


class Peer:
    """A hand-written ASGI server side: records sends; ``receive`` gives the request, then
    ``http.disconnect`` once ``leave_after`` body chunks were sent (never, if None)."""

    def __init__(self, leave_after=None, on_leave=None):
        self.messages = []
        self.leave_after = leave_after
        self.on_leave = on_leave
        self.bodies_at_disconnect = None
        self.enough_at = None
        self.noticed_after = None
        self.request_sent = False
        self.enough = anyio.Event()

    async def receive(self):
        if not self.request_sent:
            self.request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if self.leave_after is None:
            await anyio.sleep_forever()
        await self.enough.wait()
        self.noticed_after = time.monotonic() - self.enough_at
        self.bodies_at_disconnect = len(self.bodies())
        if self.on_leave is not None:
            self.on_leave()
        return {"type": "http.disconnect"}

    async def send(self, message):
        self.messages.append(message)
        if self.leave_after is not None and len(self.bodies()) >= self.leave_after:
            if not self.enough.is_set():
                self.enough_at = time.monotonic()
            self.enough.set()

    def bodies(self):
        return [
            (m["body"], m.get("more_body", False))
            for m in self.messages
            if m["type"] == "http.response.body"
        ]

    def start(self):
        [start] = [m for m in self.messages if m["type"] == "http.response.start"]
        return start

    def content(self):
        return b"".join(body for body, _ in self.bodies())


def app_returning(make_response, path="/"):
    app = Faster()

    @app.get(path)
    async def endpoint():
        return make_response()

    return app


# -- seed examples ------------------------------------------------------------------------

ROWS = 2500


async def large_csv():
    yield b"id,name\n"
    for i in range(ROWS):
        yield f"{i},user{i}\n".encode()
        if i % 1000 == 0:
            await asyncio.sleep(0)


def test_streaming_response_seed_async_csv():
    app = Faster()

    @app.get("/export")
    async def export():
        return StreamingResponse(large_csv(), media_type="text/csv")

    response = TestClient(app).get("/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "content-length" not in response.headers
    expected = b"id,name\n" + b"".join(f"{i},user{i}\n".encode() for i in range(ROWS))
    assert response.content == expected


def test_streaming_response_seed_sync_generator_runs_in_worker_thread():
    threads = {}

    def read_blocks():
        threads["generator"] = threading.get_ident()
        for i in range(3):
            time.sleep(0.001)  # blocking I/O stands here
            yield bytes([i]) * 4

    app = Faster()

    @app.get("/blob")
    async def blob():
        threads["loop"] = threading.get_ident()
        return StreamingResponse(read_blocks(), media_type="application/octet-stream")

    response = TestClient(app).get("/blob")
    assert response.headers["content-type"] == "application/octet-stream"
    assert "content-length" not in response.headers
    assert response.content == b"\x00" * 4 + b"\x01" * 4 + b"\x02" * 4
    assert threads["generator"] != threads["loop"]


# -- chunks and headers -------------------------------------------------------------------


def test_streaming_response_str_and_bytes_chunks():
    async def mixed():
        yield "héllo "
        yield b"bytes "
        yield bytearray(b"array ")
        yield "€"

    response = TestClient(app_returning(lambda: StreamingResponse(mixed()))).get("/")
    assert response.content == "héllo bytes array €".encode()


def test_streaming_response_sync_iterable_status_and_headers():
    app = app_returning(
        lambda: StreamingResponse(
            ["a", b"b"], status_code=201, headers={"X-Trace": "1"}, media_type="text/plain"
        )
    )
    response = TestClient(app).get("/")
    assert response.status_code == 201
    assert response.headers["x-trace"] == "1"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == b"ab"


@pytest.mark.parametrize("content", ["text", b"bytes", 42, None])
def test_streaming_response_rejects_non_iterator_content(content):
    with pytest.raises(TypeError):
        StreamingResponse(content)


@pytest.mark.anyio
async def test_streaming_response_chunk_boundaries_on_the_wire():
    async def chunks():
        yield b"first"
        yield "second"
        yield b""
        yield b"third"

    app = app_returning(lambda: StreamingResponse(chunks(), media_type="text/plain"))
    peer = Peer()
    with anyio.fail_after(1):
        await app(http_scope(), peer.receive, peer.send)

    start = peer.start()
    assert start["status"] == 200
    assert (b"content-type", b"text/plain; charset=utf-8") in start["headers"]
    assert not any(name == b"content-length" for name, _ in start["headers"])
    assert [m["type"] for m in peer.messages] == ["http.response.start"] + [
        "http.response.body"
    ] * 5
    assert peer.bodies() == [
        (b"first", True),
        (b"second", True),
        (b"", True),
        (b"third", True),
        (b"", False),
    ]


@pytest.mark.anyio
async def test_streaming_response_empty_iterator_sends_one_final_message():
    async def nothing():
        return
        yield b""

    app = app_returning(lambda: StreamingResponse(nothing()))
    peer = Peer()
    await app(http_scope(), peer.receive, peer.send)
    assert peer.bodies() == [(b"", False)]


# -- HEAD and bodiless statuses -----------------------------------------------------------


@pytest.mark.anyio
async def test_streaming_response_head_sends_headers_only_and_closes_generator():
    produced = []

    async def rows():
        for row in ("a", "b"):
            produced.append(row)
            yield row

    generator = rows()
    app = app_returning(lambda: StreamingResponse(generator, media_type="text/csv"))
    peer = Peer()
    await app(http_scope("HEAD"), peer.receive, peer.send)

    assert (b"content-type", b"text/csv; charset=utf-8") in peer.start()["headers"]
    assert peer.bodies() == [(b"", False)]
    assert produced == []
    with pytest.raises(StopAsyncIteration):  # closed: it can never produce again
        await generator.__anext__()


def test_streaming_response_head_through_client_closes_sync_generator():
    produced = []

    def rows():
        produced.append("a")
        yield b"a"

    generator = rows()
    app = app_returning(lambda: StreamingResponse(generator))
    response = TestClient(app).head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert produced == []
    with pytest.raises(StopIteration):
        next(generator)


@pytest.mark.parametrize("status", [204, 304])
def test_streaming_response_bodiless_status_sends_no_body(status):
    produced = []

    async def rows():
        produced.append(1)
        yield b"never"

    app = app_returning(lambda: StreamingResponse(rows(), status_code=status))
    response = TestClient(app).get("/")
    assert response.status_code == status
    assert response.content == b""
    assert "content-type" not in response.headers
    assert produced == []


# -- disconnects --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_streaming_response_disconnect_stops_async_generator():
    state = {"count": 0, "finally": False, "at_disconnect": None, "background": False}

    async def forever():
        try:
            while True:
                await anyio.sleep(0.001)
                state["count"] += 1
                yield f"{state['count']}\n"
        finally:
            state["finally"] = True

    async def background():
        state["background"] = True

    def snapshot():
        state["at_disconnect"] = state["count"]

    app = app_returning(lambda: StreamingResponse(forever(), background=BackgroundTask(background)))
    peer = Peer(leave_after=5, on_leave=snapshot)
    with anyio.fail_after(1):
        await app(http_scope(), peer.receive, peer.send)

    assert state["finally"] is True
    # The client leaves after 5 chunks; a stream starts watching for that once it has run
    # WATCH_DELAY, and stops at once when it sees it.
    assert peer.noticed_after <= WATCH_DELAY + 0.1
    assert state["at_disconnect"] >= 5
    assert state["count"] == state["at_disconnect"]  # nothing produced after it was seen
    assert len(peer.bodies()) == peer.bodies_at_disconnect  # nor sent
    assert all(more for _, more in peer.bodies())  # no final message to a gone client
    assert state["background"] is False


@pytest.mark.anyio
async def test_streams_started_at_different_times_each_notice_their_client_leaving():
    # Streams of one loop begin 20 ms apart; the short ones end before anything watches
    # them, and every long one still sees its own client leave within WATCH_DELAY.
    async def forever():
        while True:
            await anyio.sleep(0.001)
            yield b"x"

    async def short():
        yield b"a"
        yield b"b"

    long_app = app_returning(lambda: StreamingResponse(forever()))
    short_app = app_returning(lambda: StreamingResponse(short()))
    leaving = [Peer(leave_after=5 + 10 * n) for n in range(3)]
    staying = [Peer() for _ in range(3)]
    with anyio.fail_after(2):
        async with anyio.create_task_group() as group:
            for peer, other in zip(leaving, staying):
                group.start_soon(short_app, http_scope(), other.receive, other.send)
                group.start_soon(long_app, http_scope(), peer.receive, peer.send)
                await anyio.sleep(0.02)

    for peer in leaving:
        assert peer.noticed_after <= WATCH_DELAY + 0.1
        assert len(peer.bodies()) == peer.bodies_at_disconnect
    for other in staying:
        assert other.content() == b"ab"


@pytest.mark.anyio
async def test_streaming_response_disconnect_stops_sync_generator():
    state = {"count": 0, "finally": False, "at_disconnect": None}

    def forever():
        try:
            while True:
                time.sleep(0.001)
                state["count"] += 1
                yield b"x"
        finally:
            state["finally"] = True

    def snapshot():
        state["at_disconnect"] = state["count"]

    app = app_returning(lambda: StreamingResponse(forever()))
    peer = Peer(leave_after=5, on_leave=snapshot)
    with anyio.fail_after(1):
        await app(http_scope(), peer.receive, peer.send)

    assert state["finally"] is True
    # At most the one next() already running in the worker thread completes.
    assert state["at_disconnect"] <= state["count"] <= state["at_disconnect"] + 1
    assert len(peer.bodies()) == peer.bodies_at_disconnect == 5
    await anyio.sleep(0.02)
    assert state["count"] <= state["at_disconnect"] + 1


@pytest.mark.anyio
async def test_streaming_response_send_oserror_counts_as_disconnect():
    state = {"count": 0, "finally": False}

    async def forever():
        try:
            while True:
                state["count"] += 1
                yield b"x"
                await anyio.sleep(0)
        finally:
            state["finally"] = True

    sent = []

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        if message["type"] == "http.response.body" and len(sent) == 3:
            raise OSError("connection closed")
        sent.append(message)

    response = StreamingResponse(forever())
    with anyio.fail_after(1):
        await response(http_scope(), receive, send)
    assert state["finally"] is True
    assert state["count"] == 3
    assert len(sent) == 3  # the start and two chunks


@pytest.mark.anyio
async def test_streaming_response_cancelled_from_outside_closes_generator():
    state = {"finally": False}

    async def forever():
        try:
            while True:
                yield b"x"
                await anyio.sleep(0.001)
        finally:
            state["finally"] = True

    peer = Peer()
    with anyio.fail_after(1):
        async with anyio.create_task_group() as group:
            group.start_soon(StreamingResponse(forever()), http_scope(), peer.receive, peer.send)
            while len(peer.bodies()) < 3:
                await anyio.sleep(0.001)
            group.cancel_scope.cancel()
    assert state["finally"] is True


# -- errors and background ----------------------------------------------------------------


async def half_then_fail():
    yield b"partial"
    raise ValueError("generator failed")


@pytest.mark.anyio
async def test_streaming_response_error_mid_stream_propagates_unwrapped():
    peer = Peer()
    with pytest.raises(ValueError, match="generator failed"):
        await StreamingResponse(half_then_fail())(http_scope(), peer.receive, peer.send)
    assert peer.bodies() == [(b"partial", True)]


@pytest.mark.anyio
async def test_streaming_response_receive_error_propagates_unwrapped():
    async def forever():
        while True:
            yield b"x"
            await anyio.sleep(0.001)

    calls = 0

    async def receive():
        nonlocal calls
        calls += 1
        if calls == 1:
            await anyio.sleep(0.005)
            raise LookupError("server broke")
        await anyio.sleep_forever()

    async def send(message):
        pass

    with anyio.fail_after(1), pytest.raises(LookupError):
        await StreamingResponse(forever())(http_scope(), receive, send)


@pytest.mark.anyio
async def test_streaming_response_error_mid_stream_propagates_out_of_app():
    app = app_returning(lambda: StreamingResponse(half_then_fail()))
    peer = Peer()
    with pytest.raises(ValueError, match="generator failed"):
        await app(http_scope(), peer.receive, peer.send)
    assert [m["type"] for m in peer.messages].count("http.response.start") == 1
    assert peer.bodies() == [(b"partial", True)]


def test_streaming_response_error_mid_stream_raises_in_test_client():
    app = app_returning(lambda: StreamingResponse(half_then_fail()))
    with pytest.raises(ValueError, match="generator failed"):
        TestClient(app, raise_server_exceptions=True).get("/")


def test_streaming_response_error_mid_stream_raises_through_middleware():
    class Passthrough:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            await self.app(scope, receive, send)

    app = Faster(middleware=[Middleware(Passthrough)])

    @app.get("/")
    async def endpoint():
        return StreamingResponse(half_then_fail())

    with pytest.raises(ValueError, match="generator failed"):
        TestClient(app, raise_server_exceptions=True).get("/")


def test_streaming_response_error_mid_stream_keeps_partial_body_without_raising():
    app = app_returning(lambda: StreamingResponse(half_then_fail()))
    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 200
    assert response.content == b"partial"


@pytest.mark.anyio
async def test_streaming_response_background_runs_after_completed_stream():
    order = []

    async def chunks():
        yield b"a"
        yield b"b"

    async def send(message):
        if message["type"] == "http.response.body":
            order.append(("body", message["body"], message.get("more_body", False)))

    async def receive():
        await anyio.sleep_forever()

    response = StreamingResponse(
        chunks(), background=BackgroundTask(lambda: order.append("background"))
    )
    with anyio.fail_after(1):
        await response(http_scope(), receive, send)
    assert order == [("body", b"a", True), ("body", b"b", True), ("body", b"", False), "background"]


def test_streaming_response_background_tasks_parameter_runs_after_stream():
    log = []
    app = Faster()

    @app.get("/")
    async def endpoint(tasks: BackgroundTasks):
        async def chunks():
            log.append("streamed")
            yield b"done"

        tasks.add_task(log.append, "background")
        return StreamingResponse(chunks())

    response = TestClient(app).get("/")
    assert response.content == b"done"
    assert log == ["streamed", "background"]
