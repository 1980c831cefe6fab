"""Faster: configuration, lifespan, state, exception handlers, middleware, errors."""

import logging
import threading
from contextlib import asynccontextmanager

import anyio
import msgspec
import pytest

from FasterAPI import (
    Faster,
    HTTPException,
    JSONResponse,
    Middleware,
    PlainTextResponse,
    Request,
    RequestValidationError,
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


def test_exception_handler_by_class_along_mro():
    class AppError(Exception):
        pass

    class NotEnoughStock(AppError):
        pass

    app = Faster()

    @app.exception_handler(AppError)
    async def handle(request: Request, exc: AppError):
        return JSONResponse({"error": type(exc).__name__}, status_code=409)

    @app.get("/buy")
    async def buy():
        raise NotEnoughStock()

    response = TestClient(app).get("/buy")
    assert response.status_code == 409
    assert response.json() == {"error": "NotEnoughStock"}


def test_exception_handler_by_status_code_for_404_and_405():
    app = Faster()

    @app.exception_handler(404)
    def not_found(request: Request, exc: HTTPException):
        return PlainTextResponse(f"nothing at {request.url.path}", status_code=404)

    @app.exception_handler(405)
    async def not_allowed(request: Request, exc: HTTPException):
        return PlainTextResponse("no", status_code=405, headers=exc.headers)

    @app.get("/only-get")
    async def only_get():
        return "ok"

    client = TestClient(app)
    assert client.get("/missing").text == "nothing at /missing"
    response = client.post("/only-get")
    assert response.text == "no"
    assert response.headers["allow"] == "GET, HEAD"


def test_exception_handler_overrides_validation_errors():
    app = Faster(
        exception_handlers={
            RequestValidationError: lambda request, exc: JSONResponse(
                {"errors": len(exc.errors())}, status_code=400
            )
        }
    )

    @app.get("/n")
    async def n(value: int):
        return value

    response = TestClient(app).get("/n")
    assert response.status_code == 400
    assert response.json() == {"errors": 1}


def test_unhandled_exception_is_500_logged_and_reraised(caplog):
    app = Faster()

    @app.get("/bug")
    async def bug():
        raise ZeroDivisionError("oops")

    with pytest.raises(ZeroDivisionError):
        TestClient(app).get("/bug")
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="FasterAPI"):
        response = TestClient(app, raise_server_exceptions=False).get("/bug")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert "oops" not in response.text
    assert any(
        record.exc_info and record.exc_info[0] is ZeroDivisionError for record in caplog.records
    )


def test_unhandled_exception_custom_500_handler():
    app = Faster()

    @app.exception_handler(500)
    async def server_error(request: Request, exc: Exception):
        return JSONResponse({"sorry": True}, status_code=500)

    @app.get("/bug")
    async def bug():
        raise KeyError("x")

    response = TestClient(app, raise_server_exceptions=False).get("/bug")
    assert response.json() == {"sorry": True}


def test_debug_mode_shows_traceback():
    app = Faster(debug=True)

    @app.get("/bug")
    async def bug():
        raise ValueError("visible detail")

    response = TestClient(app, raise_server_exceptions=False).get("/bug")
    assert response.status_code == 500
    assert "visible detail" in response.text
    assert "Traceback" in response.text


def test_raw_asgi_unhandled_exception_sends_500_then_raises():
    app = Faster()

    @app.get("/bug")
    async def bug():
        raise RuntimeError("x")

    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/bug", "query_string": b"", "headers": []}
    with pytest.raises(RuntimeError):
        anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 500


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


def test_exception_handlers_and_middleware_see_the_path_parameters():
    from FasterAPI import HTTPException, JSONResponse, Request

    app = Faster()

    @app.exception_handler(HTTPException)
    async def handler(request: Request, exc: HTTPException):
        return JSONResponse({"params": request.path_params}, exc.status_code)

    @app.middleware("http")
    async def stamp(request: Request, call_next):
        response = await call_next(request)
        response.headers["x-params"] = ",".join(f"{k}={v}" for k, v in request.path_params.items())
        return response

    @app.get("/items/{item_id}")
    async def item(item_id: int):
        raise HTTPException(404)

    answer = TestClient(app).get("/items/5")
    assert answer.status_code == 404
    assert answer.json() == {"params": {"item_id": "5"}}
    assert answer.headers["x-params"] == "item_id=5"


@pytest.mark.parametrize("key", [500, Exception])
def test_debug_mode_wins_over_a_500_handler_under_either_key(key):
    from FasterAPI import JSONResponse

    app = Faster(debug=True)
    app.add_exception_handler(key, lambda request, exc: JSONResponse({"sorry": True}, 500))

    @app.get("/bug")
    async def bug():
        raise ValueError("visible detail")

    response = TestClient(app, raise_server_exceptions=False).get("/bug")
    assert response.status_code == 500
    assert "Traceback" in response.text
    app.debug = False
    quiet = TestClient(app, raise_server_exceptions=False).get("/bug")
    assert quiet.json() == {"sorry": True}


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


def test_exception_handler_reads_the_body_the_route_already_read():
    class Item(msgspec.Struct):
        a: int

    class Refused(Exception):
        pass

    app = Faster()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return JSONResponse({"sent": (await request.body()).decode()}, status_code=422)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        return JSONResponse({"sent": await request.json()}, status_code=409)

    @app.post("/model")
    async def model(item: Item):
        raise Refused()

    @app.post("/raw")
    async def raw(request: Request):
        await request.body()
        raise Refused()

    @app.post("/with-request")
    async def with_request(item: Item, request: Request):
        raise Refused()

    def post(path, body):
        outcome = {}

        def send():  # a handler waiting for a body message that never comes hangs
            outcome["response"] = TestClient(app).post(path, content=body)

        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        thread.join(5)
        assert "response" in outcome, f"POST {path} hung in the exception handler"
        return outcome["response"]

    assert post("/model", b'{"a": "x"}').json() == {"sent": '{"a": "x"}'}
    assert post("/model", b'{"a": 1}').json() == {"sent": {"a": 1}}
    assert post("/raw", b'{"a": 2}').json() == {"sent": {"a": 2}}
    assert post("/with-request", b'{"a": 3}').json() == {"sent": {"a": 3}}


def test_exception_handler_returning_no_response_is_a_logged_500(caplog):
    class Refused(Exception):
        pass

    app = Faster()

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        return {"detail": "refused"}  # a dict, not a Response

    @app.get("/refuse")
    async def refuse():
        raise Refused()

    with pytest.raises(TypeError, match="exception handler .*refused.* returned dict"):
        TestClient(app).get("/refuse")
    caplog.clear()
    response = TestClient(app, raise_server_exceptions=False).get("/refuse")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert "returned dict" in caplog.text


def test_response_validation_error_entries_locate_the_bad_field():
    from FasterAPI import ResponseValidationError

    class Item(msgspec.Struct):
        a: int
        tags: list[str] = []

    app = Faster()

    @app.exception_handler(ResponseValidationError)
    async def invalid_output(request: Request, exc: ResponseValidationError):
        return JSONResponse({"errors": exc.errors()}, status_code=500)

    @app.get("/wrong-type", response_model=Item)
    def wrong_type():
        return {"a": "nope"}

    @app.get("/missing")
    def missing_field() -> Item:
        return {"tags": []}  # type: ignore[return-value]

    @app.get("/nested", response_model=Item)
    def nested():
        return {"a": 1, "tags": ["x", 2]}

    client = TestClient(app)
    assert client.get("/wrong-type").json()["errors"] == [
        {
            "type": "int_parsing",
            "loc": ["response", "a"],
            "msg": "Expected `int`, got `str`",
            "input": "nope",
        }
    ]
    assert client.get("/missing").json()["errors"] == [
        {
            "type": "missing",
            "loc": ["response", "a"],
            "msg": "Field required",
            "input": {"tags": []},
        }
    ]
    assert client.get("/nested").json()["errors"] == [
        {
            "type": "string_type",
            "loc": ["response", "tags", 1],
            "msg": "Expected `str`, got `int`",
            "input": 2,
        }
    ]
