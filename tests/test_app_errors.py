"""Exception handlers: by class and status code, the 500 path, debug pages, handler failures."""

import logging
import threading

import anyio
import msgspec
import pytest

from FasterAPI import (
    Faster,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    Request,
    RequestValidationError,
)
from FasterAPI.testclient import TestClient


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


def test_custom_handlers_can_answer_with_the_default_handlers():
    from FasterAPI.exception_handlers import (
        http_exception_handler,
        request_validation_exception_handler,
    )
    from FasterAPI.exceptions import RequestValidationError

    app = Faster()
    seen = []

    @app.exception_handler(HTTPException)
    async def counted(request, exc):
        seen.append(exc.status_code)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def logged(request, exc):
        seen.append("invalid")
        return await request_validation_exception_handler(request, exc)

    @app.get("/items/{item_id}")
    async def item(item_id: int):
        raise HTTPException(404, "no such item", headers={"x-why": "gone"})

    client = TestClient(app)
    missing = client.get("/items/3")
    assert (missing.status_code, missing.json()) == (404, {"detail": "no such item"})
    assert missing.headers["x-why"] == "gone"
    invalid = client.get("/items/x")
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["path", "item_id"]
    assert seen == [404, "invalid"]
