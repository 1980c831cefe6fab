"""Response classes on the wire, including every example of the "Custom Response Classes" page."""

import datetime
import json

import anyio
import msgpack
import msgspec
import pytest

from FasterAPI import (
    Faster,
    HTMLResponse,
    JSONResponse,
    MsgPackResponse,
    ORJSONResponse,
    PlainTextResponse,
    Query,
    RedirectResponse,
    UJSONResponse,
)
from FasterAPI.response import Response
from FasterAPI.testclient import TestClient


def call_raw(app, path="/", method="GET"):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": []}
    anyio.run(app, scope, receive, send)
    return sent


# -- the seed page's examples, as written ------------------------------------------------


def test_seed_json_response_with_status_and_headers():
    app = Faster()

    @app.get("/items")
    async def get_items():
        return JSONResponse(
            content={"items": []},
            status_code=200,
            headers={"X-Total-Count": "0"},
        )

    sent = call_raw(app, "/items")
    assert sent[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"x-total-count", b"0"),
            (b"content-length", b"12"),
            (b"content-type", b"application/json"),
        ],
    }
    assert sent[1] == {"type": "http.response.body", "body": b'{"items":[]}'}


def test_seed_pre_serialised_json_bytes_pass_through():
    app = Faster()
    _HEALTH_JSON = b'{"status":"ok"}'

    @app.get("/health")
    async def health():
        return JSONResponse(_HEALTH_JSON)

    response = TestClient(app).get("/health")
    assert response.content == b'{"status":"ok"}'
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == "15"
    assert JSONResponse(bytearray(b"[1]")).body == b"[1]"
    assert JSONResponse(memoryview(b"[2]")).body == b"[2]"


def test_seed_html_response():
    app = Faster()

    @app.get("/", response_class=HTMLResponse)
    async def homepage():
        return HTMLResponse("""
<!DOCTYPE html>
<html><body><h1>FasterAPI</h1></body></html>
""")

    response = TestClient(app).get("/")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "\n<!DOCTYPE html>\n<html><body><h1>FasterAPI</h1></body></html>\n"


def test_seed_plain_text_response():
    app = Faster()

    @app.get("/health")
    async def health():
        return PlainTextResponse("OK")

    response = TestClient(app).get("/health")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "2"
    assert response.content == b"OK"


def test_seed_redirect_response():
    app = Faster()

    @app.get("/old-path")
    async def old_path():
        return RedirectResponse(url="/new-path", status_code=301)

    response = TestClient(app, follow_redirects=False).get("/old-path")
    assert response.status_code == 301
    assert response.headers["location"] == "/new-path"
    assert response.content == b""


def test_seed_msgpack_subclass_returned_and_as_response_class():
    class MsgPackResponse(Response):
        media_type = "application/msgpack"

        def _render(self, content):
            return msgpack.packb(content, use_bin_type=True)

    app = Faster()

    @app.get("/data", response_class=MsgPackResponse)
    async def packed_data():
        return MsgPackResponse({"key": "value"})

    @app.get("/plain", response_class=MsgPackResponse)
    async def plain():
        return {"key": "value"}

    client = TestClient(app)
    for path in ("/data", "/plain"):
        response = client.get(path)
        assert response.headers["content-type"] == "application/msgpack"
        assert msgpack.unpackb(response.content) == {"key": "value"}


def test_seed_response_headers_in_handler():
    app = Faster()

    @app.get("/items")
    async def items_with_etag():
        return JSONResponse(
            {"items": []},
            headers={"ETag": '"abc123"', "Cache-Control": "max-age=60"},
        )

    response = TestClient(app).get("/items")
    assert response.headers["etag"] == '"abc123"'
    assert response.headers["cache-control"] == "max-age=60"


# -- behaviour beyond the examples --------------------------------------------------------


def test_response_class_applies_to_plain_return_values():
    app = Faster()

    @app.get("/page", response_class=HTMLResponse)
    async def page():
        return "<p>hi</p>"

    response = TestClient(app).get("/page")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<p>hi</p>"


def test_response_media_type_override_and_charset():
    response = PlainTextResponse("x", media_type="text/csv")
    assert (b"content-type", b"text/csv; charset=utf-8") in response.raw_headers
    response = HTMLResponse("x", media_type="application/xhtml+xml")
    assert (b"content-type", b"application/xhtml+xml") in response.raw_headers


def test_response_no_body_for_204_304_and_1xx():
    for status in (204, 304):
        response = Response("ignored", status_code=status)
        assert response.body == b""
        assert all(name != b"content-length" for name, _ in response.raw_headers)


def test_response_head_sends_headers_without_body():
    app = Faster()

    @app.get("/x")
    async def x():
        return PlainTextResponse("hello")

    sent = call_raw(app, "/x", method="HEAD")
    assert (b"content-length", b"5") in sent[0]["headers"]
    assert sent[1]["body"] == b""


def test_response_repeated_headers_and_cookies():
    response = Response("x")
    response.headers.append("set-cookie", "a=1")
    response.set_cookie("b", "2", max_age=10, httponly=True, secure=True, samesite="strict")
    cookies = [value for name, value in response.raw_headers if name == b"set-cookie"]
    assert cookies == [b"a=1", b"b=2; Max-Age=10; Path=/; Secure; HttpOnly; SameSite=Strict"]


def test_response_set_cookie_quotes_unsafe_values_and_partitioned():
    response = Response()
    response.set_cookie("session", "a b;c", partitioned=True, domain="example.com", path="/x")
    header = dict(response.raw_headers)[b"set-cookie"].decode()
    assert header.startswith('session="a b\\073c"')
    assert "Domain=example.com; Path=/x" not in header
    assert "Path=/x; Domain=example.com" in header
    assert header.endswith("Partitioned")


def test_response_cookie_expires_datetime_and_delete_cookie():
    response = Response()
    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    response.set_cookie("a", "1", expires=when)
    response.delete_cookie("b")
    cookies = [v.decode() for n, v in response.raw_headers if n == b"set-cookie"]
    assert cookies[0] == "a=1; expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/; SameSite=Lax"
    assert cookies[1].startswith('b=""; Max-Age=0; expires=')


@pytest.mark.parametrize("bad", ["a\r\nb", "a\nb", "a\x00b"])
def test_response_header_injection_is_refused(bad):
    with pytest.raises(ValueError):
        Response("x", headers={"x-bad": bad})
    with pytest.raises(ValueError):
        Response("x", headers={bad: "v"})
    with pytest.raises(ValueError):
        Response().headers["x"] = bad
    with pytest.raises(ValueError):
        RedirectResponse(f"/next{bad}")
    with pytest.raises(ValueError):
        Response().set_cookie("name", "v", domain=bad)


def test_response_invalid_cookie_name_and_samesite():
    with pytest.raises(ValueError):
        Response().set_cookie("bad name", "v")
    with pytest.raises(ValueError):
        Response().set_cookie("ok", "v", samesite="sometimes")


def test_redirect_response_quotes_url():
    response = RedirectResponse("/a path/ü?q=1 2")
    assert dict(response.raw_headers)[b"location"] == b"/a%20path/%C3%BC?q=1%202"
    assert response.status_code == 307


def test_json_response_variants_encode_with_msgspec():
    class Point(msgspec.Struct):
        x: int

    for cls in (JSONResponse, ORJSONResponse, UJSONResponse):
        assert cls({"p": Point(1)}).body == b'{"p":{"x":1}}'


def test_msgpack_response_shipped():
    response = MsgPackResponse({"a": [1, 2]})
    assert msgpack.unpackb(response.body) == {"a": [1, 2]}
    assert (b"content-type", b"application/msgpack") in response.raw_headers


def test_response_refuses_unrenderable_content():
    with pytest.raises(TypeError):
        PlainTextResponse({"not": "text"})


def test_response_background_runs_after_send():
    from FasterAPI.background import BackgroundTask

    order = []
    app = Faster()

    @app.get("/bg")
    async def bg():
        return PlainTextResponse("done", background=BackgroundTask(order.append, "task"))

    response = TestClient(app).get("/bg")
    assert response.text == "done"
    assert order == ["task"]


def test_response_media_type_with_newline_is_refused():
    with pytest.raises(ValueError):
        Response("x", media_type="text/plain\r\nx-injected: 1")


def test_response_subclass_overriding_render_is_used():
    class IndentedJSON(Response):
        media_type = "application/json"

        def render(self, content):
            return json.dumps(content, indent=2).encode()

    class Shouting(PlainTextResponse):
        def render(self, content):
            return content.upper().encode()

    class Bracketed(JSONResponse):
        def render(self, content):
            return b"[" + super().render(content) + b"]"

    app = Faster()

    @app.get("/indented", response_class=IndentedJSON)
    async def indented():
        return {"a": 1}

    @app.get("/returned")
    async def returned():
        return IndentedJSON({"a": 1})

    @app.get("/shout", response_class=Shouting)
    async def shout():
        return "hello"

    @app.get("/bracketed", response_class=Bracketed)
    async def bracketed():
        return {"a": 1}

    client = TestClient(app)
    for path in ("/indented", "/returned"):
        answer = client.get(path)
        assert answer.text == '{\n  "a": 1\n}'
        assert answer.headers["content-length"] == str(len(answer.content))
    assert client.get("/shout").text == "HELLO"
    assert client.get("/bracketed").text == '[{"a":1}]'


def test_redirect_response_class_answers_307_by_default():
    app = Faster()

    @app.get("/go", response_class=RedirectResponse)
    async def go():
        return "https://example.com/next"

    @app.get("/moved", response_class=RedirectResponse, status_code=301)
    async def moved():
        return "https://example.com/new"

    client = TestClient(app, follow_redirects=False)
    answer = client.get("/go")
    assert answer.status_code == 307
    assert answer.headers["location"] == "https://example.com/next"
    assert client.get("/moved").status_code == 301
    responses = client.get("/openapi.json").json()["paths"]["/go"]["get"]["responses"]
    assert "307" in responses and "200" not in responses


def test_declared_charset_in_any_case_is_kept_alone():
    response = Response("é".encode("latin-1"), media_type="text/plain; Charset=latin-1")
    assert response.headers["content-type"] == "text/plain; Charset=latin-1"


def test_cookie_expires_text_cannot_add_attributes():
    response = Response()
    with pytest.raises(ValueError, match="expires"):
        response.set_cookie("a", "1", expires="x; Domain=evil.example")
    response.set_cookie("a", "1", expires="Wed, 21 Oct 2037 07:28:00 GMT")
    assert "expires=Wed, 21 Oct 2037 07:28:00 GMT" in response.headers["set-cookie"]


def test_msgpack_response_model_filters_keep_native_types():
    class Record(msgspec.Struct):
        data: bytes
        at: datetime.datetime
        note: str | None = None

    app = Faster()
    at = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)

    @app.get(
        "/r",
        response_model=Record,
        response_class=MsgPackResponse,
        response_model_exclude_none=True,
    )
    async def record():
        return Record(b"\x00\x01", at)

    decoded = msgpack.unpackb(TestClient(app).get("/r").content, timestamp=3)
    assert decoded == {"data": b"\x00\x01", "at": at}


def test_floats_json_cannot_hold_are_null_and_bounds_refuse_them():
    app = Faster()

    @app.get("/computed")
    def computed():
        return {"nan": float("nan"), "inf": float("inf"), "neg": float("-inf"), "ok": 1.5}

    @app.get("/bounded")
    def bounded(x: float = Query(ge=0, le=100)):
        return {"x": x}

    @app.post("/echo")
    def echo(value: dict):
        return value

    client = TestClient(app)
    assert json.loads(client.get("/computed").content) == {
        "nan": None,
        "inf": None,
        "neg": None,
        "ok": 1.5,
    }
    for text in ("nan", "inf", "-inf"):
        assert client.get(f"/bounded?x={text}").status_code == 422
    assert client.get("/bounded?x=2.5").json() == {"x": 2.5}
    refused = client.post(
        "/echo", content=b'{"a": NaN}', headers={"content-type": "application/json"}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "json_invalid"


def test_response_stated_content_length_follows_the_body():
    stated = Response(b"hello world", headers={"Content-Length": "5"})
    assert stated.raw_headers == [(b"content-length", b"11")]
    # No body: a HEAD answer may state the length a GET would have.
    assert Response(headers={"Content-Length": "1234"}).headers["content-length"] == "1234"
