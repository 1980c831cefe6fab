"""JSON request bodies: Structs, dataclasses, TypedDicts, embedding, limits and bad input."""

import dataclasses
from typing import Annotated, Optional, TypedDict

import anyio
import msgspec
import pytest

from FasterAPI import Body, Faster, FasterRouter, Form
from FasterAPI.testclient import TestClient


class Item(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(gt=0)]
    tags: list[str] = []


class Owner(msgspec.Struct):
    username: str


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Settings(TypedDict):
    theme: str


def app_with_routes() -> Faster:
    app = Faster()

    @app.post("/items", status_code=201)
    async def create(item: Item) -> Item:
        return item

    @app.post("/points")
    async def points(point: Point):
        return {"sum": point.x + point.y}

    @app.post("/settings")
    async def settings(settings: Settings):
        return settings

    @app.post("/pair")
    async def pair(item: Item, owner: Owner):
        return {"item": item.name, "owner": owner.username}

    @app.post("/embedded")
    async def embedded(item: Item = Body(embed=True)):
        return item.name

    @app.post("/scalar")
    async def scalar(count: int = Body()):
        return count + 1

    @app.post("/mixed")
    async def mixed(item: Item, importance: int = Body(gt=0)):
        return {"item": item.name, "importance": importance}

    @app.post("/optional")
    async def optional(item: Optional[Item] = None):
        return item is None

    @app.post("/items-list")
    async def many(items: list[Item]):
        return len(items)

    return app


client = TestClient(app_with_routes())


def test_body_struct_round_trip_with_201():
    response = client.post("/items", json={"name": "pen", "price": 1.5})
    assert response.status_code == 201
    assert response.json() == {"name": "pen", "price": 1.5, "tags": []}
    assert response.headers["content-length"] == str(len(response.content))


def test_body_dataclass_and_typeddict():
    assert client.post("/points", json={"x": 1, "y": 2}).json() == {"sum": 3}
    assert client.post("/settings", json={"theme": "dark"}).json() == {"theme": "dark"}


def test_body_several_models_are_embedded_by_name():
    response = client.post(
        "/pair", json={"item": {"name": "pen", "price": 1}, "owner": {"username": "ann"}}
    )
    assert response.json() == {"item": "pen", "owner": "ann"}


def test_body_embed_true_and_scalar_body():
    assert client.post("/embedded", json={"item": {"name": "cup", "price": 2}}).json() == "cup"
    assert client.post("/scalar", json=41).json() == 42


def test_body_mixed_model_and_scalar_body_field():
    response = client.post("/mixed", json={"item": {"name": "a", "price": 1}, "importance": 0})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "importance"]


def test_body_validation_error_location_and_input():
    response = client.post("/items", json={"name": "pen", "price": -1})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "greater_than",
                "loc": ["body", "price"],
                "msg": "Expected `float` > 0.0",
                "input": -1,
            }
        ]
    }


def test_body_nested_location_in_list():
    response = client.post("/items-list", json=[{"name": "a", "price": 1}, {"name": 2}])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 1, "name"]


def test_body_missing_field_and_missing_body():
    response = client.post("/items", json={"name": "pen"})
    assert response.json()["detail"] == [
        {
            "type": "missing",
            "loc": ["body", "price"],
            "msg": "Field required",
            "input": {"name": "pen"},
        }
    ]
    response = client.post("/items")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert response.json()["detail"][0]["type"] == "missing"


def test_body_optional_may_be_absent():
    assert client.post("/optional").json() is True


def test_body_malformed_json_is_422_with_position():
    response = client.post(
        "/items", content=b'{"name": x}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["type"] == "json_invalid"
    assert error["loc"] == ["body", 9]


def test_body_truncated_json_is_422():
    response = client.post(
        "/items", content=b'{"name": "x"', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_body_invalid_utf8_is_4xx():
    response = client.post(
        "/items",
        content=b'{"name": "\xff", "price": 1}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422


def test_body_deeply_nested_json_is_4xx():
    deep = b"[" * 100_000 + b"]" * 100_000
    response = client.post(
        "/items-list", content=deep, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_body_wrong_content_type_is_415():
    response = client.post("/items", content=b"name=pen", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "JSON" in response.json()["detail"]


def test_body_json_suffix_content_type_is_accepted():
    response = client.post(
        "/items",
        content=b'{"name":"a","price":1}',
        headers={"content-type": "application/vnd.api+json; charset=utf-8"},
    )
    assert response.status_code == 201


def test_body_over_limit_by_content_length_is_413_before_reading():
    app = Faster(max_body_size=10)
    received = []

    @app.post("/small")
    async def small(item: Item):
        return "never"

    async def receive():
        received.append(1)
        return {"type": "http.request", "body": b"x" * 100, "more_body": False}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/small",
        "query_string": b"",
        "headers": [(b"content-length", b"100"), (b"content-type", b"application/json")],
    }
    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 413
    assert received == []


def test_body_over_limit_while_streaming_is_413():
    app = Faster(max_body_size=10)

    @app.post("/small")
    async def small(item: Item):
        return "never"

    chunks = [b"x" * 8, b"x" * 8, b"x" * 8]
    taken = []

    async def receive():
        taken.append(1)
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/small", "query_string": b"", "headers": []}
    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 413
    assert len(taken) == 2


def test_body_limit_per_router_and_route():
    router = FasterRouter(max_body_size=5)

    @router.post("/tiny")
    async def tiny(value: int = Body()):
        return value

    app = Faster()
    app.include_router(router)

    @app.post("/roomy", max_body_size=1000)
    async def roomy(value: str = Body()):
        return len(value)

    client = TestClient(app)
    assert client.post("/tiny", json=123456).status_code == 413
    assert client.post("/tiny", json=1).json() == 1
    assert client.post("/roomy", json="x" * 500).json() == 500


def test_form_urlencoded_fields():
    app = Faster()

    @app.post("/login")
    async def login(username: str = Form(), remember: bool = Form(False)):
        return {"username": username, "remember": remember}

    client = TestClient(app)
    assert client.post("/login", data={"username": "ann", "remember": "on"}).json() == {
        "username": "ann",
        "remember": True,
    }
    response = client.post("/login", data={"remember": "on"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "username"]


def test_body_lax_numbers_like_fastapi():
    app = Faster()

    @app.post("/count")
    async def count(value: int = Body(embed=True)):
        return value

    client = TestClient(app)
    assert client.post("/count", json={"value": 3.0}).json() == 3
    assert client.post("/count", json={"value": 3.5}).status_code == 422


def test_form_without_any_body_is_422_missing():
    app = Faster()

    @app.post("/login")
    async def login(username: str = Form()):
        return username

    response = TestClient(app).post("/login")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "username"]


def test_validation_error_carries_the_body_as_received():
    from FasterAPI import Header, JSONResponse, Request, RequestValidationError

    app = Faster()

    @app.exception_handler(RequestValidationError)
    async def echo(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"errors": len(exc.errors()), "body": exc.body}, status_code=422)

    @app.post("/items")
    async def create(item: Item):
        return item

    @app.post("/tagged")
    async def tagged(item: Item, x_tag: Annotated[int, Header()]):
        return item

    @app.post("/with-request")
    async def with_request(item: Item, request: Request):
        return item

    @app.post("/form")
    async def form(age: Annotated[int, Form()]):
        return age

    @app.get("/no-body")
    async def no_body(n: int):
        return n

    client = TestClient(app)
    bad = {"name": "pen", "price": "cheap"}
    for path in ("/items", "/with-request"):
        assert client.post(path, json=bad).json() == {"errors": 1, "body": bad}
    # An error elsewhere still reports the (valid) body, as plain data.
    good = {"name": "pen", "price": 2.5}
    response = client.post("/tagged", json=good, headers={"x-tag": "no"})
    assert response.json() == {"errors": 1, "body": good}
    broken = client.post(
        "/items", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert broken.json() == {"errors": 1, "body": '{"name": '}
    assert client.post("/items").json() == {"errors": 1, "body": None}
    assert client.post("/form", data={"age": "old"}).json() == {"errors": 1, "body": {"age": "old"}}
    assert client.get("/no-body?n=x").json() == {"errors": 1, "body": None}


@dataclasses.dataclass
class Order:
    item: str
    quantity: int = 1
    note: Optional[str] = None


class Basket(msgspec.Struct):
    orders: list[Order]
    by_name: dict[str, Order] = {}
    first: Optional[Order] = None


def test_dataclass_defaults_survive_the_round_trip():
    app = Faster()

    @app.post("/order")
    async def order(order: Order) -> Order:
        return order

    @app.post("/basket")
    async def basket(basket: Basket):
        return basket

    @app.get("/checked")
    async def checked() -> list[Order]:
        return [{"item": "pen"}, Order(item="ink", quantity=3)]

    client = TestClient(app)
    full = {"item": "pen", "quantity": 1, "note": None}
    assert client.post("/order", json={"item": "pen"}).json() == full
    sent = {
        "orders": [{"item": "pen"}],
        "by_name": {"p": {"item": "pen"}},
        "first": {"item": "pen"},
    }
    assert client.post("/basket", json=sent).json() == {
        "orders": [full],
        "by_name": {"p": full},
        "first": full,
    }
    assert client.get("/checked").json() == [full, {"item": "ink", "quantity": 3, "note": None}]


class Cat(msgspec.Struct):
    meows: int


@dataclasses.dataclass
class Dog:
    barks: str
    good: bool = True


def test_body_union_of_untagged_models_tries_each_member():
    app = Faster()

    @app.post("/pet")
    async def pet(pet: Cat | Dog):
        return {"kind": type(pet).__name__, "pet": pet}

    @app.post("/pair")
    async def pair(a: Cat | Dog, note: str = Body(), b: Optional[Cat | dict] = Body(None)):
        return {"a": a, "note": note, "b": b}

    client = TestClient(app)
    assert client.post("/pet", json={"meows": "3"}).json() == {"kind": "Cat", "pet": {"meows": 3}}
    dog = {"barks": "w", "good": True}
    assert client.post("/pet", json={"barks": "w"}).json() == {"kind": "Dog", "pet": dog}
    refused = client.post("/pet", json={"quacks": 1})
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body"]
    assert "meows" in error["msg"] and "barks" in error["msg"]
    sent = {"a": {"barks": "w"}, "note": "n", "b": {"free": 1}}
    assert client.post("/pair", json=sent).json() == {"a": dog, "note": "n", "b": {"free": 1}}
    refused = client.post("/pair", json={"a": {"nope": 1}, "note": "n"})
    assert [e["loc"] for e in refused.json()["detail"]] == [["body", "a"]]
    schema = client.get("/openapi.json").json()["paths"]["/pet"]["post"]["requestBody"]
    assert schema["content"]["application/json"]["schema"]["anyOf"] == [
        {"$ref": "#/components/schemas/Cat"},
        {"$ref": "#/components/schemas/Dog"},
    ]


def test_body_of_one_bytes_or_str_field_is_taken_as_sent_in_other_media_types():
    app = Faster()

    @app.post("/upload")
    async def upload(data: bytes = Body(media_type="application/octet-stream")):
        return {"size": len(data), "head": data[:4].hex()}

    @app.post("/note")
    async def note(text: Annotated[str, Body(max_length=5)]):
        return {"text": text}

    @app.post("/maybe")
    async def maybe(data: Optional[bytes] = Body(default=None)):
        return {"size": None if data is None else len(data)}

    @app.post("/number")
    async def number(value: int = Body()):
        return value

    client = TestClient(app)
    binary = bytes(range(256)) * 4
    sent = client.post("/upload", content=binary, headers={"content-type": "image/png"})
    assert sent.json() == {"size": 1024, "head": "00010203"}

    def post_note(body: bytes, content_type: str):
        return client.post("/note", content=body, headers={"content-type": content_type})

    latin = "héllo".encode("latin-1")
    assert post_note(latin, "text/plain; charset=ISO-8859-1").json() == {"text": "héllo"}
    assert post_note("héllo".encode(), "text/plain").json() == {"text": "héllo"}
    too_long = post_note(b"too long", "text/plain")
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["type"] == "string_too_long"
    not_utf8 = post_note(b"\xff", "text/plain")
    assert not_utf8.status_code == 422
    assert not_utf8.json()["detail"][0]["type"] == "string_unicode"
    assert post_note(b"x", "text/plain; charset=no-such").status_code == 415
    # JSON stays JSON, a missing body takes the default, other types still need JSON.
    assert client.post("/note", json="abc").json() == {"text": "abc"}
    assert client.post("/maybe").json() == {"size": None}
    assert client.post("/maybe", content=b"abc", headers={"content-type": "a/b"}).json() == {
        "size": 3
    }
    five = client.post("/number", content=b"5", headers={"content-type": "text/plain"})
    assert five.status_code == 415


class StrictItem(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    owner: Optional["StrictItem"] = None


def test_body_unknown_field_of_a_strict_struct_is_extra_forbidden_at_the_field():
    app = Faster()

    @app.post("/strict")
    async def strict(item: StrictItem) -> StrictItem:
        return item

    strict_client = TestClient(app)
    response = strict_client.post("/strict", json={"name": "a", "price": 3})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["body", "price"],
                "msg": "Extra inputs are not permitted",
                "input": 3,
            }
        ]
    }
    nested = strict_client.post("/strict", json={"name": "a", "owner": {"name": "b", "x": [1]}})
    assert nested.json()["detail"] == [
        {
            "type": "extra_forbidden",
            "loc": ["body", "owner", "x"],
            "msg": "Extra inputs are not permitted",
            "input": [1],
        }
    ]


@pytest.mark.parametrize("path", ["/items", "/echo-request"])
def test_a_served_request_leaves_no_reference_cycle_to_collect(path):
    import gc
    import weakref

    from FasterAPI import Request

    app = Faster()

    @app.post("/items", status_code=201)
    async def create(item: Item) -> Item:
        return item

    @app.post("/echo-request")
    async def echo(request: Request):
        return await request.json()

    class Connection:
        """As servers do it: receive and send are methods of an object holding the scope."""

        def __init__(self) -> None:
            self.scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "POST",
                "scheme": "http",
                "path": path,
                "raw_path": path.encode(),
                "root_path": "",
                "query_string": b"",
                "headers": [(b"host", b"test"), (b"content-type", b"application/json")],
                "client": ("127.0.0.1", 1),
                "server": ("test", 80),
            }
            self.sent: list = []

        async def receive(self):
            return {"type": "http.request", "body": b'{"name":"a","price":1}'}

        async def send(self, message) -> None:
            self.sent.append(message)

    gc.collect()
    gc.disable()
    try:
        connection = Connection()
        anyio.run(app, connection.scope, connection.receive, connection.send)
        assert connection.sent[0]["status"] in (200, 201)
        gone = weakref.ref(connection)
        del connection
        assert gone() is None, "the request's objects wait for the garbage collector"
    finally:
        gc.enable()
