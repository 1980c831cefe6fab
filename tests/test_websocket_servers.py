"""Websockets through real servers with a real client library (the websockets package)."""

import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from servers import SERVERS, serve


@pytest.fixture(scope="module", params=SERVERS)
def base(request):
    with serve(request.param, "serverapps.realtime:app") as address:
        yield address


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
