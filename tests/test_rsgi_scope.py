"""The ASGI scope made from a Granian RSGI scope: ``raw_path`` and header values Granian
cannot show (bytes 0x80-0xFF), on a stand-in for Granian's scope that behaves as Granian's
does. ``test_raw_path_servers.py`` checks the same against a real Granian."""

from __future__ import annotations

import json
import os
from typing import Any

import anyio
import pytest

from FasterAPI import Faster
from FasterAPI._rsgi_scope import http_scope
from FasterAPI._rsgi_testing import FakeProtocol
from FasterAPI.exceptions import HTTPException
from serverapps import rawpath

UNREADABLE = object()  # a value holding bytes 0x80-0xFF, as Granian's map hides it


class GranianLikeHeaders:
    """Granian's RSGI header map: a hidden value's name is listed and ``in`` the map, but
    ``get`` gives the default, ``get_all`` leaves it out, ``items``/``values`` too."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self._pairs = pairs

    def keys(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self._pairs))

    def items(self) -> list[tuple[str, str]]:
        return [(name, value) for name, value in self._pairs if value is not UNREADABLE]

    def values(self) -> list[str]:
        return [value for _, value in self.items()]

    def get(self, key: str, default: Any = None) -> Any:
        first = next((value for name, value in self._pairs if name == key), UNREADABLE)
        return default if first is UNREADABLE else first

    def get_all(self, key: str) -> list[str]:
        return [value for name, value in self.items() if name == key]

    def __contains__(self, key: object) -> bool:
        return any(name == key for name, _ in self._pairs)

    def __len__(self) -> int:
        return len(self.keys())


class GranianLikeScope:
    proto = "http"
    rsgi_version = "1.6"
    http_version = "1.1"
    scheme = "http"
    method = "GET"
    query_string = ""
    server = "127.0.0.1:8000"
    client = "127.0.0.1:50000"
    authority = None

    def __init__(self, path: str, pairs: list[tuple[str, Any]]) -> None:
        self.path = path  # percent-decoded, as Granian gives it
        self.headers = GranianLikeHeaders([("host", "testserver"), *pairs])


@pytest.mark.parametrize(
    ("path", "raw_path"),
    [
        ("/items/42", b"/items/42"),
        ("/a-b_c.d~e/:@!$&'()*+,;=", b"/a-b_c.d~e/:@!$&'()*+,;="),
        ("/files/100%", b"/files/100%25"),
        ("/a b/a?b/a#b", b"/a%20b/a%3Fb/a%23b"),
        ("/caf\u00e9", b"/caf%C3%A9"),
        ("/a/b", b"/a/b"),  # sent as /a%2Fb or /a/b: Granian cannot tell them apart
    ],
)
def test_rsgi_raw_path_is_the_decoded_path_encoded_again(path: str, raw_path: bytes) -> None:
    assert http_scope(GranianLikeScope(path, []), None)["raw_path"] == raw_path


def test_rsgi_headers_with_a_hidden_value_are_refused() -> None:
    scope = http_scope(GranianLikeScope("/", [("x-t", UNREADABLE), ("x-u", "ok")]), None)
    with pytest.raises(HTTPException) as info:
        scope["headers"]
    assert info.value.status_code == 400
    assert "'x-t'" in info.value.detail
    # What the 400, and any handler of it, reads: the headers that came through.
    assert scope["headers"] == [(b"host", b"testserver"), (b"x-u", b"ok")]
    scope.complete()


def test_rsgi_hidden_value_is_found_behind_repeated_headers() -> None:
    """Two values of one header must not hide a third header's missing one."""
    pairs = [("accept", "a"), ("accept", "b"), ("x-t", UNREADABLE), ("x-v", UNREADABLE)]
    scope = http_scope(GranianLikeScope("/", pairs), None)
    with pytest.raises(HTTPException) as info:
        scope.complete()
    assert "headers 'x-t', 'x-v'" in info.value.detail


def test_rsgi_ordinary_headers_convert_as_before() -> None:
    pairs = [("accept", "a"), ("accept", "b"), ("x-u", "ok")]
    scope = http_scope(GranianLikeScope("/", pairs), None)
    scope.complete()
    assert scope["headers"] == [
        (b"host", b"testserver"),
        (b"accept", b"a"),
        (b"accept", b"b"),
        (b"x-u", b"ok"),
    ]


def rsgi_call(app: Faster, path: str, pairs: list[tuple[str, Any]]) -> tuple[int, Any]:
    protocol = FakeProtocol(b"")

    async def run() -> None:
        with anyio.fail_after(5):
            await app.__rsgi__(GranianLikeScope(path, pairs), protocol)

    anyio.run(run)
    return protocol.status or 0, json.loads(b"".join(protocol.chunks))


DETAIL = {
    "detail": "The value of request header 'x-t' holds bytes outside ASCII, which this "
    "server interface (Granian RSGI) cannot pass to the app"
}
HIDDEN = [("x-t", UNREADABLE), ("x-u", "ok")]


@pytest.mark.parametrize("path", ["/required", "/optional", "/all"])
def test_rsgi_handler_reading_a_hidden_header_gets_400(path: str) -> None:
    assert rsgi_call(rawpath.build(), path, HIDDEN) == (400, DETAIL)


def test_rsgi_handler_not_reading_the_hidden_header_is_served() -> None:
    assert rsgi_call(rawpath.build(), "/plain", HIDDEN) == (200, "plain")
    # One plain header parameter is looked up by name in Granian's map; the generic
    # (not generated) handler reads every header, so it refuses the request instead.
    generated = not os.environ.get("FASTERAPI_NO_CODEGEN")
    expected = (200, "ok") if generated else (400, DETAIL)
    assert rsgi_call(rawpath.build(), "/other", HIDDEN) == expected


def test_rsgi_hidden_header_is_refused_before_middleware() -> None:
    app = rawpath.layered  # behind a middleware of the app's own
    assert rsgi_call(app, "/plain", HIDDEN) == (400, DETAIL)
    assert rsgi_call(app, "/plain", [("x-t", "fine")]) == (200, "plain")
