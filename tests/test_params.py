import datetime
import decimal
import enum
import uuid
from typing import Annotated, Literal, Optional

import pytest

from FasterAPI import Cookie, Faster, Header, Path, Query, Request, Response
from FasterAPI.testclient import TestClient


class Color(str, enum.Enum):
    red = "red"
    blue = "blue"


def serve(handler, path="/p", method="get") -> TestClient:
    app = Faster()
    getattr(app, method)(path)(handler)
    return TestClient(app)


def test_query_unmarked_scalars_come_from_query_string():
    async def handler(name: str, count: int, ratio: float = 0.5):
        return {"name": name, "count": count, "ratio": ratio}

    client = serve(handler)
    assert client.get("/p?name=x&count=3").json() == {"name": "x", "count": 3, "ratio": 0.5}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("1", True),
        ("on", True),
        ("yes", True),
        ("True", True),
        ("false", False),
        ("0", False),
        ("off", False),
        ("no", False),
    ],
)
def test_query_bool_accepts_common_spellings(raw, expected):
    async def handler(flag: bool):
        return flag

    assert serve(handler).get(f"/p?flag={raw}").json() is expected


def test_query_bool_rejects_other_words():
    async def handler(flag: bool):
        return flag

    response = serve(handler).get("/p?flag=maybe")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "flag"]


def test_query_enum_literal_uuid_dates_decimal():
    async def handler(
        color: Color,
        mode: Literal["fast", "slow"],
        ident: uuid.UUID,
        when: datetime.datetime,
        day: datetime.date,
        amount: decimal.Decimal,
    ):
        return {
            "color": color.value,
            "mode": mode,
            "ident": str(ident),
            "when": when.isoformat(),
            "day": day.isoformat(),
            "amount": str(amount),
        }

    ident = uuid.uuid4()
    response = serve(handler).get(
        "/p",
        params={
            "color": "blue",
            "mode": "slow",
            "ident": str(ident),
            "when": "2024-05-01T10:00:00",
            "day": "2024-05-02",
            "amount": "1.10",
        },
    )
    assert response.json() == {
        "color": "blue",
        "mode": "slow",
        "ident": str(ident),
        "when": "2024-05-01T10:00:00",
        "day": "2024-05-02",
        "amount": "1.10",
    }


def test_query_invalid_enum_and_literal_are_422():
    async def handler(color: Color, mode: Literal["fast", "slow"]):
        return "ok"

    response = serve(handler).get("/p?color=green&mode=medium")
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert locs == [["query", "color"], ["query", "mode"]]


def test_query_list_from_repeated_keys():
    async def handler(tag: list[str] = Query(default=[]), n: Annotated[list[int], Query()] = []):
        return {"tag": tag, "n": n}

    client = serve(handler)
    assert client.get("/p?tag=a&tag=b&n=1&n=2").json() == {"tag": ["a", "b"], "n": [1, 2]}
    assert client.get("/p").json() == {"tag": [], "n": []}


def test_query_scalar_takes_last_repeated_value():
    async def handler(q: str):
        return q

    assert serve(handler).get("/p?q=first&q=last").json() == "last"


def test_query_optional_defaults_to_none():
    async def handler(q: Optional[str] = None, n: int | None = None):
        return {"q": q, "n": n}

    assert serve(handler).get("/p").json() == {"q": None, "n": None}


def test_query_missing_required_reports_every_error():
    async def handler(a: int, b: str, c: float = 1.0):
        return "ok"

    response = serve(handler).get("/p?c=x")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"type": "missing", "loc": ["query", "a"], "msg": "Field required", "input": None},
            {"type": "missing", "loc": ["query", "b"], "msg": "Field required", "input": None},
            {
                "type": "float_parsing",
                "loc": ["query", "c"],
                "msg": "Expected `float`, got `str`",
                "input": "x",
            },
        ]
    }


def test_query_constraints_both_styles():
    async def handler(
        limit: int = Query(10, ge=1, le=100),
        name: Annotated[str, Query(min_length=2, max_length=5, pattern="^[a-z]+$")] = "ab",
        price: Annotated[float, Query(gt=0, lt=10)] = 1.0,
    ):
        return {"limit": limit, "name": name, "price": price}

    client = serve(handler)
    assert client.get("/p?limit=5&name=abc&price=2.5").json() == {
        "limit": 5,
        "name": "abc",
        "price": 2.5,
    }
    response = client.get("/p?limit=0&name=ABC&price=10")
    assert response.status_code == 422
    types = {tuple(e["loc"]): e["type"] for e in response.json()["detail"]}
    assert types == {
        ("query", "limit"): "greater_than_equal",
        ("query", "name"): "string_pattern_mismatch",
        ("query", "price"): "less_than",
    }
    response = client.get("/p?limit=101&name=a")
    types = {tuple(e["loc"]): e["type"] for e in response.json()["detail"]}
    assert types == {("query", "limit"): "less_than_equal", ("query", "name"): "string_too_short"}


def test_query_alias():
    async def handler(item_query: str = Query(alias="item-query")):
        return item_query

    client = serve(handler)
    assert client.get("/p?item-query=v").json() == "v"
    assert client.get("/p?item_query=v").json()["detail"][0]["loc"] == ["query", "item-query"]


def test_query_default_in_annotated_with_default_value():
    async def handler(size: Annotated[int, Query(le=3)] = 2):
        return size

    client = serve(handler)
    assert client.get("/p").json() == 2
    assert client.get("/p?size=4").status_code == 422


def test_path_marker_with_constraints():
    async def handler(item_id: int = Path(ge=1, description="the id")):
        return item_id

    client = serve(handler, "/items/{item_id}")
    assert client.get("/items/3").json() == 3
    response = client.get("/items/0")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]
    assert response.json()["detail"][0]["input"] == "0"


def test_path_parameter_not_in_path_is_an_error_at_definition():
    app = Faster()
    with pytest.raises(TypeError):

        @app.get("/items/{item_id}")
        async def handler(other: int = Path()):
            return other


def test_header_converts_underscores_and_lists():
    async def handler(
        user_agent: str = Header(),
        x_tags: list[str] = Header(default=[]),
        raw_name: str | None = Header(default=None, convert_underscores=False),
    ):
        return {"ua": user_agent, "tags": x_tags, "raw": raw_name}

    client = serve(handler)
    response = client.get(
        "/p",
        headers=[("User-Agent", "tester"), ("X-Tags", "a"), ("X-Tags", "b"), ("raw_name", "r")],
    )
    assert response.json() == {"ua": "tester", "tags": ["a", "b"], "raw": "r"}


def test_header_missing_is_422_with_header_loc():
    async def handler(x_token: Annotated[str, Header()]):
        return x_token

    response = serve(handler).get("/p")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "x-token"]


def test_header_typed_int():
    async def handler(x_count: int = Header()):
        return x_count + 1

    client = serve(handler)
    assert client.get("/p", headers={"x-count": "41"}).json() == 42
    assert client.get("/p", headers={"x-count": "x"}).status_code == 422


def test_cookie_values_and_missing():
    async def handler(session: str = Cookie(), theme: str = Cookie("light")):
        return {"session": session, "theme": theme}

    client = serve(handler)
    response = client.get("/p", headers={"cookie": 'session=abc; theme="dark"'})
    assert response.json() == {"session": "abc", "theme": "dark"}
    response = client.get("/p")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["cookie", "session"]


def test_cookie_quoted_value_set_by_set_cookie_reads_back_unescaped():
    app = Faster()
    value = 'a b,c"d\\e;f\xe9'

    @app.get("/set")
    def set_cookie(response: Response):
        response.set_cookie("session", value)

    @app.get("/get")
    def get_cookie(request: Request, session: str = Cookie()):
        return {"param": session, "request": request.cookies["session"]}

    client = TestClient(app)
    assert "\\054" in client.get("/set").headers["set-cookie"]  # quoted, octal escapes
    assert client.get("/get").json() == {"param": value, "request": value}
    response = client.get("/get", headers={"cookie": 'session="plain\\"'})
    assert response.json()["param"] == "plain\\"  # a lone backslash is kept


def test_sync_handler_runs_in_worker_thread():
    import threading

    app = Faster()
    loop_thread = {}

    @app.get("/loop")
    async def loop_ident():
        loop_thread["id"] = threading.get_ident()
        return "ok"

    @app.get("/sync")
    def sync_handler():
        return threading.get_ident()

    with TestClient(app) as client:
        client.get("/loop")
        assert client.get("/sync").json() != loop_thread["id"]


def test_query_big_integer_round_trips_exactly():
    async def handler(n: int):
        return n

    response = serve(handler).get("/p?n=99999999999999999999999999999")
    assert response.content == b"99999999999999999999999999999"


def test_query_and_header_optional_value_of_the_wrong_type_is_a_parsing_error():
    async def handler(n: Optional[int] = None, x_ratio: Optional[float] = Header(None)):
        return {"n": n}

    response = serve(handler).get("/p?n=z", headers={"x-ratio": "half"})
    assert response.status_code == 422
    assert [(e["type"], e["loc"], e["input"]) for e in response.json()["detail"]] == [
        ("int_parsing", ["query", "n"], "z"),
        ("float_parsing", ["header", "x-ratio"], "half"),
    ]


def test_query_optional_with_constraints():
    async def handler(q: Annotated[str | None, Query(max_length=3)] = None):
        return q

    client = serve(handler)
    assert client.get("/p").json() is None
    assert client.get("/p?q=abc").json() == "abc"
    response = client.get("/p?q=abcd")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "string_too_long"


def test_path_and_query_errors_are_reported_together_with_their_locations():
    async def handler(item_id: int, limit: int, flag: bool = False):
        return {"item_id": item_id, "limit": limit, "flag": flag}

    client = serve(handler, "/items/{item_id}")
    assert client.get("/items/3?limit=4&flag=yes").json() == {
        "item_id": 3,
        "limit": 4,
        "flag": True,
    }
    detail = client.get("/items/abc?limit=x").json()["detail"]
    assert [entry["loc"] for entry in detail] == [["path", "item_id"], ["query", "limit"]]
    detail = client.get("/items/abc").json()["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [
        (["path", "item_id"], "int_parsing"),
        (["query", "limit"], "missing"),
    ]


def test_a_query_key_named_like_a_path_parameter_does_not_replace_it():
    async def handler(item_id: int, q: str = "-"):
        return {"item_id": item_id, "q": q}

    client = serve(handler, "/items/{item_id}")
    assert client.get("/items/5?item_id=7&q=x").json() == {"item_id": 5, "q": "x"}


def test_a_query_alias_equal_to_a_path_name_reads_each_from_its_own_source():
    async def handler(item_id: int, other: Annotated[int, Query(alias="item_id")] = 0):
        return {"item_id": item_id, "other": other}

    client = serve(handler, "/items/{item_id}")
    assert client.get("/items/5?item_id=7").json() == {"item_id": 5, "other": 7}


def test_path_and_query_in_a_dependency_and_the_handler():
    from FasterAPI import Depends

    async def page(item_id: int, size: int = 10):
        return (item_id, size)

    async def handler(item_id: int, got: tuple = Depends(page), q: Optional[str] = None):
        return {"got": list(got), "q": q, "item_id": item_id}

    client = serve(handler, "/items/{item_id}")
    assert client.get("/items/2?size=3&q=z").json() == {"got": [2, 3], "q": "z", "item_id": 2}
    detail = client.get("/items/2?size=big").json()["detail"]
    assert [entry["loc"] for entry in detail] == [["query", "size"]]


def test_header_single_parameter_default_first_value_and_error_shape():
    async def handler(x_count: int = Header(7)):
        return x_count

    client = serve(handler)
    assert client.get("/p").json() == 7
    assert client.get("/p", headers=[("x-count", "1"), ("x-count", "2")]).json() == 1
    detail = client.get("/p", headers={"x-count": "many"}).json()["detail"]
    assert detail == [
        {
            "type": "int_parsing",
            "loc": ["header", "x-count"],
            "msg": detail[0]["msg"],
            "input": "many",
        }
    ]
