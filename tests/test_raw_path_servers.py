"""Request paths and header values through real servers, over raw sockets.

Paths: a redirect (HTTPS, ``www.``, trailing slash) and ``request.url`` keep the escapes the
client sent (``%25``, ``%3F``, ``%23``, ``%20``...). ASGI servers pass ``raw_path`` as
received; Granian's RSGI scope has only the decoded path, which FasterAPI encodes again, so
there ``%2F`` comes back as ``/`` (the one difference that cannot be recovered).

Header values holding bytes 0x80-0xFF (UTF-8 written by JavaScript into a cookie, say):
ASGI servers pass them (read as latin-1). Granian's RSGI header map cannot show them (its
``get`` gives None, ``items`` leaves the pair out), so a request whose app reads such a
header, or the whole header list, gets a 400 saying so instead of the value looking absent.
A handler reading no header, or one other header parameter (looked up by name), is served.
"""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from servers import SERVERS, serve

UTF8_VALUE = "café".encode()  # bytes 0xC3 0xA9: obs-text to HTTP
LATIN1_SEEN = UTF8_VALUE.decode("latin-1")  # what an ASGI server hands the app


def request(
    base: str, target: str, headers: bytes = b"", host: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One GET over a new connection: status, headers (last of each name), body."""
    address, port = base.rsplit(":", 1)
    head = f"GET {target} HTTP/1.1\r\nHost: {host or base}\r\nConnection: close\r\n".encode()
    with socket.create_connection((address, int(port)), 5) as sock:
        sock.settimeout(5)
        sock.sendall(head + headers + b"\r\n")
        received = b""
        while data := sock.recv(65536):
            received += data
    head_bytes, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    if fields.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return int(status_line.split()[1]), fields, body


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2 :]
    return out


# (target, the Location path an ASGI server gives, the one Granian RSGI gives)
HTTPS_CASES = [
    ("/files/100%25", "/files/100%25", "/files/100%25"),
    ("/files/a%20b", "/files/a%20b", "/files/a%20b"),
    ("/files/caf%C3%A9", "/files/caf%C3%A9", "/files/caf%C3%A9"),
    ("/files/a%23b", "/files/a%23b", "/files/a%23b"),
    ("/files/a%3Fb?x=1&y=%2F", "/files/a%3Fb?x=1&y=%2F", "/files/a%3Fb?x=1&y=%2F"),
    ("/files/a%2Fb", "/files/a%2Fb", "/files/a/b"),  # RSGI: decoded, not recoverable
]


@pytest.mark.parametrize("server", SERVERS)
def test_https_redirect_keeps_the_path_as_sent(server: str) -> None:
    with serve(server, "serverapps.rawpath:redirecting") as base:
        answers = [request(base, target) for target, _, _ in HTTPS_CASES]
    rsgi = server == "granian-rsgi"
    for (target, asgi_path, rsgi_path), (status, fields, _) in zip(HTTPS_CASES, answers):
        assert status == 307, target
        assert fields["location"] == f"https://{base}{rsgi_path if rsgi else asgi_path}"


@pytest.mark.parametrize("server", ["uvicorn-httptools", "granian-rsgi"])
def test_www_redirect_keeps_the_path_as_sent(server: str) -> None:
    with serve(server, "serverapps.rawpath:to_www") as base:
        status, fields, _ = request(base, "/files/100%25?q=%3F", host="example.com")
    assert status == 307
    assert fields["location"] == "http://www.example.com/files/100%25?q=%3F"


@pytest.mark.parametrize("server", SERVERS)
def test_slash_redirect_and_request_url_keep_the_escapes(server: str) -> None:
    with serve(server, "serverapps.rawpath:app") as base:
        redirects = {
            target: request(base, target)
            for target in ("/items/a%3Fb/", "/items/a%23b/", "/items/a%2520b/", "/items/x/?q=%20")
        }
        status, _, body = request(base, "/items/a%3Fb?x=1")
        spaced = request(base, "/items/a%20b")[2]
    expected = {
        "/items/a%3Fb/": "/items/a%3Fb",
        "/items/a%23b/": "/items/a%23b",
        "/items/a%2520b/": "/items/a%2520b",
        "/items/x/?q=%20": "/items/x?q=%20",
    }
    for target, (code, fields, _) in redirects.items():
        assert code == 307, target
        assert fields["location"] == f"http://{base}{expected[target]}"
    assert status == 200
    assert json.loads(body) == {
        "name": "a?b",
        "url": f"http://{base}/items/a%3Fb?x=1",
        "path": "/items/a%3Fb",
    }
    assert json.loads(spaced)["url"] == f"http://{base}/items/a%20b"


BAD = b"X-T: " + UTF8_VALUE + b"\r\n"
BAD_COOKIE = b"Cookie: session=abc; name=" + UTF8_VALUE + b"\r\n"
DETAIL = (
    "The value of request header 'x-t' holds bytes outside ASCII, which this server "
    "interface (Granian RSGI) cannot pass to the app"
)


@pytest.mark.parametrize("server", ["uvicorn-httptools", "granian-rsgi"])
def test_header_value_with_high_bytes(server: str) -> None:
    with serve(server, "serverapps.rawpath:app") as base:
        answers = {
            "required": request(base, "/required", BAD),
            "optional": request(base, "/optional", BAD),
            "all": request(base, "/all", BAD),
            "masked": request(base, "/all", b"Accept: a\r\nAccept: b\r\n" + BAD),
            "cookie": request(base, "/cookie", BAD_COOKIE),
            "other": request(base, "/other", BAD + b"X-U: ok\r\n"),
            "plain": request(base, "/plain", BAD),
            "ordinary": request(base, "/required", b"X-T: cafe\r\n"),
            "ordinary_all": request(base, "/all", b"X-T: cafe\r\n"),
            "ordinary_cookie": request(base, "/cookie", b"Cookie: session=abc\r\n"),
        }
    status = {name: answer[0] for name, answer in answers.items()}
    body = {name: answer[2] for name, answer in answers.items()}
    # Either way: a handler reading other headers, or none, is served; ordinary requests too.
    assert body["other"] == b'"ok"'
    assert body["plain"] == b'"plain"'
    assert body["ordinary"] == b'"cafe"'
    assert json.loads(body["ordinary_all"])["x-t"] == "cafe"
    assert body["ordinary_cookie"] == b'"abc"'
    if server == "granian-rsgi":
        for name in ("required", "optional", "all", "masked"):
            assert status[name] == 400, name
            assert json.loads(body[name]) == {"detail": DETAIL}
        assert status["cookie"] == 400
        assert json.loads(body["cookie"]) == {"detail": DETAIL.replace("'x-t'", "'cookie'")}
        assert answers["required"][1]["content-type"] == "application/json"
    else:
        assert json.loads(body["required"]) == json.loads(body["optional"]) == LATIN1_SEEN
        assert json.loads(body["all"])["x-t"] == LATIN1_SEEN
        assert body["cookie"] == b'"abc"'
    for name in ("other", "plain", "ordinary", "ordinary_all", "ordinary_cookie"):
        assert status[name] == 200, name


def test_rsgi_header_repeated_with_a_later_unreadable_value_keeps_the_first() -> None:
    """Granian's map cannot tell a second value it hides from no second value: pinned."""
    with serve("granian-rsgi", "serverapps.rawpath:app") as base:
        status, _, body = request(base, "/all", b"X-T: first\r\n" + BAD)
    assert status == 200
    assert json.loads(body)["x-t"] == "first"


@pytest.mark.parametrize("server", ["uvicorn-httptools", "granian-rsgi"])
def test_header_value_with_high_bytes_behind_middleware(server: str) -> None:
    """Middleware sees every header: on RSGI the 400 comes before it runs."""
    with serve(server, "serverapps.rawpath:layered") as base:
        refused = request(base, "/plain", BAD)
        served = request(base, "/plain", b"X-T: cafe\r\n")
    assert served[0] == 200
    assert served[1]["x-stamped"] == "yes"
    if server == "granian-rsgi":
        assert refused[0] == 400
        assert json.loads(refused[2]) == {"detail": DETAIL}
    else:
        assert refused[0] == 200
        assert refused[1]["x-stamped"] == "yes"


@pytest.mark.parametrize("server", ["uvicorn-httptools", "granian-rsgi"])
def test_websocket_handshake_with_high_bytes_header(server: str) -> None:
    upgrade = (
        b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    )
    with serve(server, "serverapps.rawpath:app") as base:
        refused = _handshake(base, upgrade + BAD)
        accepted = _handshake(base, upgrade)
    assert accepted == 101
    assert refused == (400 if server == "granian-rsgi" else 101)


def _handshake(base: str, headers: bytes) -> int:
    host, port = base.rsplit(":", 1)
    payload = f"GET /ws HTTP/1.1\r\nHost: {base}\r\n".encode() + headers + b"\r\n"
    with socket.create_connection((host, int(port)), 5) as sock:
        sock.settimeout(5)
        sock.sendall(payload)
        received = b""
        while b"\r\n\r\n" not in received and (data := sock.recv(65536)):
            received += data
    return int(received.split(b" ", 2)[1])


@pytest.mark.parametrize("server", SERVERS)
def test_raw_non_ascii_query_bytes_are_read_as_utf8_or_refused(server: str) -> None:
    # A client that sends UTF-8 bytes unescaped in the query: uvicorn's parsers refuse
    # the request line (400); Granian passes the bytes, which the app reads as UTF-8.
    with serve(server, "serverapps.rawpath:app") as base:
        status, _, body = request(base, "/query?key=€&plain=a%20b")
    if server.startswith("uvicorn"):
        assert status == 400
    else:
        assert status == 200, body
        assert json.loads(body) == {"key": "€", "plain": "a b"}


@pytest.mark.parametrize("server", ["granian-asgi", "granian-rsgi"])
def test_http2_authority_is_the_host(server: str) -> None:
    # HTTP/2 sends the host as the ":authority" pseudo-header; the app sees it as "host".
    with (
        serve(server, "serverapps.rawpath:app") as base,
        httpx.Client(http1=False, http2=True, timeout=5) as client,
    ):
        answer = client.get(f"http://{base}/where")
    assert answer.http_version == "HTTP/2"
    assert answer.json() == {"host": base, "url": f"http://{base}/where"}


@pytest.mark.parametrize("server", SERVERS)
def test_two_host_headers_are_refused_where_a_url_is_built(server: str) -> None:
    # RFC 9112 §3.2: a request with two Host lines is a 400. Links and redirects built
    # from the wrong one would point a victim at an attacker's host.
    second = b"Host: evil.example\r\n"
    with serve(server, "serverapps.rawpath:app") as base:
        link = request(base, "/where", headers=second)
        redirect = request(base, "/items/x/", headers=second)
        plain = request(base, "/plain", headers=second)
    assert link[0] == 400
    assert redirect[0] == 400
    assert b"evil.example" not in link[2] + redirect[2]
    assert plain[0] in (200, 400)  # a handler building no URL is served (h11 refuses)
