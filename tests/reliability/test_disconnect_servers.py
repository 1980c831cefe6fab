"""A client that leaves a stream after three events stops its generator within 1 s.

Under every server, for a plain stream and for SSE, both for a generator that keeps
producing (the next send notices) and for one that goes idle after three events (only the
server's disconnect notice can stop it). The app records when each generator's ``finally``
ran; ``/stats`` reports it.
"""

from __future__ import annotations

import itertools
import time

import pytest

from reliability.wire import connect, stats
from servers import SERVERS, serve

_keys = itertools.count()


@pytest.fixture(scope="module", params=SERVERS)
def server(request):
    with serve(request.param, "serverapps.reliability:app") as base:
        yield base


def _read_events(sock, marker: bytes, count: int, timeout: float = 5.0) -> bytes:
    received = b""
    deadline = time.monotonic() + timeout
    while received.count(marker) < count:
        assert time.monotonic() < deadline, f"only {received!r} within {timeout}s"
        data = sock.recv(65536)
        assert data, f"the server closed the stream early: {received!r}"
        received += data
    return received


def _assert_closed_within_a_second(server: str, key: str) -> None:
    """The generator of stream ``key`` ran its ``finally`` within 1 s of the client leaving."""
    left = time.monotonic()
    record = None
    while time.monotonic() - left < 1.0:
        record = stats(server)["streams"].get(key)
        if record is not None and record["closed"] is not None:
            break
        time.sleep(0.02)
    assert record is not None, "the generator never started"
    assert record["closed"] is not None, f"generator still running 1 s after disconnect: {record}"
    assert record["closed"] - left < 1.0


@pytest.mark.parametrize("idle", [False, True], ids=["ticking", "idle"])
@pytest.mark.parametrize(
    ("kind", "marker"), [("stream", b"event "), ("sse", b"event: tick")], ids=["stream", "sse"]
)
def test_stream_client_disconnect_after_three_events_stops_generator(server, kind, marker, idle):
    key = f"{kind}-{'idle' if idle else 'ticking'}-{next(_keys)}"
    query = "?idle=true" if idle else ""
    sock = connect(server)
    try:
        sock.sendall(f"GET /{kind}/{key}{query} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        head = _read_events(sock, marker, 3)
        assert head.startswith(b"HTTP/1.1 200 ")
    finally:
        sock.close()
    _assert_closed_within_a_second(server, key)
    assert stats(server)["errors"] == []


def test_stream_polling_is_disconnected_stops_when_the_client_leaves(server):
    key = f"polled-{next(_keys)}"
    sock = connect(server)
    try:
        sock.sendall(f"GET /polled/{key} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        head = _read_events(sock, b"event ", 5)
        assert head.startswith(b"HTTP/1.1 200 ")
    finally:
        sock.close()
    _assert_closed_within_a_second(server, key)
    assert stats(server)["errors"] == []
