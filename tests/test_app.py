"""Faster: configuration, lifespan, state, middleware, response models and encoding."""

from contextlib import asynccontextmanager

import anyio
import msgspec
import pytest

from FasterAPI import (
    Faster,
    JSONResponse,
    Middleware,
    PlainTextResponse,
    Request,
    Response,
)
from FasterAPI.testclient import TestClient


def test_app_accepts_fastapi_style_keywords():
    app = Faster(
        title="T",
        version="2.0",
        description="d",
        openapi_url="/o.json",
        docs_url=None,
        redoc_url=None,
        openapi_tags=[{"name": "x"}],
        servers=[{"url": "/"}],
        root_path="",
        debug=False,
        redirect_slashes=True,
        max_body_size=1024,
    )
    assert (app.title, app.version, app.description) == ("T", "2.0", "d")
    assert app.docs_url is None
    assert app.routes == []
    with pytest.raises(TypeError):
        Faster(titel="typo")


def test_app_state_is_attribute_style():
    app = Faster()
    app.state.counter = 3

    @app.get("/count")
    async def count(request: Request):
        return request.app.state.counter

    assert TestClient(app).get("/count").json() == 3
    with pytest.raises(AttributeError):
        _ = app.state.missing


def test_lifespan_context_state_reaches_requests():
    events = []

    @asynccontextmanager
    async def lifespan(app):
        events.append("start")
        yield {"db": "connected"}
        events.append("stop")

    app = Faster(lifespan=lifespan)

    @app.get("/db")
    async def db(request: Request):
        return request.state.db

    with TestClient(app) as client:
        assert events == ["start"]
        assert client.get("/db").json() == "connected"
    assert events == ["start", "stop"]


def test_lifespan_startup_and_shutdown_hooks():
    events = []
    app = Faster(on_startup=[lambda: events.append("init-sync")])

    @app.on_startup
    async def start():
        events.append("start")

    @app.on_event("shutdown")
    def stop():
        events.append("stop")

    with TestClient(app):
        assert events == ["init-sync", "start"]
    assert events == ["init-sync", "start", "stop"]


def test_lifespan_startup_failure_is_raised_by_test_client():
    app = Faster()

    @app.on_startup
    async def broken():
        raise RuntimeError("no database")

    with pytest.raises(RuntimeError, match="no database"):
        with TestClient(app):
            pass


def test_lifespan_startup_failure_sends_failed_message():
    app = Faster()

    @app.on_startup
    async def broken():
        raise RuntimeError("nope")

    sent = []
    messages = [{"type": "lifespan.startup"}]

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    with pytest.raises(RuntimeError):
        anyio.run(app, {"type": "lifespan"}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "nope" in sent[0]["message"]


def test_lifespan_every_shutdown_hook_runs_even_if_one_fails(caplog):
    events = []
    app = Faster()

    @app.on_shutdown
    def first():
        events.append("first")
        raise RuntimeError("first failed")

    @app.on_shutdown
    def second():
        events.append("second")

    with pytest.raises(RuntimeError, match="first failed"):
        with TestClient(app):
            pass
    assert events == ["first", "second"]


class HeaderMiddleware:
    def __init__(self, app, name: str):
        self.app = app
        self.name = name

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message):
            if message["type"] == "http.response.start":
                headers = list(message["headers"])
                order = dict(headers).get(b"x-order", b"").decode()
                headers = [h for h in headers if h[0] != b"x-order"]
                headers.append((b"x-order", f"{order}{self.name}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, wrapped)


def test_middleware_last_added_is_outermost():
    app = Faster()
    app.add_middleware(HeaderMiddleware, name="inner,")
    app.add_middleware(HeaderMiddleware, name="outer")

    @app.get("/")
    async def root():
        return "ok"

    # The innermost middleware sees the response first, the outermost last.
    assert TestClient(app).get("/").headers["x-order"] == "inner,outer"


def test_middleware_declared_in_constructor():
    # The first in the list is the outermost, as in Starlette.
    app = Faster(
        middleware=[
            Middleware(HeaderMiddleware, name="outer"),
            Middleware(HeaderMiddleware, name="inner,"),
        ]
    )

    @app.get("/")
    async def root():
        return "ok"

    assert TestClient(app).get("/").headers["x-order"] == "inner,outer"


def test_middleware_error_inside_still_gets_500_and_reraises():
    class Exploding:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            if scope["type"] == "http":
                raise RuntimeError("middleware broke")
            await self.app(scope, receive, send)

    app = Faster()
    app.add_middleware(Exploding)

    @app.get("/")
    async def root():
        return "ok"

    with pytest.raises(RuntimeError):
        TestClient(app).get("/")
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500


def test_middleware_cannot_be_added_after_start():
    app = Faster()

    @app.get("/")
    async def root():
        return "ok"

    TestClient(app).get("/")
    with pytest.raises(RuntimeError):
        app.add_middleware(HeaderMiddleware, name="late")


def test_response_model_filters_and_validates_output():
    class Public(msgspec.Struct):
        name: str

    app = Faster()

    @app.get("/user", response_model=Public)
    async def user():
        return {"name": "ann", "password": "secret"}

    @app.get("/annotated")
    async def annotated() -> Public:
        return {"name": "bob", "password": "x"}

    @app.get("/broken", response_model=Public)
    async def broken():
        return {"nome": "typo"}

    @app.get("/exclude-none", response_model_exclude_none=True)
    async def exclude_none():
        return {"a": 1, "b": None}

    @app.get("/include", response_model_include={"a"})
    async def include():
        return {"a": 1, "b": 2}

    @app.get("/exclude", response_model_exclude={"b"})
    async def exclude():
        return [{"a": 1, "b": 2}]

    @app.get("/no-model", response_model=None)
    async def no_model() -> Public:
        return {"anything": True}

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/user").json() == {"name": "ann"}
    assert client.get("/annotated").json() == {"name": "bob"}
    assert client.get("/broken").status_code == 500
    assert client.get("/exclude-none").json() == {"a": 1}
    assert client.get("/include").json() == {"a": 1}
    assert client.get("/exclude").json() == [{"a": 1}]
    assert client.get("/no-model").json() == {"anything": True}


def test_response_model_union_of_untagged_structs_tries_each_member():
    class Cat(msgspec.Struct):
        meows: int

    class Dog(msgspec.Struct):
        barks: str

    app = Faster()

    @app.get("/pet/{kind}")
    async def pet(kind: str) -> Cat | Dog:
        return Cat(3) if kind == "cat" else {"barks": "woof", "secret": 1}

    @app.get("/pets")
    async def pets() -> list[Cat | dict]:
        return [{"meows": "2"}, {"free": "form"}, Cat(1)]

    @app.get("/named", response_model=dict[str, Cat | Dog])
    async def named():
        return {"tom": {"meows": 1}, "rex": {"barks": "w"}}

    @app.get("/neither")
    async def neither() -> Cat | Dog:
        return {"quacks": True}

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/pet/cat").json() == {"meows": 3}
    assert client.get("/pet/dog").json() == {"barks": "woof"}
    # A dict is a member as it is: it stays as sent, the first member is not forced on it.
    assert client.get("/pets").json() == [{"meows": "2"}, {"free": "form"}, {"meows": 1}]
    assert client.get("/named").json() == {"tom": {"meows": 1}, "rex": {"barks": "w"}}
    assert client.get("/neither").status_code == 500
    schema = client.get("/openapi.json").json()
    content = schema["paths"]["/pet/{kind}"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {
        "anyOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]
    }
    content = schema["paths"]["/pets"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {
        "type": "array",
        "items": {"anyOf": [{"$ref": "#/components/schemas/Cat"}, {"type": "object"}]},
    }


def test_response_model_that_cannot_be_checked_fails_at_definition():
    class Cat(msgspec.Struct):
        meows: int

    class Dog(msgspec.Struct):
        barks: str

    app = Faster()
    with pytest.raises(TypeError, match="cannot be validated"):

        @app.get("/pair", response_model=tuple[Cat | Dog, int])
        async def pair():
            return ({"meows": 1}, 2)


def test_status_205_sends_no_content():
    app = Faster()

    @app.post("/form-reset", status_code=205)
    async def form_reset():
        return None

    @app.post("/changed")
    async def changed(response: Response):
        response.status_code = 205
        return {"ignored": True}

    client = TestClient(app)
    for path in ("/form-reset", "/changed"):
        response = client.post(path)
        assert response.status_code == 205
        assert response.content == b""
        assert response.headers["content-length"] == "0"
        assert "content-type" not in response.headers


def test_status_code_204_sends_no_body():
    app = Faster()

    @app.delete("/thing", status_code=204)
    async def delete():
        return None

    response = TestClient(app).delete("/thing")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers


def test_return_values_are_json_encoded():
    import dataclasses
    import datetime
    import uuid

    @dataclasses.dataclass
    class Point:
        x: int

    app = Faster()
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")

    @app.get("/values")
    async def values():
        return {
            "point": Point(1),
            "when": datetime.date(2024, 1, 2),
            "id": ident,
            "list": [1, "a", None],
            "float": 1.5,
        }

    @app.get("/string")
    async def string():
        return "plain"

    response = TestClient(app).get("/values")
    assert response.content == (
        b'{"point":{"x":1},"when":"2024-01-02","id":"12345678-1234-5678-1234-567812345678",'
        b'"list":[1,"a",null],"float":1.5}'
    )
    assert TestClient(app).get("/string").content == b'"plain"'


def test_default_response_class_on_app_and_router():
    from FasterAPI import FasterRouter, HTMLResponse

    app = Faster(default_response_class=PlainTextResponse)

    @app.get("/text")
    async def text():
        return "hello"

    router = FasterRouter(default_response_class=HTMLResponse)

    @router.get("/html")
    async def html():
        return "<b>hi</b>"

    app.include_router(router)
    client = TestClient(app)
    response = client.get("/text")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "hello"
    response = client.get("/html")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<b>hi</b>"


def test_app_middleware_decorator_wraps_requests():
    app = Faster()

    @app.middleware("http")
    async def add_timing_header(request: Request, call_next):
        response = await call_next(request)
        response.headers["x-path"] = request.url.path
        return response

    @app.get("/hello")
    async def hello():
        return "hi"

    response = TestClient(app).get("/hello")
    assert response.json() == "hi"
    assert response.headers["x-path"] == "/hello"
    with pytest.raises(ValueError):
        app.middleware("websocket")


def test_app_lifespan_state_reaches_requests_through_middleware():
    from FasterAPI.middleware.requestid import RequestIDMiddleware

    @asynccontextmanager
    async def lifespan(app):
        yield {"db": "up"}

    app = Faster(lifespan=lifespan)
    app.add_middleware(RequestIDMiddleware)

    @app.get("/state")
    async def state(request: Request):
        return {"db": request.state.db, "has_id": bool(request.state.request_id)}

    with TestClient(app) as client:
        assert client.get("/state").json() == {"db": "up", "has_id": True}


def test_middleware_wraps_the_answers_of_fast_routes():
    app = Faster()

    @app.middleware("http")
    async def stamp(request, call_next):
        response = await call_next(request)
        response.headers["x-stamped"] = "yes"
        return response

    @app.get("/json")
    async def json_route():
        return {"ok": True}

    @app.get("/text", response_class=PlainTextResponse)
    async def text_route():
        return "hi"

    client = TestClient(app)
    for path, body in (("/json", b'{"ok":true}'), ("/text", b"hi")):
        response = client.get(path)
        assert response.headers["x-stamped"] == "yes"
        assert response.content == body
        assert response.headers["content-length"] == str(len(body))


def test_fast_route_answers_carry_one_content_length_and_type():
    app = Faster()

    @app.post("/items", status_code=201)
    async def create(item: dict):
        return item

    response = TestClient(app).post("/items", json={"a": 1})
    assert response.status_code == 201
    assert response.content == b'{"a":1}'
    assert response.headers.get_list("content-length") == ["7"]
    assert response.headers.get_list("content-type") == ["application/json"]
    head = TestClient(app).head("/items")
    assert head.status_code == 405


def test_return_values_fastapi_encodes_are_json_encoded_too():
    import collections
    import ipaddress
    import pathlib

    class Plain:
        def __init__(self):
            self.name = "a"
            self._secret = "hidden"

    app = Faster()

    @app.get("/values")
    async def values():
        return {
            "path": pathlib.PurePosixPath("/srv/data.csv"),
            "ip": ipaddress.ip_address("10.0.0.1"),
            "net": ipaddress.ip_network("10.0.0.0/8"),
            "queue": collections.deque([1, 2]),
            "squares": (n * n for n in range(3)),
            "object": Plain(),
        }

    @app.get("/path")
    def path() -> pathlib.Path:
        return pathlib.Path("/tmp")

    @app.get("/response")
    def response():
        return JSONResponse({"path": pathlib.PurePosixPath("/x")})

    client = TestClient(app)
    assert client.get("/values").json() == {
        "path": "/srv/data.csv",
        "ip": "10.0.0.1",
        "net": "10.0.0.0/8",
        "queue": [1, 2],
        "squares": [0, 1, 4],
        "object": {"name": "a"},
    }
    assert client.get("/path").json() == "/tmp"
    assert client.get("/response").json() == {"path": "/x"}
