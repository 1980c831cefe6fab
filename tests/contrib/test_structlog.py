"""configure_structlog and StructlogMiddleware: JSON lines carrying the request context."""

import io
import json
import logging

import pytest
import structlog

from FasterAPI import Faster, HTTPException, Request
from FasterAPI.contrib.structlog import StructlogMiddleware, configure_structlog
from FasterAPI.middleware.requestid import RequestIDMiddleware
from FasterAPI.testclient import TestClient


@pytest.fixture
def stream():
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    output = io.StringIO()
    yield output
    structlog.reset_defaults()
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]


def lines(stream):
    """The JSON lines logged, less the test client's own (httpx logs each request)."""
    parsed = [json.loads(line) for line in stream.getvalue().splitlines() if line]
    return [line for line in parsed if line.get("logger") != "httpx"]


def build_app(*, request_ids=False):
    app = Faster()
    app.add_middleware(StructlogMiddleware)
    if request_ids:
        app.add_middleware(RequestIDMiddleware)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, request: Request):
        structlog.get_logger("shop").info("item.read", item_id=item_id)
        return {"request_id": request.state.request_id}

    @app.get("/sync")
    def sync_handler():
        logging.getLogger("legacy").warning("from stdlib in a worker thread")
        return "ok"

    @app.get("/missing")
    async def missing():
        raise HTTPException(404, "nope")

    @app.get("/crash")
    async def crash():
        raise RuntimeError("boom")

    return app


def test_structlog_request_context_and_access_line(stream):
    configure_structlog(json_format=True, log_level="INFO", stream=stream)
    response = TestClient(build_app()).get("/items/3")
    request_id = response.json()["request_id"]
    assert len(request_id) == 32
    handler_line, access = lines(stream)
    assert handler_line["event"] == "item.read"
    assert handler_line["item_id"] == 3
    assert handler_line["logger"] == "shop"
    assert handler_line["level"] == "info"
    for line in (handler_line, access):
        assert line["request_id"] == request_id
        assert line["method"] == "GET"
        assert line["path"] == "/items/3"
        assert line["timestamp"].endswith("Z")
    assert access["event"] == "request"
    assert access["logger"] == "FasterAPI.access"
    assert access["status"] == 200
    assert 0 <= access["duration_ms"] < 5000


def test_structlog_stdlib_records_in_sync_handlers_carry_context(stream):
    configure_structlog(stream=stream)
    TestClient(build_app()).get("/sync")
    legacy, access = lines(stream)
    assert legacy["event"] == "from stdlib in a worker thread"
    assert legacy["level"] == "warning"
    assert legacy["path"] == "/sync"
    assert legacy["request_id"] == access["request_id"]


def test_structlog_uses_request_id_middleware_id(stream):
    configure_structlog(stream=stream)
    client = TestClient(build_app(request_ids=True))
    response = client.get("/items/1", headers={"X-Request-ID": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    assert response.json() == {"request_id": "req-42"}
    assert {line["request_id"] for line in lines(stream)} == {"req-42"}


def test_structlog_error_status_and_exception(stream):
    configure_structlog(stream=stream)
    client = TestClient(build_app(), raise_server_exceptions=False)
    assert client.get("/missing").status_code == 404
    assert client.get("/crash").status_code == 500
    entries = [line for line in lines(stream) if line.get("logger") == "FasterAPI.access"]
    assert [(e["status"], e["level"]) for e in entries] == [(404, "info"), (500, "error")]
    assert entries[1]["exception"][0]["exc_type"] == "RuntimeError"


def test_structlog_context_does_not_leak_between_requests(stream):
    configure_structlog(stream=stream)
    client = TestClient(build_app())
    client.get("/items/1")
    structlog.get_logger("outside").info("after")
    outside = lines(stream)[-1]
    assert outside["event"] == "after"
    assert "request_id" not in outside and "path" not in outside


def test_structlog_log_level_filters(stream):
    configure_structlog(log_level="WARNING", stream=stream)
    TestClient(build_app()).get("/items/1")
    assert lines(stream) == []


def test_structlog_console_format(stream):
    configure_structlog(json_format=False, stream=stream)
    structlog.get_logger("console").info("hello", answer=42)
    text = stream.getvalue()
    assert "hello" in text and "answer" in text and "42" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_structlog_configure_twice_keeps_one_handler(stream):
    configure_structlog(stream=stream)
    configure_structlog(stream=stream)
    structlog.get_logger("x").info("once")
    assert len(lines(stream)) == 1


def test_structlog_rejects_unknown_level():
    with pytest.raises(ValueError):
        configure_structlog(log_level="CHATTY")
