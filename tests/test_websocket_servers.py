"""Websockets through real servers with a real client library (the websockets package)."""

import json
import socket
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from servers import SERVERS, serve


class Address(str):
    """A server's ``host:port``, knowing which server it is."""

    server: str


@pytest.fixture(scope="module", params=SERVERS)
def base(request):
    with serve(request.param, "serverapps.realtime:app") as address:
        base = Address(address)
        base.server = request.param
        yield base


def test_websocket_server_echo_json_path_param_and_auth(base):
    with connect(f"ws://{base}/ws/42?token=secret-token", open_timeout=5) as ws:
        ws.send(json.dumps({"hello": "world"}))
        assert json.loads(ws.recv(timeout=5)) == {
            "room": 42,
            "user": "alice",
            "echo": {"hello": "world"},
        }
        ws.send(json.dumps([1, 2]))
        assert json.loads(ws.recv(timeout=5))["echo"] == [1, 2]


def test_websocket_server_rejects_bad_token_before_accept(base):
    with pytest.raises(InvalidStatus) as info:
        with connect(f"ws://{base}/ws/1?token=wrong", open_timeout=5):
            pass
    assert info.value.response.status_code == 403


def test_websocket_server_unknown_path_is_refused(base):
    with pytest.raises(InvalidStatus):
        with connect(f"ws://{base}/nothing", open_timeout=5):
            pass


@pytest.mark.parametrize("mode", ["receive", "send"])
def test_websocket_server_client_dropping_the_connection_is_a_disconnect(base, mode, request):
    # The client goes away without a close frame (a killed tab, a lost network): the
    # handler sees WebSocketDisconnect, whether it was receiving or sending.
    key = f"{mode}-{time.monotonic_ns()}"
    with connect(f"ws://{base}/watch/{key}/{mode}", open_timeout=5) as ws:
        if mode == "send":
            assert ws.recv(timeout=5) == "tick"
        ws.socket.shutdown(socket.SHUT_RDWR)
        ws.socket.close()
    deadline = time.monotonic() + 10
    with httpx.Client(base_url=f"http://{base}", timeout=5) as client:
        while (outcome := client.get(f"/outcome/{key}").json()) is None:
            assert time.monotonic() < deadline, "the handler never learnt the client left"
            time.sleep(0.05)
    if mode == "send" and request.node.callspec.params["base"] == "granian-asgi":
        # Granian's ASGI drops sends on a closed connection without a word: only a
        # handler that also receives learns that the client left.
        assert outcome == "still sending"
    else:
        assert outcome.startswith("disconnect "), outcome


def logged(base):
    """What the server process has logged at WARNING or above (app and server loggers)."""
    return httpx.get(f"http://{base}/logged", timeout=5).json()


def close_frame_seen(ws, base):
    """The close frame the server sent; None on Granian's RSGI (its frames carry no code)."""
    with pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=5)
    frame = info.value.rcvd
    if base.server == "granian-rsgi":
        # Granian's RSGI sends close frames without a code (README): it closes, that is all.
        assert frame is None or frame.code == 1005
        return None
    assert frame is not None, "the connection was dropped without a close frame"
    return frame


def assert_still_serving(base):
    with connect(f"ws://{base}/text-only", open_timeout=5) as ws:
        ws.send("still serving")
        assert ws.recv(timeout=5) == "still serving"


def test_websocket_server_handler_error_closes_with_1011_and_is_logged(base):
    seen = len(logged(base))
    with connect(f"ws://{base}/bug", open_timeout=5) as ws:
        ws.send("go")
        frame = close_frame_seen(ws, base)
    if frame is not None:
        assert frame.code == 1011
    assert_still_serving(base)
    assert "FasterAPI ERROR: Unhandled exception in websocket /bug" in logged(base)[seen:]


@pytest.mark.parametrize(
    ("path", "message", "code"),
    [
        ("/text-only", b"\x00binary", 1003),
        ("/bytes-only", "text", 1003),
        ("/ws/1?token=secret-token", "{bad", 1007),
        ("/json-binary", b'{"a": "\xff"}', 1007),
        ("/json-binary", b"{bad", 1007),
    ],
    ids=["binary-to-text", "text-to-bytes", "bad-json", "bad-utf8-json", "bad-binary-json"],
)
def test_websocket_server_bad_client_message_closes_with_its_code(base, path, message, code):
    # The client's fault, not the server's: 1003/1007, not 1011, and nothing to log.
    seen = len(logged(base))
    with connect(f"ws://{base}{path}", open_timeout=5) as ws:
        ws.send(message)
        frame = close_frame_seen(ws, base)
    if frame is not None:
        assert frame.code == code
    assert_still_serving(base)
    assert logged(base)[seen:] == []


@pytest.mark.parametrize(("how", "code"), [("exception", 1008), ("close", 4000)])
def test_websocket_server_long_close_reason_is_cut_to_fit_the_frame(base, how, code):
    with connect(f"ws://{base}/long-reason/{how}", open_timeout=5) as ws:
        frame = close_frame_seen(ws, base)
    if frame is not None:
        assert frame.code == code
        expected = "bad token " + "x" * 113 if how == "exception" else "é" * 61
        assert frame.reason == expected
        assert len(frame.reason.encode()) <= 123
    assert_still_serving(base)


@pytest.mark.parametrize("code", [999, 1005, 5000])
def test_websocket_server_invalid_close_code_is_an_error_closed_with_1011(base, code):
    # close(999) is a programming error (ValueError): the route's 1011 still reaches the
    # client instead of a frame the server refuses to send.
    with connect(f"ws://{base}/close-with/{code}", open_timeout=5) as ws:
        frame = close_frame_seen(ws, base)
    if frame is not None:
        assert frame.code == 1011
    assert_still_serving(base)


def test_websocket_server_client_closing_an_uncaught_receive_is_not_logged(base):
    # /text-only does not catch WebSocketDisconnect: a client leaving is no server error.
    seen = len(logged(base))
    with connect(f"ws://{base}/text-only", open_timeout=5):
        pass  # a normal close, before sending anything
    assert_still_serving(base)
    time.sleep(0.2)  # let the handler of the first connection finish
    assert logged(base)[seen:] == []
