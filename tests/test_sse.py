"""Server-Sent Events: the wire format, headers, JSON data, pings, Last-Event-ID, disconnects."""

import time

import anyio
import msgspec
import pytest

from FasterAPI import Faster, Request
from FasterAPI._stream import WATCH_DELAY
from FasterAPI.sse import EventSourceResponse, ServerSentEvent
from FasterAPI.testclient import TestClient


@pytest.fixture
def anyio_backend():
    return "asyncio"


def http_scope(method="GET", headers=()):
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/events",
        "raw_path": b"/events",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def events_app(make_response):
    app = Faster()

    @app.get("/events")
    async def events():
        return make_response()

    return app


def body_of(*items, **options):
    async def stream():
        for item in items:
            yield item

    response = TestClient(events_app(lambda: EventSourceResponse(stream(), **options))).get(
        "/events"
    )
    return response.content


class Point(msgspec.Struct):
    x: int
    y: int


# -- ServerSentEvent wire format ----------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "wire"),
    [
        (ServerSentEvent("hello"), b"data: hello\n\n"),
        (ServerSentEvent(data="hello"), b"data: hello\n\n"),
        (ServerSentEvent(""), b"data: \n\n"),
        (ServerSentEvent(" padded "), b"data:  padded \n\n"),
        (ServerSentEvent("héllo €"), "data: héllo €\n\n".encode()),
        (ServerSentEvent(b"raw bytes"), b"data: raw bytes\n\n"),
        (ServerSentEvent("x", event="update"), b"event: update\ndata: x\n\n"),
        (ServerSentEvent("x", id="42"), b"id: 42\ndata: x\n\n"),
        (ServerSentEvent(id=7), b"id: 7\n\n"),
        (ServerSentEvent(id=""), b"id: \n\n"),
        (ServerSentEvent(retry=3000), b"retry: 3000\n\n"),
        (ServerSentEvent(event="only-name"), b"event: only-name\n\n"),
        (ServerSentEvent(comment="keep-alive"), b": keep-alive\n\n"),
        (ServerSentEvent(comment="two\nlines"), b": two\n: lines\n\n"),
        (ServerSentEvent(comment=""), b":\n\n"),
        (
            ServerSentEvent("d", event="e", id="1", retry=10, comment="c"),
            b": c\nevent: e\nid: 1\nretry: 10\ndata: d\n\n",
        ),
        (ServerSentEvent(), b"\n"),
        (ServerSentEvent({"n": 1}, event="tick", id=1), b'event: tick\nid: 1\ndata: {"n":1}\n\n'),
        (ServerSentEvent([1, 2], event="tick", id="a"), b"event: tick\nid: a\ndata: [1,2]\n\n"),
        (ServerSentEvent({"n": 1}, id=2), b'id: 2\ndata: {"n":1}\n\n'),
        (ServerSentEvent({"n": 1}, event="tick"), b'event: tick\ndata: {"n":1}\n\n'),
        (ServerSentEvent(event="a\tb"), b"event: a\tb\n\n"),
        (ServerSentEvent(event="é"), "event: é\n\n".encode()),
    ],
)
def test_server_sent_event_encode_each_field(event, wire):
    assert event.encode() == wire
    assert body_of(event) == wire  # the same bytes when streamed


def test_event_source_response_uses_a_subclass_encoding():
    class Shouting(ServerSentEvent, frozen=True):
        def encode(self) -> bytes:
            return super().encode().upper()

    assert body_of(Shouting({"n": 1}, event="tick", id=1), "x") == (
        b'EVENT: TICK\nID: 1\nDATA: {"N":1}\n\ndata: x\n\n'
    )


@pytest.mark.parametrize(
    ("data", "wire"),
    [
        ("a\nb", b"data: a\ndata: b\n\n"),
        ("a\r\nb", b"data: a\ndata: b\n\n"),
        ("a\rb", b"data: a\ndata: b\n\n"),
        ("a\n\nb", b"data: a\ndata: \ndata: b\n\n"),
        ("a\r\n\rb\n", b"data: a\ndata: \ndata: b\ndata: \n\n"),
        ("\n", b"data: \ndata: \n\n"),
        (b"x\r\ny\rz", b"data: x\ndata: y\ndata: z\n\n"),
        ("a\x0bb\x0cc\u2028d", "data: a\x0bb\x0cc\u2028d\n\n".encode()),  # not SSE breaks
    ],
)
def test_server_sent_event_multiline_data_split(data, wire):
    assert ServerSentEvent(data).encode() == wire


@pytest.mark.parametrize(
    ("data", "wire"),
    [
        ({"a": 1, "b": [1, 2]}, b'data: {"a":1,"b":[1,2]}\n\n'),
        (Point(1, 2), b'data: {"x":1,"y":2}\n\n'),
        ([1, "two", None], b'data: [1,"two",null]\n\n'),
        (5, b"data: 5\n\n"),
        ({"text": "line\nbreak"}, b'data: {"text":"line\\nbreak"}\n\n'),
    ],
)
def test_server_sent_event_json_data(data, wire):
    assert ServerSentEvent(data).encode() == wire


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\r\nb", "a\0b", "\n"])
@pytest.mark.parametrize("field", ["event", "id"])
def test_server_sent_event_line_break_in_event_or_id_raises(field, bad):
    with pytest.raises(ValueError):
        ServerSentEvent("x", **{field: bad})


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"retry": -1}, ValueError),
        ({"retry": "1000"}, TypeError),
        ({"retry": 1.5}, TypeError),
        ({"retry": True}, TypeError),
        ({"id": 1.5}, TypeError),
        ({"event": 3}, TypeError),
        ({"comment": b"c"}, TypeError),
    ],
)
def test_server_sent_event_bad_field_type_raises(options, error):
    with pytest.raises(error):
        ServerSentEvent(**options)


def test_server_sent_event_is_immutable():
    event = ServerSentEvent("x")
    with pytest.raises(AttributeError):
        event.event = "a\nb"


# -- EventSourceResponse ------------------------------------------------------------------


def test_event_source_response_headers():
    response = TestClient(events_app(lambda: EventSourceResponse(iter(["x"])))).get("/events")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    for hop in ("connection", "keep-alive", "transfer-encoding", "content-length"):
        assert hop not in response.headers


def test_event_source_response_user_headers_win_and_are_kept():
    def make():
        return EventSourceResponse(
            iter(["x"]), status_code=201, headers={"Cache-Control": "no-store", "X-Id": "7"}
        )

    response = TestClient(events_app(make)).get("/events")
    assert response.status_code == 201
    assert response.headers.get_list("cache-control") == ["no-store"]
    assert response.headers["x-id"] == "7"
    assert response.headers["x-accel-buffering"] == "no"


def test_event_source_response_wire_format_of_mixed_items():
    body = body_of(
        ServerSentEvent({"n": 1}, event="tick", id="1"),
        "plain",
        b"bytes",
        "two\nlines",
        {"a": [1, 2]},
        Point(3, 4),
        ServerSentEvent(comment="note"),
    )
    assert body == (
        b'event: tick\nid: 1\ndata: {"n":1}\n\n'
        b"data: plain\n\n"
        b"data: bytes\n\n"
        b"data: two\ndata: lines\n\n"
        b'data: {"a":[1,2]}\n\n'
        b'data: {"x":3,"y":4}\n\n'
        b": note\n\n"
    )


def test_event_source_response_sync_generator():
    def numbers():
        for n in range(3):
            time.sleep(0.001)
            yield ServerSentEvent(n, id=str(n))

    response = TestClient(events_app(lambda: EventSourceResponse(numbers()))).get("/events")
    assert response.content == b"id: 0\ndata: 0\n\nid: 1\ndata: 1\n\nid: 2\ndata: 2\n\n"


def test_event_source_response_last_event_id_header_reaches_handler():
    app = Faster()

    @app.get("/events")
    async def events(request: Request):
        start = int(request.headers.get("last-event-id", "-1")) + 1

        async def stream():
            for n in range(start, 5):
                yield ServerSentEvent(f"event {n}", id=str(n))

        return EventSourceResponse(stream())

    client = TestClient(app)
    assert client.get("/events").content.count(b"\n\n") == 5
    resumed = client.get("/events", headers={"Last-Event-ID": "2"}).content
    assert resumed == b"id: 3\ndata: event 3\n\nid: 4\ndata: event 4\n\n"


def test_event_source_response_head_sends_headers_only():
    produced = []

    async def stream():
        produced.append(1)
        yield "x"

    response = TestClient(events_app(lambda: EventSourceResponse(stream()))).head("/events")
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.content == b""
    assert produced == []


def test_event_source_response_negative_ping_interval_raises():
    with pytest.raises(ValueError):
        EventSourceResponse(iter([]), ping_interval=-1)


@pytest.mark.anyio
async def test_event_source_response_one_body_message_per_event():
    async def stream():
        yield ServerSentEvent("a\nb", event="e")
        yield {"k": "v"}

    messages = []

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        messages.append(message)

    with anyio.fail_after(1):
        await EventSourceResponse(stream())(http_scope(), receive, send)
    assert [(m.get("body"), m.get("more_body")) for m in messages[1:]] == [
        (b"event: e\ndata: a\ndata: b\n\n", True),
        (b'data: {"k":"v"}\n\n', True),
        (b"", False),
    ]


@pytest.mark.anyio
async def test_event_source_response_pings_between_slow_events():
    async def slow():
        yield "first"
        await anyio.sleep(0.3)
        yield "second"

    messages = []

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        messages.append(message)

    with anyio.fail_after(2):
        await EventSourceResponse(slow(), ping_interval=0.05)(http_scope(), receive, send)

    bodies = [m["body"] for m in messages if m["type"] == "http.response.body"]
    assert bodies[0] == b"data: first\n\n"
    assert bodies[-2:] == [b"data: second\n\n", b""]
    pings = bodies[1:-2]
    assert 2 <= len(pings) <= 7
    assert set(pings) == {b": ping\n\n"}
    assert all(m.get("more_body") for m in messages[1:-1])


def test_event_source_response_pings_seen_by_client():
    async def slow():
        yield "a"
        await anyio.sleep(0.2)
        yield "b"

    body = (
        TestClient(events_app(lambda: EventSourceResponse(slow(), ping_interval=0.05)))
        .get("/events")
        .content
    )
    assert body.startswith(b"data: a\n\n: ping\n\n")
    assert body.endswith(b": ping\n\ndata: b\n\n")
    assert set(body.split(b"\n\n")[1:-2]) == {b": ping"}


@pytest.mark.anyio
@pytest.mark.parametrize("interval", [None, 0])
async def test_event_source_response_no_pings_without_interval(interval):
    async def slow():
        yield "a"
        await anyio.sleep(0.1)
        yield "b"

    bodies = []

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        if message["type"] == "http.response.body":
            bodies.append(message["body"])

    await EventSourceResponse(slow(), ping_interval=interval)(http_scope(), receive, send)
    assert bodies == [b"data: a\n\n", b"data: b\n\n", b""]


@pytest.mark.anyio
async def test_event_source_response_no_ping_when_events_are_frequent():
    async def steady():
        for n in range(10):
            yield n
            await anyio.sleep(0.01)

    bodies = []

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        if message["type"] == "http.response.body":
            bodies.append(message["body"])

    await EventSourceResponse(steady(), ping_interval=0.2)(http_scope(), receive, send)
    assert b": ping\n\n" not in bodies
    assert len(bodies) == 11


@pytest.mark.anyio
@pytest.mark.parametrize("interval", [None, 0.01])
async def test_event_source_response_disconnect_stops_generator(interval):
    state = {"count": 0, "finally": False, "at_disconnect": None}
    sent = []
    enough = anyio.Event()
    request_sent = False

    async def forever():
        try:
            while True:
                await anyio.sleep(0.002)
                state["count"] += 1
                yield ServerSentEvent(state["count"], id=str(state["count"]))
        finally:
            state["finally"] = True

    async def receive():
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await enough.wait()
        state["noticed_after"] = time.monotonic() - state["enough_at"]
        state["at_disconnect"] = state["count"]
        state["sent_at_disconnect"] = len(sent)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if sum(m["body"].startswith(b"id: ") for m in sent[1:]) >= 4 and not enough.is_set():
            state["enough_at"] = time.monotonic()
            enough.set()

    app = events_app(lambda: EventSourceResponse(forever(), ping_interval=interval))
    with anyio.fail_after(1):
        await app(http_scope(), receive, send)

    assert state["finally"] is True
    # Seen within WATCH_DELAY of the client leaving (after 4 events); then nothing more.
    assert state["noticed_after"] <= WATCH_DELAY + 0.1
    assert state["at_disconnect"] >= 4
    assert state["count"] == state["at_disconnect"]
    assert len(sent) == state["sent_at_disconnect"]  # no event or ping after it was seen
    assert all(m["more_body"] for m in sent[1:])
    await anyio.sleep(0.05)  # and the ping task is gone too
    assert len(sent) == state["sent_at_disconnect"]


@pytest.mark.anyio
async def test_event_source_response_disconnect_stops_sync_generator():
    state = {"count": 0, "finally": False}
    sent = []

    def forever():
        try:
            while True:
                time.sleep(0.002)
                state["count"] += 1
                yield state["count"]
        finally:
            state["finally"] = True

    async def receive():
        while len(sent) < 4:
            await anyio.sleep(0.001)
        state["at_disconnect"] = state["count"]
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    with anyio.fail_after(1):
        await EventSourceResponse(forever(), ping_interval=0.01)(http_scope(), receive, send)
    assert state["finally"] is True
    assert state["at_disconnect"] <= state["count"] <= state["at_disconnect"] + 1


@pytest.mark.anyio
async def test_event_source_response_unencodable_item_raises():
    async def stream():
        yield object()

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        pass

    with pytest.raises(TypeError):
        await EventSourceResponse(stream())(http_scope(), receive, send)


@pytest.mark.anyio
async def test_event_source_response_tiny_ping_interval_keeps_streaming():
    # Timers may fire a little early or late; the ping task must never crash on either.
    async def slow():
        time.sleep(0.01)  # blocks the loop, so the ping task starts after its first deadline
        for n in range(3):
            yield n
            await anyio.sleep(0.05)

    bodies = []

    async def receive():
        await anyio.sleep_forever()

    async def send(message):
        if message["type"] == "http.response.body":
            bodies.append(message["body"])

    with anyio.fail_after(2):
        await EventSourceResponse(slow(), ping_interval=0.0005)(http_scope(), receive, send)
    events = [body for body in bodies if body.startswith(b"data: ")]
    assert events == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n"]
    assert bodies.count(b": ping\n\n") >= 10
    assert bodies[-1] == b""
