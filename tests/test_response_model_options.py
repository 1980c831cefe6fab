"""response_model_exclude_unset, response_model_exclude_defaults, response_model_by_alias."""

import datetime
from typing import Optional

import msgpack
import msgspec

from FasterAPI import Faster, FasterRouter, MsgPackResponse
from FasterAPI.testclient import TestClient


class Tag(msgspec.Struct):
    label: str
    weight: int = 1


class Item(msgspec.Struct, rename="camel"):
    item_name: str
    price: float = 0.0
    tags: list[Tag] = []
    note: Optional[str] = None
    stock: int | msgspec.UnsetType = msgspec.UNSET


def test_exclude_unset_keeps_the_keys_a_returned_dict_had_at_every_depth():
    app = Faster()
    router = FasterRouter()

    @app.patch("/items/{name}", response_model=Item, response_model_exclude_unset=True)
    def patch_item(name: str):
        return {"itemName": name, "tags": [{"label": "new"}], "note": None}

    @router.get("/whole", response_model=Item, response_model_exclude_unset=True)
    def whole():
        return Item(item_name="a", stock=3)

    app.include_router(router, prefix="/r")
    client = TestClient(app)
    assert client.patch("/items/pen").json() == {
        "itemName": "pen",
        "tags": [{"label": "new"}],
        "note": None,
    }
    # A Struct counts as fully set; UNSET fields are never sent.
    assert client.get("/r/whole").json() == {
        "itemName": "a",
        "price": 0.0,
        "tags": [],
        "note": None,
        "stock": 3,
    }


def test_exclude_defaults_drops_fields_equal_to_their_default_at_every_depth():
    app = Faster()

    @app.get("/item", response_model=Item, response_model_exclude_defaults=True)
    def item():
        return Item(item_name="a", price=0.0, tags=[Tag("x"), Tag("y", 2)], note="n")

    @app.get("/from-dict", response_model=Item, response_model_exclude_defaults=True)
    def from_dict():
        return {"itemName": "b", "price": 2.5}

    client = TestClient(app)
    assert client.get("/item").json() == {
        "itemName": "a",
        "tags": [{"label": "x"}, {"label": "y", "weight": 2}],
        "note": "n",
    }
    assert client.get("/from-dict").json() == {"itemName": "b", "price": 2.5}


def test_by_alias_false_writes_python_names_and_options_combine():
    app = Faster()

    @app.get("/names", response_model=Item, response_model_by_alias=False)
    def names():
        return Item(item_name="a")

    @app.get(
        "/combined",
        response_model=Item,
        response_model_by_alias=False,
        response_model_exclude_defaults=True,
        response_model_exclude_none=True,
        response_model_exclude={"price"},
    )
    def combined():
        return Item(item_name="a", price=3.0, note=None, tags=[Tag("t", 5)])

    client = TestClient(app)
    assert client.get("/names").json() == {
        "item_name": "a",
        "price": 0.0,
        "tags": [],
        "note": None,
    }
    assert client.get("/combined").json() == {
        "item_name": "a",
        "tags": [{"label": "t", "weight": 5}],
    }


def test_exclude_defaults_keeps_message_pack_native_types():
    class Stamp(msgspec.Struct):
        at: datetime.datetime
        data: bytes
        count: int = 0

    at = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    app = Faster()

    @app.get(
        "/stamp",
        response_model=Stamp,
        response_class=MsgPackResponse,
        response_model_exclude_defaults=True,
    )
    def stamp():
        return Stamp(at, b"\x00\x01")

    decoded = msgpack.unpackb(TestClient(app).get("/stamp").content, timestamp=3)
    assert decoded == {"at": at, "data": b"\x00\x01"}
