"""WebSocket routes: injection, messages, state checks, errors."""

import logging

import pytest

from FasterAPI import (
    Depends,
    Faster,
    FasterRouter,
    Query,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    WebSocketInvalidMessage,
)
from FasterAPI.testclient import TestClient


def test_websocket_echo_with_path_query_and_dependency():
    app = Faster()

    def prefix(tag: str = Query(">")):
        return tag

    @app.websocket("/ws/{room_id}")
    async def room(websocket: WebSocket, room_id: int, tag: str = Depends(prefix)):
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(f"{tag}{room_id}:{text}")

    client = TestClient(app)
    with client.websocket_connect("/ws/7?tag=%23") as session:
        session.send_text("hi")
        assert session.receive_text() == "#7:hi"
        session.send_text("again")
        assert session.receive_text() == "#7:again"


def test_websocket_json_and_bytes_modes():
    app = Faster()

    @app.websocket("/json")
    async def json_ws(websocket: WebSocket):
        await websocket.accept(subprotocol="chat")
        data = await websocket.receive_json()
        await websocket.send_json({"echo": data})
        raw = await websocket.receive_bytes()
        await websocket.send_bytes(raw[::-1])
        await websocket.send_json([1], mode="binary")
        await websocket.close(code=1001)

    with TestClient(app).websocket_connect("/json", subprotocols=["chat"]) as session:
        assert session.accepted_subprotocol == "chat"
        session.send_json({"a": 1})
        assert session.receive_json() == {"echo": {"a": 1}}
        session.send_bytes(b"abc")
        assert session.receive_bytes() == b"cba"
        assert session.receive_json(mode="binary") == [1]
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
        assert info.value.code == 1001


def test_websocket_unknown_path_closes_before_accept():
    app = Faster()
    with pytest.raises(WebSocketDisconnect):
        with TestClient(app).websocket_connect("/nothing"):
            pass


def test_websocket_invalid_parameter_closes_with_1008():
    app = Faster()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, n: int):
        await websocket.accept()

    with pytest.raises(WebSocketDisconnect) as info:
        with TestClient(app).websocket_connect("/ws?n=abc"):
            pass
    assert info.value.code == 1008


def test_websocket_exception_closes_with_its_code():
    app = Faster()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        raise WebSocketException(4001, "not allowed")

    with TestClient(app).websocket_connect("/ws") as session:
        message = session.receive()
        assert message == {"type": "websocket.close", "code": 4001, "reason": "not allowed"}


def test_websocket_handler_error_closes_with_1011_and_is_raised():
    app = Faster()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        raise ValueError("bug")

    with pytest.raises(ValueError):
        with TestClient(app).websocket_connect("/ws") as session:
            assert session.receive()["code"] == 1011
            session.receive()


def test_websocket_send_before_accept_and_double_accept_are_errors():
    app = Faster()
    errors = []

    @app.websocket("/early")
    async def early(websocket: WebSocket):
        try:
            await websocket.send_text("too soon")
        except RuntimeError as exc:
            errors.append(str(exc))
        await websocket.accept()
        try:
            await websocket.accept()
        except RuntimeError as exc:
            errors.append(str(exc))
        await websocket.close()

    with TestClient(app).websocket_connect("/early") as session:
        assert session.receive()["type"] == "websocket.close"
    assert len(errors) == 2


def test_websocket_client_disconnect_raises_in_handler():
    app = Faster()
    seen = []

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            seen.append(exc.code)

    with TestClient(app).websocket_connect("/ws") as session:
        session.close(1000)
    assert seen == [1000]


def test_websocket_on_router_with_prefix():
    router = FasterRouter(prefix="/chat")

    @router.websocket("/live")
    async def live(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text(websocket.url.path)
        await websocket.close()

    app = Faster()
    app.include_router(router)
    with TestClient(app).websocket_connect("/chat/live") as session:
        assert session.receive_text() == "/chat/live"


def test_websocket_connection_details_and_accept_headers():
    from FasterAPI import Cookie, Header, WebSocketState

    app = Faster()

    @app.websocket("/info/{name}")
    async def info(
        websocket: WebSocket,
        name: str,
        x_client: str = Header(),
        session: str = Cookie(),
    ):
        assert websocket.client_state is WebSocketState.CONNECTING
        await websocket.accept(headers=[(b"x-accepted", b"yes")])
        assert websocket.application_state is WebSocketState.CONNECTED
        websocket.state.seen = True
        await websocket.send_json(
            {
                "name": name,
                "path_params": websocket.path_params,
                "header": x_client,
                "cookie": session,
                "cookies": websocket.cookies,
                "query": websocket.query_params.getlist("tag"),
                "url": str(websocket.url),
                "client": list(websocket.client),
                "state": websocket.state.seen,
            }
        )
        await websocket.close(code=1000, reason="done")
        assert websocket.application_state is WebSocketState.DISCONNECTED

    client = TestClient(app)
    with client.websocket_connect(
        "/info/ann?tag=a&tag=b", headers={"x-client": "tests", "cookie": "session=s1"}
    ) as session:
        assert session.extra_headers == [(b"x-accepted", b"yes")]
        assert session.receive_json() == {
            "name": "ann",
            "path_params": {"name": "ann"},
            "header": "tests",
            "cookie": "s1",
            "cookies": {"session": "s1"},
            "query": ["a", "b"],
            "url": "ws://testserver/info/ann?tag=a&tag=b",
            "client": ["testclient", 50000],
            "state": True,
        }
        message = session.receive()
        assert message == {"type": "websocket.close", "code": 1000, "reason": "done"}


def test_websocket_receive_json_binary_mode_and_iter_bytes():
    app = Faster()

    @app.websocket("/bin")
    async def binary(websocket: WebSocket):
        await websocket.accept()
        data = await websocket.receive_json(mode="binary")
        await websocket.send_json(data, mode="binary")
        async for chunk in websocket.iter_bytes():
            await websocket.send_bytes(chunk.upper())

    with TestClient(app).websocket_connect("/bin") as session:
        session.send_json({"k": 1}, mode="binary")
        assert session.receive_json(mode="binary") == {"k": 1}
        session.send_bytes(b"abc")
        assert session.receive_bytes() == b"ABC"


# -- close codes and reasons -------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_websocket_exception_with_a_code_an_endpoint_may_not_send_is_a_value_error(code):
    with pytest.raises(ValueError, match=str(code)):
        WebSocketException(code)


@pytest.mark.parametrize("code", [1000, 1003, 1007, 1011, 1014, 3000, 4999])
def test_websocket_exception_keeps_a_code_an_endpoint_may_send(code):
    assert WebSocketException(code).code == code


@pytest.mark.parametrize("code", ["1008", 1008.0, True, None])
def test_websocket_exception_with_a_code_not_an_int_is_a_type_error(code):
    with pytest.raises(TypeError):
        WebSocketException(code)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("x" * 200, "x" * 123),
        ("é" * 100, "é" * 61),  # 2 bytes each: the 62nd would be cut in two
        ("€" * 50, "€" * 41),  # 3 bytes each: exactly 123
        ("😀" * 40, "😀" * 30),  # 4 bytes each
        ("a" + "😀" * 40, "a" + "😀" * 30),
        ("short", "short"),
        ("ünïcödé", "ünïcödé"),
        ("lone \udc80 surrogate", "lone ? surrogate"),
        (None, ""),
    ],
)
def test_websocket_exception_reason_is_cut_to_123_bytes_on_a_character(reason, expected):
    fitted = WebSocketException(1008, reason).reason
    assert fitted == expected
    assert len(fitted.encode()) <= 123


def test_websocket_close_with_an_invalid_code_raises_and_leaves_the_socket_open():
    app = Faster()
    errors = []

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        for code in (999, 1005, 5000):
            try:
                await websocket.close(code)
            except ValueError as exc:
                errors.append(str(exc))
        try:
            await websocket.send({"type": "websocket.close", "code": 1006})
        except ValueError as exc:
            errors.append(str(exc))
        await websocket.close(4000, "é" * 100)

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive() == {"type": "websocket.close", "code": 4000, "reason": "é" * 61}
    assert len(errors) == 4
    assert all("close code" in error for error in errors)


def test_websocket_exception_long_reason_reaches_the_client_cut_to_fit():
    app = Faster()

    def check_token(token: str = Query("")):
        raise WebSocketException(1008, f"bad token {token}")

    @app.websocket("/ws", dependencies=[Depends(check_token)])
    async def ws(websocket: WebSocket):
        await websocket.accept()

    with pytest.raises(WebSocketDisconnect) as info:
        with TestClient(app).websocket_connect("/ws?token=" + "t" * 200):
            pass
    assert info.value.code == 1008
    assert info.value.reason == "bad token " + "t" * 113


# -- a client's bad messages ---------------------------------------------------------------


def bad_input_app():
    app = Faster()

    @app.websocket("/text")
    async def text(websocket: WebSocket):
        await websocket.accept()
        while True:
            await websocket.send_text(await websocket.receive_text())

    @app.websocket("/bytes")
    async def data(websocket: WebSocket):
        await websocket.accept()
        while True:
            await websocket.send_bytes(await websocket.receive_bytes())

    @app.websocket("/json/{mode}")
    async def json(websocket: WebSocket, mode: str):
        await websocket.accept()
        while True:
            await websocket.send_json(await websocket.receive_json(mode=mode))

    @app.websocket("/iter-text")
    async def iter_text(websocket: WebSocket):
        await websocket.accept()
        async for message in websocket.iter_text():
            await websocket.send_text(message)

    @app.websocket("/iter-bytes")
    async def iter_bytes(websocket: WebSocket):
        await websocket.accept()
        async for message in websocket.iter_bytes():
            await websocket.send_bytes(message)

    @app.websocket("/iter-json")
    async def iter_json(websocket: WebSocket):
        await websocket.accept()
        async for message in websocket.iter_json():
            await websocket.send_json(message)

    return app


BAD_MESSAGES = [
    ("/text", "send_text", "ok", "send_bytes", b"\x00binary", 1003),
    ("/bytes", "send_bytes", b"ok", "send_text", "text", 1003),
    ("/json/text", "send_text", "[1]", "send_text", "{bad", 1007),
    ("/json/text", "send_text", "[1]", "send_bytes", b'["\xff"]', 1007),
    ("/json/text", "send_text", "[1]", "send_text", "", 1007),
    ("/json/binary", "send_bytes", b"[1]", "send_bytes", b'{"a": "\xc0\x80"}', 1007),
    ("/json/binary", "send_bytes", b"[1]", "send_bytes", b"{bad", 1007),
    ("/iter-text", "send_text", "ok", "send_bytes", b"\x00binary", 1003),
    ("/iter-bytes", "send_bytes", b"ok", "send_text", "text", 1003),
    ("/iter-json", "send_text", "[1]", "send_text", "{bad", 1007),
]


@pytest.mark.parametrize(("path", "good_send", "good", "bad_send", "bad", "code"), BAD_MESSAGES)
def test_websocket_bad_client_message_closes_with_its_code_and_logs_no_error(
    caplog, path, good_send, good, bad_send, bad, code
):
    caplog.set_level("DEBUG")
    with TestClient(bad_input_app()).websocket_connect(path) as session:
        getattr(session, good_send)(good)
        assert session.receive()["type"] == "websocket.send"
        getattr(session, bad_send)(bad)
        message = session.receive()
        assert message["type"] == "websocket.close"
        assert message["code"] == code
        assert message["reason"]
    assert [r for r in caplog.records if r.levelno > logging.INFO] == []


def test_websocket_bad_client_message_can_be_caught_and_the_connection_kept():
    app = Faster()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        while True:
            try:
                data = await websocket.receive_json()
            except WebSocketInvalidMessage as exc:
                cause = type(exc.__cause__).__name__ if exc.__cause__ else None
                await websocket.send_json({"error": exc.code, "cause": cause})
                continue
            except WebSocketDisconnect:
                return
            try:
                await websocket.send_json({"n": int(data["n"])})
            except ValueError:  # a bad value inside good JSON: the handler's own check
                await websocket.send_json({"error": "n"})

    with TestClient(app).websocket_connect("/ws") as session:
        session.send_text("{bad")
        assert session.receive_json() == {"error": 1007, "cause": "DecodeError"}
        session.send_bytes(b'"\xff"')
        assert session.receive_json() == {"error": 1007, "cause": "UnicodeDecodeError"}
        session.send_json({"n": "x"})
        assert session.receive_json() == {"error": "n"}
        session.send_json({"n": "5"})
        assert session.receive_json() == {"n": 5}


def test_websocket_invalid_message_is_a_websocket_exception_and_a_value_error():
    import FasterAPI

    assert FasterAPI.WebSocketInvalidMessage is WebSocketInvalidMessage
    assert issubclass(WebSocketInvalidMessage, WebSocketException)
    assert issubclass(WebSocketInvalidMessage, ValueError)
    app = Faster()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        try:
            await websocket.receive_text()
        except ValueError as exc:  # caught as a bad value, as a JSON error would be
            await websocket.send_json([type(exc).__name__, exc.code, exc.reason])

    with TestClient(app).websocket_connect("/ws") as session:
        session.send_bytes(b"binary")
        assert session.receive_json() == [
            "WebSocketInvalidMessage",
            1003,
            "Expected a text message",
        ]


def test_websocket_client_leaving_an_uncaught_receive_loop_is_not_an_error(caplog):
    app = Faster()
    ended = []

    async def resource():
        try:
            yield "db"
        except WebSocketDisconnect as exc:
            ended.append(exc.code)
            raise

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, db: str = Depends(resource)):
        await websocket.accept()
        while True:  # no try/except: the disconnect leaves the handler
            await websocket.send_text(await websocket.receive_text())

    with TestClient(app).websocket_connect("/ws") as session:
        session.send_text("hi")
        assert session.receive_text() == "hi"
    assert ended == [1000]
    assert [r for r in caplog.records if r.levelno > logging.INFO] == []
