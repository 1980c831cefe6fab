"""Headers, QueryParams, URL and State behave like the mappings users expect."""

import pytest

from FasterAPI import URL, Headers, QueryParams, State
from FasterAPI.datastructures import MutableHeaders


def test_headers_case_insensitive_and_multi_valued():
    headers = Headers(raw=[(b"x-a", b"1"), (b"X-A", b"2"), (b"content-type", b"text/plain")])
    assert headers["X-a"] == "1"
    assert headers.getlist("x-a") == ["1", "2"]
    assert "CONTENT-TYPE" in headers
    assert list(headers) == ["x-a", "content-type"]
    assert headers.get("missing", "d") == "d"
    with pytest.raises(KeyError):
        headers["missing"]


def test_mutable_headers_write_through_and_refuse_injection():
    raw = [(b"a", b"1")]
    headers = MutableHeaders(raw)
    headers["A"] = "2"
    headers.append("b", "x")
    headers.append("b", "y")
    assert raw == [(b"a", b"2"), (b"b", b"x"), (b"b", b"y")]
    del headers["b"]
    assert raw == [(b"a", b"2")]
    headers.add_vary_header("Origin")
    headers.add_vary_header("Accept-Encoding")
    assert headers["vary"] == "Origin, Accept-Encoding"
    with pytest.raises(ValueError):
        headers["x"] = "bad\r\nvalue"


def test_query_params_semicolon_is_not_a_separator_and_blanks_kept():
    params = QueryParams("a=1;b=2&c=&a=3")
    assert params["a"] == "3"
    assert params.getlist("a") == ["1;b=2", "3"]
    assert params["c"] == ""
    assert str(QueryParams([("x", "a b")])) == "x=a+b"


def test_url_parts_and_replace():
    url = URL("https://example.com:8443/path?q=1#frag")
    assert (url.scheme, url.hostname, url.port, url.path, url.query, url.fragment) == (
        "https",
        "example.com",
        8443,
        "/path",
        "q=1",
        "frag",
    )
    assert url.is_secure
    assert str(url.replace(path="/other")) == "https://example.com:8443/other?q=1#frag"
    assert str(url.include_query_params(page=2)) == "https://example.com:8443/path?q=1&page=2#frag"


def test_state_attribute_access():
    state = State()
    state.x = 1
    assert state.x == 1
    assert "x" in state
    del state.x
    with pytest.raises(AttributeError):
        _ = state.x
