"""Header-block limits (431) and ambiguous body framing (400 + close), per protocol."""

import logging

import pytest

from FasterAPI import Faster, HTTPException, Request
from FasterAPI.response import JSONResponse
from FasterAPI.testclient import TestClient


def make_app(**options):
    app = Faster(**options)
    hits = []

    @app.get("/health")
    async def health():
        hits.append("health")
        return {"ok": True}

    @app.post("/echo")
    async def echo(request: Request):
        hits.append("echo")
        return {"size": len(await request.body())}

    return app, hits


def test_framing_content_length_with_transfer_encoding_is_400_and_closes():
    app, hits = make_app()
    client = TestClient(app)
    response = client.post(
        "/echo",
        content=b"0\r\n\r\n",
        headers={"Content-Length": "5", "Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 400
    assert response.headers["connection"] == "close"
    assert response.json() == {
        "detail": "Content-Length and Transfer-Encoding together are not allowed"
    }
    assert hits == []


def test_framing_ambiguous_get_never_reaches_the_handler():
    app, hits = make_app()
    response = TestClient(app).get(
        "/health", headers={"Transfer-Encoding": "chunked", "Content-Length": "0"}
    )
    assert response.status_code == 400
    assert hits == []


def test_framing_transfer_encoding_alone_is_served():
    app, hits = make_app()
    response = TestClient(app).get("/health", headers={"Transfer-Encoding": "chunked"})
    assert response.status_code == 200
    assert hits == ["health"]


def test_framing_too_many_header_fields_is_431():
    app, hits = make_app(max_request_headers=20)
    headers = [(f"x-field-{i}", "v") for i in range(25)]
    response = TestClient(app).get("/health", headers=headers)
    assert response.status_code == 431
    assert response.headers["connection"] == "close"
    assert response.json()["detail"].startswith("Request header fields too large")
    assert hits == []


def test_framing_header_count_at_the_limit_is_served():
    app, hits = make_app(max_request_headers=40)
    headers = [(f"x-field-{i}", "v") for i in range(30)]
    assert TestClient(app).get("/health", headers=headers).status_code == 200


def test_framing_header_block_over_the_byte_cap_is_431():
    app, hits = make_app(max_header_bytes=4096)
    response = TestClient(app).get("/health", headers={"cookie": "a=" + "x" * 5000})
    assert response.status_code == 431
    assert hits == []


def test_framing_default_cap_takes_a_big_but_sane_header_block():
    app, hits = make_app()
    response = TestClient(app).get("/health", headers={"cookie": "a=" + "x" * 16_000})
    assert response.status_code == 200


def test_framing_default_byte_cap_refuses_a_huge_header():
    app, hits = make_app()
    response = TestClient(app).get("/health", headers={"x-big": "x" * 70_000})
    assert response.status_code == 431


def test_framing_caps_can_be_switched_off():
    app, hits = make_app(max_request_headers=None, max_header_bytes=None)
    headers = [(f"x-field-{i}", "v" * 1000) for i in range(150)]
    assert TestClient(app).get("/health", headers=headers).status_code == 200


def test_framing_errors_use_the_apps_http_exception_handler(caplog):
    app, hits = make_app(max_request_headers=5)

    @app.exception_handler(HTTPException)
    async def custom(request, exc):
        return JSONResponse({"error": exc.status_code}, status_code=exc.status_code)

    headers = [(f"x-field-{i}", "v") for i in range(10)]
    with caplog.at_level(logging.ERROR, logger="FasterAPI"):
        response = TestClient(app).get("/health", headers=headers)
    assert response.status_code == 431
    assert response.json() == {"error": 431}
    assert not caplog.records


@pytest.mark.parametrize("size", [1, 4095])
def test_framing_body_requests_under_the_caps_are_served(size):
    app, hits = make_app(max_header_bytes=8192)
    response = TestClient(app).post("/echo", content=b"x" * size)
    assert response.json() == {"size": size}
