"""HTTP semantics as a client sees them through real servers, over raw sockets.

HEAD answers carry GET's headers and no body, for every kind of response; a body the route
refuses for its media type is refused before it is read (a client that sent ``Expect:
100-continue`` is not told to go on); a ``Content-Length`` always states the body sent, so
the next response on a keep-alive connection starts where the client expects it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reliability.wire import connect, read_until_quiet

from servers import SERVERS, serve

Answer = tuple[int, list[tuple[str, str]], bytes]


def _request(method: str, target: str, headers: str = "", body: bytes = b"") -> bytes:
    return f"{method} {target} HTTP/1.1\r\nHost: test\r\n{headers}\r\n".encode() + body


def _parse(data: bytes, methods: list[str]) -> list[Answer]:
    """Each answer in ``data``, framed as a client would: by ``Content-Length``, chunked
    coding, or (no body) for HEAD, 1xx, 204 and 304."""
    answers: list[Answer] = []
    for method in methods:
        while True:
            head, found, data = data.partition(b"\r\n\r\n")
            if not found:
                return answers
            status_line, *lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split()[1])
            if status >= 200:
                break
        fields = [(n.strip().lower(), v.strip()) for n, _, v in (x.partition(":") for x in lines)]
        named = dict(fields)
        body = b""
        if method == "HEAD" or status in (204, 304):
            pass
        elif named.get("transfer-encoding") == "chunked":
            while True:
                size_line, _, data = data.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                body, data = body + data[:size], data[size + 2 :]
                if size == 0:
                    break
        elif "content-length" in named:
            length = int(named["content-length"])
            body, data = data[:length], data[length:]
        else:  # read to the end of the connection
            body, data = data, b""
        answers.append((status, fields, body))
    return answers


def pipeline(base: str, requests: list[tuple[str, bytes]], wait: float = 1.0) -> list[Answer]:
    """Send the requests pipelined on one connection (the last one closes it)."""
    with connect(base, 5) as sock:
        sock.sendall(b"".join(payload for _, payload in requests))
        received = read_until_quiet(sock, wait)
    return _parse(received, [method for method, _ in requests])


def _close(method: str, target: str, headers: str = "", body: bytes = b"") -> tuple[str, bytes]:
    return method, _request(method, target, headers + "Connection: close\r\n", body)


def _keep(method: str, target: str, headers: str = "", body: bytes = b"") -> tuple[str, bytes]:
    return method, _request(method, target, headers, body)


@pytest.fixture(scope="module", params=SERVERS)
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    with serve(request.param, "serverapps.semantics:app") as found:
        yield found


@pytest.fixture(scope="module", params=SERVERS)
def rewritten_base(request: pytest.FixtureRequest) -> Iterator[str]:
    with serve(request.param, "serverapps.semantics:rewritten") as found:
        yield found


# Headers that may differ between a HEAD and a GET answer: the server's own, and how a
# body of unknown length is framed (only a GET has one to frame).
_FRAMING = {"date", "server", "connection", "transfer-encoding"}


def _comparable(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(pair for pair in fields if pair[0] not in _FRAMING)


@pytest.mark.parametrize(
    "path", ["/json", "/stream", "/sse", "/file", "/redirect", "/nocontent", "/notmodified"]
)
def test_head_has_the_get_headers_and_no_body(base: str, path: str) -> None:
    [get] = pipeline(base, [_close("GET", path)])
    [head] = pipeline(base, [_keep("HEAD", path), _close("GET", "/json")])[:1]
    assert head[0] == get[0]
    assert _comparable(head[1]) == _comparable(get[1])
    assert head[2] == b""


def test_head_route_keeps_its_stated_length(base: str) -> None:
    head, after = pipeline(base, [_keep("HEAD", "/head-only"), _close("GET", "/json")])
    assert head[0] == 200
    assert ("content-length", "1234") in head[1]
    assert after[2] == b'{"hello":"world"}'


def test_stated_content_length_is_the_body_sent(base: str) -> None:
    first, after = pipeline(base, [_keep("GET", "/stated-length"), _close("GET", "/json")])
    assert first[0] == 200
    assert dict(first[1])["content-length"] == "11"
    assert first[2] == b"hello world"
    assert after[0] == 200
    assert after[2] == b'{"hello":"world"}'


def test_middleware_rewriting_the_body_sends_its_length(rewritten_base: str) -> None:
    first, after = pipeline(rewritten_base, [_keep("GET", "/json"), _close("GET", "/json")])
    for status, fields, body in (first, after):
        assert status == 200
        assert body == b'{"hello":"world"}!'
        assert dict(fields)["content-length"] == str(len(body))


@pytest.mark.parametrize(
    ("target", "headers", "status"),
    [
        ("/item", "Content-Type: text/plain\r\nContent-Length: 16\r\n", 415),
        ("/item", "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n", 415),
        ("/small", "Content-Length: 50\r\n", 413),
    ],
)
def test_expect_continue_refused_body_is_answered_before_reading(
    base: str, target: str, headers: str, status: int
) -> None:
    with connect(base, 5) as sock:
        sock.sendall(_request("POST", target, headers + "Expect: 100-continue\r\n"))
        received = read_until_quiet(sock, 1.0)
    assert not received.startswith(b"HTTP/1.1 100"), received
    assert received.startswith(b"HTTP/1.1 %d" % status), received


def test_expect_continue_accepted_body_is_read(base: str) -> None:
    with connect(base, 5) as sock:
        sock.sendall(_request("POST", "/item", "Content-Length: 16\r\nExpect: 100-continue\r\n"))
        assert read_until_quiet(sock, 0.5).startswith(b"HTTP/1.1 100")
        sock.sendall(b'{"name":"thing"}')
        received = read_until_quiet(sock, 1.0)
    assert received.startswith(b"HTTP/1.1 200"), received
    assert received.endswith(b'{"name":"thing"}')


def test_media_type_without_a_body_is_not_refused(base: str) -> None:
    [answer] = pipeline(
        base, [_close("POST", "/item", "Content-Type: text/plain\r\nContent-Length: 0\r\n")]
    )
    assert answer[0] == 422


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (_keep("DELETE", "/json", "Content-Length: 5\r\n", b"hello"), 405),
        (_keep("POST", "/missing", "Content-Length: 5\r\n", b"hello"), 404),
        (_keep("POST", "/small", "Content-Length: 20\r\n", b"x" * 20), 413),
        (
            _keep("POST", "/item", "Content-Type: text/plain\r\nContent-Length: 5\r\n", b"hello"),
            415,
        ),
        (_keep("POST", "/item", "Content-Length: 5\r\n", b"hello"), 422),
    ],
)
def test_error_with_an_unread_body_keeps_the_connection_in_step(
    base: str, request_: tuple[str, bytes], status: int
) -> None:
    refused, after = pipeline(base, [request_, _close("GET", "/json")])
    assert refused[0] == status
    assert after[0] == 200
    assert after[2] == b'{"hello":"world"}'
