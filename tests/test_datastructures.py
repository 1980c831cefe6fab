"""Headers, QueryParams, URL and State behave like the mappings users expect."""

import pytest

from FasterAPI import URL, Headers, QueryParams, State
from FasterAPI.datastructures import MutableHeaders, quote_path, url_path


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


def test_url_replace_takes_the_path_encoded():
    url = URL("http://h/a%3Fb?q=1")
    assert url.path == "/a%3Fb"
    assert str(url.replace(path=url.path + "/")) == "http://h/a%3Fb/?q=1"


def test_quote_path_encodes_what_a_path_cannot_hold():
    assert quote_path("/plain/a-b_c.d~e/:@!$&'()*+,;=") == "/plain/a-b_c.d~e/:@!$&'()*+,;="
    assert quote_path("/100%/a b/a?b/a#b/café") == "/100%25/a%20b/a%3Fb/a%23b/caf%C3%A9"
    assert quote_path("/bad\udcff") == "/bad%FF"  # surrogate-escaped bytes go back as bytes


def scope_for(path: str, raw_path: bytes | None, root_path: str = "") -> dict:
    scope = {"type": "http", "path": path, "root_path": root_path, "headers": []}
    if raw_path is not None:
        scope["raw_path"] = raw_path
    return scope


@pytest.mark.parametrize(
    ("path", "raw_path", "root_path", "expected"),
    [
        # raw_path as received: its escapes are kept.
        ("/a?b/a/b", b"/a%3Fb/a%2Fb", "", "/a%3Fb/a%2Fb"),
        ("/100%", b"/100%25", "", "/100%25"),
        ("/x%zz", b"/x%zz", "", "/x%25zz"),  # a lone % is made an escape
        ("/a b/é", b"/a b/\xc3\xa9", "", "/a%20b/%C3%A9"),  # raw bytes a URL cannot hold
        # A stripping proxy: path carries root_path, raw_path does not.
        ("/api/a?b", b"/a%3Fb", "/api", "/api/a%3Fb"),
        # A mount: both carry it.
        ("/sub/a?b", b"/sub/a%3Fb", "/sub", "/sub/a%3Fb"),
        # Faster(root_path=...): the server's path lacks root_path, so does raw_path.
        ("/a?b", b"/a%3Fb", "/api", "/api/a%3Fb"),
        ("/sub", b"/sub", "/sub", "/sub"),  # the mount itself keeps its own path
        # path rewritten without raw_path (or none given): the decoded path, encoded.
        ("/rewritten", b"/original", "", "/rewritten"),
        ("/a?b/100%", None, "", "/a%3Fb/100%25"),
        ("/a b", None, "/r t", "/r%20t/a%20b"),
    ],
)
def test_url_path_is_the_request_path_as_sent(path, raw_path, root_path, expected):
    assert url_path(scope_for(path, raw_path, root_path)) == expected


def test_url_from_scope_is_built_from_the_encoded_path():
    scope = scope_for("/a?b#c", b"/a%3Fb%23c")
    scope["headers"] = [(b"host", b"h")]
    scope["query_string"] = b"x=%3F"
    url = URL(scope=scope)
    assert str(url) == "http://h/a%3Fb%23c?x=%3F"
    assert (url.path, url.query, url.fragment) == ("/a%3Fb%23c", "x=%3F", "")


def test_state_attribute_access():
    state = State()
    state.x = 1
    assert state.x == 1
    assert "x" in state
    del state.x
    with pytest.raises(AttributeError):
        _ = state.x
