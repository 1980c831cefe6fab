"""Parameter models: a Struct, dataclass or TypedDict marked Query(), Header() or Cookie()."""

import dataclasses
from typing import Annotated, Literal, Optional, TypedDict

import msgspec
import pytest

from FasterAPI import Cookie, Faster, Header, Path, Query
from FasterAPI.testclient import TestClient


def serve(handler, path="/p", method="get") -> TestClient:
    app = Faster()
    getattr(app, method)(path)(handler)
    return TestClient(app)


class Filters(msgspec.Struct):
    limit: Annotated[int, msgspec.Meta(gt=0, le=100)] = 10
    offset: int = 0
    order_by: Literal["created", "updated"] = "created"
    tags: list[str] = []
    active: bool = False
    q: Optional[str] = None


class StrictFilters(msgspec.Struct, forbid_unknown_fields=True):
    limit: int = 10
    tags: list[str] = []


class Required(msgspec.Struct):
    name: str
    count: int


class Camel(msgspec.Struct, rename="camel"):
    page_size: int = 20


@dataclasses.dataclass
class DataFilters:
    limit: int
    tags: list[int] = dataclasses.field(default_factory=list)
    order: str = "asc"


class DictFilters(TypedDict, total=False):
    limit: int
    tags: list[str]


def test_query_model_reads_each_field_with_defaults_lists_and_types():
    async def handler(f: Annotated[Filters, Query()]):
        assert type(f) is Filters
        return f

    client = serve(handler)
    assert client.get("/p").json() == {
        "limit": 10,
        "offset": 0,
        "order_by": "created",
        "tags": [],
        "active": False,
        "q": None,
    }
    response = client.get("/p?limit=5&offset=2&order_by=updated&tags=a&tags=b&active=yes&q=x")
    assert response.json() == {
        "limit": 5,
        "offset": 2,
        "order_by": "updated",
        "tags": ["a", "b"],
        "active": True,
        "q": "x",
    }
    assert client.get("/p?tags=only").json()["tags"] == ["only"]
    # Unknown keys are ignored unless the Struct forbids them.
    assert client.get("/p?other=1&limit=3").json()["limit"] == 3


def test_query_model_errors_report_every_field_with_query_loc():
    async def handler(f: Annotated[Filters, Query()]):
        return f

    response = serve(handler).get("/p?limit=500&offset=x&order_by=name")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(e["loc"], e["type"], e["input"]) for e in detail] == [
        (["query", "limit"], "less_than_equal", "500"),
        (["query", "offset"], "int_parsing", "x"),
        (["query", "order_by"], "enum", "name"),
    ]


def test_query_model_missing_required_fields():
    async def handler(r: Annotated[Required, Query()]):
        return r

    client = serve(handler)
    assert client.get("/p?name=a&count=2").json() == {"name": "a", "count": 2}
    detail = client.get("/p?count=x").json()["detail"]
    assert detail == [
        {
            "type": "missing",
            "loc": ["query", "name"],
            "msg": "Field required",
            "input": {"count": "x"},
        },
        {
            "type": "int_parsing",
            "loc": ["query", "count"],
            "msg": "Expected `int`, got `str`",
            "input": "x",
        },
    ]


def test_query_model_forbidding_unknown_fields_rejects_extra_keys():
    async def handler(f: Annotated[StrictFilters, Query()]):
        return f

    client = serve(handler)
    assert client.get("/p?limit=2&tags=a").json() == {"limit": 2, "tags": ["a"]}
    response = client.get("/p?limit=2&tool=plumbus&x=1")
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "extra_forbidden",
            "loc": ["query", "tool"],
            "msg": "Extra inputs are not permitted",
            "input": "plumbus",
        },
        {
            "type": "extra_forbidden",
            "loc": ["query", "x"],
            "msg": "Extra inputs are not permitted",
            "input": "1",
        },
    ]
    # Field errors and extra keys are reported together.
    detail = client.get("/p?limit=x&tool=plumbus").json()["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [
        (["query", "limit"], "int_parsing"),
        (["query", "tool"], "extra_forbidden"),
    ]


def test_query_model_forbidding_extras_accepts_keys_other_parameters_read():
    from FasterAPI import Depends

    async def search(q: str = ""):
        return q

    async def handler(
        f: Annotated[StrictFilters, Query()],
        page: int = 1,
        q: str = Depends(search),
    ):
        return {"f": f, "page": page, "q": q}

    client = serve(handler)
    response = client.get("/p?limit=3&page=2&q=z")
    assert response.json() == {"f": {"limit": 3, "tags": []}, "page": 2, "q": "z"}
    assert client.get("/p?limit=3&pages=2").json()["detail"][0]["loc"] == ["query", "pages"]


def test_query_model_with_renamed_fields_reads_and_reports_the_renamed_key():
    async def handler(c: Annotated[Camel, Query()]):
        return c.page_size

    client = serve(handler)
    assert client.get("/p?pageSize=5").json() == 5
    assert client.get("/p?page_size=5").json() == 20
    assert client.get("/p?pageSize=x").json()["detail"][0]["loc"] == ["query", "pageSize"]


def test_query_model_dataclass_and_typeddict():
    async def handler(d: Annotated[DataFilters, Query()], t: DictFilters = Query()):
        assert isinstance(d, DataFilters)
        return {"d": d, "t": t}

    client = serve(handler)
    response = client.get("/p?limit=4&tags=1&tags=2")
    assert response.json() == {
        "d": {"limit": 4, "tags": [1, 2], "order": "asc"},
        "t": {"limit": 4, "tags": ["1", "2"]},
    }
    assert client.get("/p").json()["detail"] == [
        {"type": "missing", "loc": ["query", "limit"], "msg": "Field required", "input": {}}
    ]


def test_query_model_next_to_plain_parameters_and_in_a_dependency():
    from FasterAPI import Depends

    async def paging(f: Annotated[Filters, Query()]):
        return f.limit

    async def handler(item_id: int, q: str = "-", limit: int = Depends(paging)):
        return {"item_id": item_id, "q": q, "limit": limit}

    client = serve(handler, "/items/{item_id}")
    assert client.get("/items/3?q=x&limit=7").json() == {"item_id": 3, "q": "x", "limit": 7}
    detail = client.get("/items/y?limit=0").json()["detail"]
    assert [e["loc"] for e in detail] == [["query", "limit"], ["path", "item_id"]]


def test_query_model_post_init_error_is_422_at_the_model():
    class Window(msgspec.Struct):
        start: int = 0
        end: int = 10

        def __post_init__(self):
            if self.start > self.end:
                raise ValueError("start after end")

    async def handler(w: Annotated[Window, Query()]):
        return w

    client = serve(handler)
    assert client.get("/p?start=2").json() == {"start": 2, "end": 10}
    detail = client.get("/p?start=20").json()["detail"]
    assert detail == [
        {
            "type": "value_error",
            "loc": ["query"],
            "msg": "start after end",
            "input": {"start": "20"},
        }
    ]


class CommonHeaders(msgspec.Struct):
    x_token: str
    save_data: bool = False
    x_tag: list[str] = []
    if_modified_since: Optional[str] = None


def test_header_model_converts_underscores_and_collects_lists():
    async def handler(h: Annotated[CommonHeaders, Header()]):
        return h

    client = serve(handler)
    response = client.get(
        "/p",
        headers=[
            ("X-Token", "t"),
            ("Save-Data", "on"),
            ("x-tag", "one"),
            ("x-tag", "two"),
            ("if-modified-since", "yesterday"),
        ],
    )
    assert response.json() == {
        "x_token": "t",
        "save_data": True,
        "x_tag": ["one", "two"],
        "if_modified_since": "yesterday",
    }
    # Underscored header names are not the fields' headers.
    response = client.get("/p", headers={"x_token": "t"})
    assert response.status_code == 422


def test_header_model_missing_required_is_422_with_the_field_name():
    async def handler(h: Annotated[CommonHeaders, Header()]):
        return h

    response = serve(handler).get("/p", headers={"save-data": "maybe"})
    assert response.status_code == 422
    assert [(e["loc"], e["type"]) for e in response.json()["detail"]] == [
        (["header", "x_token"], "missing"),
        (["header", "save_data"], "bool_parsing"),
    ]


def test_header_model_without_underscore_conversion():
    async def handler(h: Annotated[CommonHeaders, Header(convert_underscores=False)]):
        return h.x_token

    client = serve(handler)
    assert client.get("/p", headers={"x_token": "t"}).json() == "t"
    assert client.get("/p", headers={"x-token": "t"}).status_code == 422


def test_header_model_forbidding_unknown_fields_rejects_every_other_header():
    class OnlyThese(msgspec.Struct, forbid_unknown_fields=True):
        host: str
        x_token: str

    async def handler(h: Annotated[OnlyThese, Header()]):
        return h

    client = serve(handler)
    client.headers.clear()  # FastAPI's behaviour: a client's usual headers are extras too
    assert client.get("/p", headers={"x-token": "t"}).json() == {
        "host": "testserver",
        "x_token": "t",
    }
    detail = client.get("/p", headers={"x-token": "t", "tool": "plumbus"}).json()["detail"]
    assert detail == [
        {
            "type": "extra_forbidden",
            "loc": ["header", "tool"],
            "msg": "Extra inputs are not permitted",
            "input": "plumbus",
        }
    ]


class Cookies(msgspec.Struct, forbid_unknown_fields=True):
    session_id: str
    theme: str = "light"


def test_cookie_model_values_missing_and_extra():
    async def handler(c: Annotated[Cookies, Cookie()]):
        return c

    client = serve(handler)
    response = client.get("/p", headers={"cookie": "session_id=abc; theme=dark"})
    assert response.json() == {"session_id": "abc", "theme": "dark"}
    assert client.get("/p", headers={"cookie": "session_id=abc"}).json()["theme"] == "light"
    detail = client.get("/p", headers={"cookie": "theme=dark"}).json()["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [(["cookie", "session_id"], "missing")]
    response = client.get("/p", headers={"cookie": "session_id=a; santa_tracker=good-list"})
    assert response.json()["detail"] == [
        {
            "type": "extra_forbidden",
            "loc": ["cookie", "santa_tracker"],
            "msg": "Extra inputs are not permitted",
            "input": "good-list",
        }
    ]


def test_path_model_fails_at_route_definition():
    from FasterAPI._compile import RouteDefinitionError

    class Ids(msgspec.Struct):
        item_id: int

    app = Faster()
    with pytest.raises(RouteDefinitionError, match="cannot be a model"):

        @app.get("/items/{item_id}")
        async def handler(ids: Annotated[Ids, Path()]):
            return ids

    with pytest.raises(RouteDefinitionError, match="cannot be a model"):

        @app.get("/items/{ids}")
        async def unmarked(ids: Ids):
            return ids


def test_optional_parameter_model_fails_at_route_definition():
    from FasterAPI._compile import RouteDefinitionError

    app = Faster()
    with pytest.raises(RouteDefinitionError, match="the model class itself"):

        @app.get("/p")
        async def handler(f: Annotated[Optional[Filters], Query()] = None):
            return f


def test_model_forbidding_extras_accepts_the_keys_of_security_schemes():
    from FasterAPI import Depends
    from FasterAPI.security import APIKeyQuery, HTTPBearer

    key = APIKeyQuery(name="api_key")
    bearer = HTTPBearer()

    class OnlyToken(msgspec.Struct, forbid_unknown_fields=True):
        host: str
        x_token: str

    async def handler(
        f: Annotated[StrictFilters, Query()],
        h: Annotated[OnlyToken, Header()],
        k: str = Depends(key),
        credentials=Depends(bearer),
    ):
        return {"limit": f.limit, "key": k, "token": credentials.credentials}

    client = serve(handler)
    client.headers.clear()
    response = client.get(
        "/p?limit=1&api_key=k", headers={"x-token": "t", "authorization": "Bearer b"}
    )
    assert response.json() == {"limit": 1, "key": "k", "token": "b"}
    response = client.get(
        "/p?limit=1&api_key=k&x=1",
        headers={"x-token": "t", "authorization": "Bearer b", "tool": "p"},
    )
    assert [e["loc"] for e in response.json()["detail"]] == [["query", "x"], ["header", "tool"]]


def test_query_model_with_dependency_overrides_and_in_a_websocket():
    from FasterAPI import Depends, WebSocket

    def user():
        return "real"

    app = Faster()

    @app.get("/p")
    async def handler(f: Annotated[StrictFilters, Query()], who: str = Depends(user)):
        return {"limit": f.limit, "who": who}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, f: Annotated[StrictFilters, Query()]):
        await websocket.accept()
        await websocket.send_json({"limit": f.limit, "tags": f.tags})
        await websocket.close()

    app.dependency_overrides[user] = lambda: "override"
    client = TestClient(app)
    assert client.get("/p?limit=4").json() == {"limit": 4, "who": "override"}
    assert client.get("/p?limit=4&x=1").json()["detail"][0]["loc"] == ["query", "x"]
    with client.websocket_connect("/ws?limit=6&tags=a") as connection:
        assert connection.receive_json() == {"limit": 6, "tags": ["a"]}
