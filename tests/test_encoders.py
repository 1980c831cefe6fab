"""FasterAPI.encoders.jsonable_encoder: values as plain JSON data."""

import dataclasses
import datetime
import decimal
import enum
import json
import uuid
from pathlib import PurePosixPath
from typing import Optional

import msgspec
import pytest

from FasterAPI.encoders import jsonable_encoder


class Color(enum.Enum):
    RED = "red"


class Owner(msgspec.Struct):
    full_name: str
    joined: datetime.date


class Pet(msgspec.Struct, rename="camel"):
    pet_name: str
    owner: Owner
    tags: set
    nickname: Optional[str] = None


@dataclasses.dataclass
class Price:
    amount: decimal.Decimal
    color: Color


def pet() -> Pet:
    return Pet("Rex", Owner("Ann Lee", datetime.date(2020, 1, 2)), {"good"})


def test_jsonable_encoder_struct_under_its_wire_names():
    assert jsonable_encoder(pet()) == {
        "petName": "Rex",
        "owner": {"full_name": "Ann Lee", "joined": "2020-01-02"},
        "tags": ["good"],
        "nickname": None,
    }


def test_jsonable_encoder_by_alias_false_uses_python_names_at_every_depth():
    encoded = jsonable_encoder([pet()], by_alias=False)
    assert encoded[0]["pet_name"] == "Rex" and "petName" not in encoded[0]
    assert encoded[0]["owner"]["full_name"] == "Ann Lee"


def test_jsonable_encoder_builtin_conversions():
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    value = {
        "when": when,
        "id": uuid.UUID(int=1),
        "price": Price(decimal.Decimal("1.50"), Color.RED),
        "pair": (1, 2),
        "blob": b"\x01\x02",
        "path": PurePosixPath("/srv/x"),
    }
    encoded = jsonable_encoder(value)
    assert encoded == {
        "when": "2024-05-06T07:08:09Z",
        "id": "00000000-0000-0000-0000-000000000001",
        "price": {"amount": "1.50", "color": "red"},
        "pair": [1, 2],
        "blob": "AQI=",
        "path": "/srv/x",
    }
    assert json.loads(json.dumps(encoded)) == encoded


def test_jsonable_encoder_include_and_exclude_pick_top_level_fields_by_python_name():
    assert jsonable_encoder(pet(), include={"pet_name", "nickname"}) == {
        "petName": "Rex",
        "nickname": None,
    }
    assert set(jsonable_encoder(pet(), exclude={"owner", "tags"})) == {"petName", "nickname"}
    assert jsonable_encoder({"a": 1, "b": 2}, exclude={"b"}) == {"a": 1}


def test_jsonable_encoder_exclude_none_at_every_depth():
    value = {"a": None, "b": [{"c": None, "d": 1}, None], "pet": pet()}
    assert jsonable_encoder(value, exclude_none=True) == {
        "b": [{"d": 1}, None],
        "pet": {
            "petName": "Rex",
            "owner": {"full_name": "Ann Lee", "joined": "2020-01-02"},
            "tags": ["good"],
        },
    }


def test_jsonable_encoder_custom_encoder_wins_even_over_builtin_rules():
    class Money:
        def __init__(self, cents):
            self.cents = cents

    class Euro(Money):
        pass

    custom = {datetime.date: lambda d: d.year, Money: lambda m: {"cents": m.cents}}
    value = {"day": datetime.date(2021, 3, 4), "paid": [Money(5), Euro(7)]}
    assert jsonable_encoder(value, custom_encoder=custom) == {
        "day": 2021,
        "paid": [{"cents": 5}, {"cents": 7}],
    }


def test_jsonable_encoder_plain_objects_and_unsupported_values():
    class Record:
        def __init__(self):
            self.name = "r"
            self._secret = "hidden"

    assert jsonable_encoder(Record()) == {"name": "r"}
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsonable_encoder(object())


def test_jsonable_encoder_ip_addresses_deques_and_generators():
    import collections
    import ipaddress

    assert jsonable_encoder(
        {
            "ip": ipaddress.ip_address("::1"),
            "net": ipaddress.ip_network("10.0.0.0/8"),
            "queue": collections.deque(["a"]),
            "keys": {"k": 1}.keys(),
            "gen": (n for n in range(2)),
        }
    ) == {"ip": "::1", "net": "10.0.0.0/8", "queue": ["a"], "keys": ["k"], "gen": [0, 1]}
