"""Property tests (Hypothesis) for the parsers the framework owns, and a body fuzz of the demo.

- the query-string parser (``_extract.parse_query``) against ``urllib.parse.parse_qsl``;
- the Cookie header parser (``datastructures.parse_cookie_header``);
- byte ranges (``_http_conditions``) against a byte-set model;
- the response cache key (``middleware.cache``): equal exactly when the request is the same;
- query binding through the app: values round-trip, garbage is a 422, never a 500;
- request bodies of every kind against every route of the demo app: never a 5xx.

Examples are random locally and derandomized when ``CI=true``, so CI runs stay
reproducible; no example database is written.
"""

from __future__ import annotations

import os
import string
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from FasterAPI import Faster, Query
from FasterAPI._extract import parse_query
from FasterAPI._http_conditions import (
    MAX_RANGES,
    evaluate,
    multipart_layout,
    parse_range,
)
from FasterAPI.datastructures import Headers, parse_cookie_header
from FasterAPI.middleware._cache_policy import CacheRequest
from FasterAPI.middleware.cache import RedisCacheMiddleware
from FasterAPI.testclient import TestClient

FUZZ = {
    "database": None,
    "derandomize": os.environ.get("CI") == "true",
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
PARSER = settings(max_examples=300, **FUZZ)
APP = settings(max_examples=200, **FUZZ)

# --- query strings ------------------------------------------------------------------------

query_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(
        st.tuples(
            st.text(alphabet="ab%+=&;é2fF0 ", max_size=6),
            st.text(alphabet="ab%+=;é2fF0 ", max_size=6),
        ),
        max_size=8,
    ).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8")),
)


@PARSER
@given(query=query_bytes, sequences=st.sets(st.sampled_from(["a", "b", "a b", ""])))
def test_parse_query_matches_parse_qsl(query, sequences):
    expected: dict[str, Any] = {}
    for name, value in parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True):
        if name in sequences:
            expected.setdefault(name, []).append(value)
        else:
            expected[name] = value
    assert parse_query(query, sequences) == expected


# --- cookies ------------------------------------------------------------------------------

TOKEN = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
COOKIE_OCTETS = "".join(
    chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\'
)  # RFC 6265 cookie-octet
cookie_pairs = st.lists(
    st.tuples(st.text(TOKEN, min_size=1, max_size=8), st.text(COOKIE_OCTETS, max_size=12)),
    max_size=8,
)


@PARSER
@given(pairs=cookie_pairs, quoted=st.booleans(), separator=st.sampled_from(["; ", ";", " ;  "]))
def test_parse_cookie_header_round_trips_well_formed_cookies(pairs, quoted, separator):
    header = separator.join(
        f'{name}="{value}"' if quoted else f"{name}={value}" for name, value in pairs
    )
    assert parse_cookie_header(header) == dict(pairs)


@PARSER
@given(header=st.text(max_size=200))
def test_parse_cookie_header_never_raises_and_splits_on_semicolons(header):
    cookies = parse_cookie_header(header)
    assert len(cookies) <= header.count(";") + 1
    for name, value in cookies.items():
        assert ";" not in name and ";" not in value
        assert name == name.strip()


# --- byte ranges --------------------------------------------------------------------------

range_spec = st.one_of(
    st.tuples(st.integers(0, 300), st.none() | st.integers(0, 300)),  # first-[last]
    st.tuples(st.none(), st.integers(0, 300)),  # -suffix
)


def render(spec: tuple[int | None, int | None]) -> str:
    first, last = spec
    return f"{'' if first is None else first}-{'' if last is None else last}"


def requested_bytes(specs, size: int) -> set[int] | None:
    """The model: which bytes the range set asks for; None if it is to be ignored."""
    wanted: set[int] = set()
    for first, last in specs:
        if first is not None:
            if last is not None and last < first:
                return None
            wanted.update(range(first, min(size, (size - 1 if last is None else last) + 1)))
        else:
            wanted.update(range(max(0, size - last), size))
    return wanted


@PARSER
@given(specs=st.lists(range_spec, min_size=1, max_size=12), size=st.integers(1, 256))
def test_parse_range_serves_exactly_the_requested_bytes(specs, size):
    result = parse_range("bytes=" + ", ".join(render(s) for s in specs), size)
    model = requested_bytes(specs, size)
    if model is None:
        assert result is None
        return
    assert result is not None
    if not model:
        assert result == []  # 416
        return
    served = [i for start, stop in result for i in range(start, stop)]
    assert set(served) == model
    assert len(served) == len(model)  # no byte twice: overlaps were coalesced
    for start, stop in result:
        assert 0 <= start < stop <= size
    ordered = sorted(result)
    for (_, stop), (start, _) in zip(ordered, ordered[1:]):
        assert stop < start  # neither overlapping nor adjacent


@PARSER
@given(count=st.integers(MAX_RANGES + 1, MAX_RANGES + 50), size=st.integers(1, 10_000))
def test_parse_range_too_many_ranges_is_ignored(count, size):
    assert parse_range("bytes=" + ",".join(f"{i}-{i}" for i in range(count)), size) is None


@PARSER
@given(header=st.text(max_size=80), size=st.integers(0, 10**12))
def test_parse_range_arbitrary_header_never_raises(header, size):
    result = parse_range(header, size)
    assert result is None or all(0 <= a < b <= size for a, b in result)


@PARSER
@given(
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    headers=st.dictionaries(
        st.sampled_from(["range", "if-range", "if-none-match", "if-modified-since"]),
        st.text(string.printable, max_size=40),
    ),
    size=st.integers(0, 5000),
)
def test_evaluate_arbitrary_conditions_never_raise(method, headers, size):
    outcome = evaluate(method, Headers(headers), '"tag"', 1_700_000_000, size)
    assert outcome.status in (200, 206, 304, 416)
    if outcome.status == 206:
        assert method == "GET" and outcome.ranges


@PARSER
@given(specs=st.lists(range_spec, min_size=2, max_size=8), size=st.integers(1, 500))
def test_multipart_layout_length_is_the_body_length(specs, size):
    ranges = parse_range("bytes=" + ",".join(render(s) for s in specs), size)
    if not ranges:
        return
    data = bytes(i % 251 for i in range(size))
    heads, tail, length = multipart_layout(tuple(ranges), size, "text/plain", "b0undary")
    body = b"".join(head + data[a:b] for head, (a, b) in zip(heads, ranges)) + tail
    assert len(body) == length


# --- the response cache key ---------------------------------------------------------------

CACHE = RedisCacheMiddleware(Faster(), redis="redis://127.0.0.1:9/0", vary=["accept", "x-tenant"])

request_parts = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "HEAD"]),
        "scheme": st.sampled_from(["http", "https"]),
        "host": st.sampled_from([b"a.test", b"A.test", b"b.test", b"a.test:80", b""]),
        "root_path": st.sampled_from(["", "/api", "/a"]),
        "path": st.sampled_from(["/", "/x", "/pi/x", "/x?", "/x/", "/x%00"]),
        "query": st.sampled_from([b"", b"a=1", b"a=1&b=2", b"b=2&a=1", b"?"]),
        "accept": st.lists(st.sampled_from([b"a", b"b", b"a, b", b""]), max_size=2),
        "tenant": st.lists(st.sampled_from([b"1", b"2"]), max_size=2),
    }
)


def cache_key(parts: dict[str, Any]) -> str:
    headers = [(b"host", parts["host"])] if parts["host"] else []
    headers += [(b"accept", value) for value in parts["accept"]]
    headers += [(b"x-tenant", value) for value in parts["tenant"]]
    scope = {
        "type": "http",
        "method": parts["method"],
        "scheme": parts["scheme"],
        "root_path": parts["root_path"],
        "path": parts["root_path"] + parts["path"],
        "query_string": parts["query"],
        "headers": headers,
        "server": ("server.test", 80),
    }
    return CACHE.cache_key(scope, CacheRequest(headers, CACHE._vary_set))


def cache_identity(parts: dict[str, Any]) -> tuple:
    """What the key must tell apart: HEAD is GET, hosts compare case-insensitively, repeated
    header lines are one comma-joined value."""
    host = parts["host"].lower() or b"server.test"
    return (
        parts["scheme"],
        host,
        parts["root_path"],
        parts["path"],
        parts["query"],
        b", ".join(parts["accept"]) if parts["accept"] else None,
        b", ".join(parts["tenant"]) if parts["tenant"] else None,
    )


@PARSER
@given(first=request_parts, second=request_parts)
def test_cache_key_equal_exactly_for_the_same_request(first, second):
    same = cache_identity(first) == cache_identity(second)
    assert (cache_key(first) == cache_key(second)) == same


# --- query binding through the app --------------------------------------------------------


def binding_app() -> Faster:
    app = Faster()

    @app.get("/bind")
    async def bind(
        n: int = 0,
        f: float = 0.0,
        s: str = "",
        flag: bool = False,
        xs: Annotated[list[int], Query()] = [],
        tags: Annotated[list[str], Query()] = [],
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> dict[str, Any]:
        return {"n": n, "f": f, "s": s, "flag": flag, "xs": xs, "tags": tags, "limit": limit}

    return app


BINDING = binding_app()
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)


@pytest.fixture(params=["asgi", "rsgi"])
def binding_client(request):
    with TestClient(BINDING, interface=request.param) as client:
        yield client


@APP
@given(
    n=st.integers(-(2**63), 2**63 - 1),
    s=any_text,
    xs=st.lists(st.integers(-(10**6), 10**6), max_size=5),
    tags=st.lists(any_text, max_size=5),
    flag=st.booleans(),
    limit=st.integers(1, 100),
)
def test_query_binding_valid_values_round_trip(binding_client, n, s, xs, tags, flag, limit):
    params = {"n": n, "s": s, "xs": xs, "tags": tags, "flag": str(flag).lower(), "limit": limit}
    response = binding_client.get("/bind", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["n"], body["s"], body["xs"], body["tags"]) == (n, s, xs, tags)
    assert (body["flag"], body["limit"]) == (flag, limit)


@APP
@given(
    raw=st.dictionaries(
        st.sampled_from(["n", "f", "flag", "xs", "limit", "s"]), any_text, max_size=6
    ),
    junk=st.binary(max_size=40),
)
def test_query_binding_garbage_is_422_never_500(binding_client, raw, junk):
    response = binding_client.get("/bind", params=raw)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        for entry in response.json()["detail"]:
            assert entry["loc"][0] == "query"
    # Any bytes, percent-encoded as a client must, but with '%', '&', '=' and '+' left raw.
    raw_response = binding_client.get("/bind?" + quote_from_bytes(junk, safe="%&=+"))
    assert raw_response.status_code in (200, 422), raw_response.text


# --- the demo app: every route, any body ---------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    import importlib

    database = tmp_path_factory.mktemp("demo") / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
        import examples.demo.database
        import examples.demo.main

        importlib.reload(examples.demo.database)
        importlib.reload(examples.demo.main)
        with TestClient(examples.demo.main.app, raise_server_exceptions=False) as client:
            token = client.post(
                "/token", data={"username": "demo", "password": "demo-password"}
            ).json()["access_token"]
            client.headers["authorization"] = f"Bearer {token}"
            assert client.post("/items", json={"name": "seed", "price": 1}).status_code == 201
            yield client


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["name", "price", "id", "owner", "x"]) | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
item_like = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=120) | st.integers() | st.none(),
        "price": st.floats() | st.integers() | st.text(max_size=5) | st.none(),
        "id": st.integers(),
    },
)
bodies = st.one_of(
    json_values.map(lambda value: (b"application/json", _encode(value))),
    item_like.map(lambda value: (b"application/json", _encode(value))),
    st.binary(max_size=300).map(lambda raw: (b"application/json", raw)),
    st.tuples(
        st.sampled_from(
            [
                b"text/plain",
                b"application/x-www-form-urlencoded",
                b"multipart/form-data; boundary=x",
                b"multipart/form-data",
                b"application/merge-patch+json",
                b"",
                b"\xff\xfe",
            ]
        ),
        st.binary(max_size=300),
    ),
)


def _encode(value: Any) -> bytes:
    import json

    return json.dumps(value, allow_nan=True).encode()


demo_requests = st.tuples(
    st.sampled_from(
        [
            ("POST", "/items"),
            ("POST", "/token"),
            ("GET", "/items"),
            ("GET", "/items/1"),
            ("GET", "/items/export.csv"),
            ("DELETE", "/items/999999"),
            ("PUT", "/items"),
            ("GET", "/health"),
        ]
    ),
    st.one_of(
        st.none(),
        st.sampled_from(["0", "-1", "abc", "1e3", "9223372036854775808", "9" * 30, "%00"]),
    ),
    st.dictionaries(
        st.sampled_from(["limit", "offset", "x"]),
        any_text | st.integers().map(str),
        max_size=3,
    ),
    bodies,
)


@APP
@given(request=demo_requests)
def test_demo_app_any_body_is_never_a_5xx(demo, request):
    (method, path), path_id, params, (content_type, content) = request
    if path_id is not None and path.startswith("/items/") and path != "/items/export.csv":
        path = f"/items/{path_id}"
    headers = {"content-type": content_type} if content_type else {}
    response = demo.request(method, path, params=params, content=content, headers=headers)
    assert response.status_code < 500, (method, path, params, content, response.text)
    if response.status_code >= 400:
        assert "detail" in response.json() or "error" in response.json()


@pytest.mark.parametrize("url", ["/items/9223372036854775808", "/items?offset=9223372036854775808"])
def test_demo_app_id_beyond_int64_is_a_4xx(demo, url):
    response = demo.get(url)
    assert 400 <= response.status_code < 500, response.text
