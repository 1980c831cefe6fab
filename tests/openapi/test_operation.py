"""Operations in the document: metadata, parameters, request bodies, extras."""

from typing import Annotated, Any, Literal

import msgspec
import pytest

from FasterAPI import (
    APIRoute,
    Body,
    Cookie,
    Depends,
    Faster,
    FasterRouter,
    File,
    Form,
    Header,
    Path,
    Query,
    UploadFile,
)
from openapi.support import Color, Item, document, operation


def test_operation_metadata_defaults_from_function():
    app = Faster()

    @app.get("/items/{item_id}", tags=["items"], deprecated=True)
    def read_item(item_id: int) -> Item:
        """Read one item.

        Details in **markdown**.
        \f
        Not for the docs.
        """
        return Item("a", 1)

    op = operation(app, "/items/{item_id}")
    assert op["tags"] == ["items"]
    assert op["summary"] == "Read Item"
    assert op["description"] == "Read one item.\n\nDetails in **markdown**."
    assert op["operationId"] == "read_item_items__item_id__get"
    assert op["deprecated"] is True


def test_operation_explicit_summary_description_and_id():
    app = Faster()

    @app.get("/a", summary="Custom", description="Explicit", operation_id="getA")
    def a() -> None:
        """Ignored docstring."""

    op = operation(app, "/a")
    assert (op["summary"], op["description"], op["operationId"]) == ("Custom", "Explicit", "getA")
    assert "deprecated" not in op


def test_operation_ids_unique_across_methods_and_duplicates():
    app = Faster()

    @app.api_route("/x", methods=["GET", "POST"])
    def x() -> None: ...

    @app.get("/y", operation_id="same")
    def y() -> None: ...

    @app.get("/z", operation_id="same")
    def z() -> None: ...

    with pytest.warns(UserWarning, match="Duplicate operation ID 'same'"):
        doc = document(app)
    assert doc["paths"]["/x"]["get"]["operationId"] == "x_x_get"
    assert doc["paths"]["/x"]["post"]["operationId"] == "x_x_post"
    assert doc["paths"]["/y"]["get"]["operationId"] == "same"
    assert doc["paths"]["/z"]["get"]["operationId"] == "same_2"


def test_generate_unique_id_function_on_app_router_include_and_route():
    def by_tag(route: APIRoute) -> str:
        return f"{route.tags[0]}-{route.name}"

    def by_router(route: APIRoute) -> str:
        return f"router-{route.name}"

    app = Faster(generate_unique_id_function=by_tag)
    users = FasterRouter(prefix="/users", tags=["users"])
    items = FasterRouter(prefix="/items", tags=["items"], generate_unique_id_function=by_router)
    admin = FasterRouter(prefix="/admin", tags=["admin"])

    @app.post("/login", tags=["auth"])
    def login(user: Annotated[str, Body()], password: Annotated[str, Body()]) -> None: ...

    @users.get("")
    def list_users() -> None: ...

    @items.get("")
    def list_items() -> None: ...

    @items.get("/{item_id}", generate_unique_id_function=lambda route: "one-item")
    def read_item(item_id: int) -> None: ...

    @items.get("/fixed", operation_id="fixed")
    def fixed() -> None: ...

    @admin.get("")
    def stats() -> None: ...

    app.include_router(users)
    app.include_router(items)
    app.include_router(admin, generate_unique_id_function=lambda route: f"x-{route.name}")

    doc = document(app)
    ids = {
        path: methods[method]["operationId"]
        for path, methods in doc["paths"].items()
        for method in methods
    }
    assert ids == {
        "/login": "auth-login",
        "/users": "users-list_users",
        "/items": "router-list_items",
        "/items/{item_id}": "one-item",
        "/items/fixed": "fixed",
        "/admin": "x-stats",
    }
    body = doc["paths"]["/login"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Body_auth-login"}


def test_path_parameters_converters_and_undeclared_names():
    app = Faster()

    @app.get("/files/{name:path}")
    def files(name: Annotated[str, Path(description="File name")]) -> None: ...

    @app.get("/users/{user_id:int}/posts/{post_id}")
    def posts(user_id: int) -> None: ...

    doc = document(app)
    assert doc["paths"]["/files/{name}"]["get"]["parameters"] == [
        {
            "name": "name",
            "in": "path",
            "required": True,
            "schema": {"description": "File name", "type": "string", "title": "Name"},
            "description": "File name",
        }
    ]
    assert doc["paths"]["/users/{user_id}/posts/{post_id}"]["get"]["parameters"] == [
        {
            "name": "user_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "title": "User Id"},
        },
        {
            "name": "post_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "title": "Post Id"},
        },
    ]


def test_query_parameters_constraints_defaults_lists_enums():
    app = Faster()

    @app.get("/search")
    def search(
        q: Annotated[str, Query(min_length=2, max_length=10, pattern="^[a-z]+$")],
        limit: Annotated[int, Query(ge=1, le=100, examples=[10])] = 20,
        tags: Annotated[list[str], Query(description="Tags")] = [],
        color: Color | None = None,
        sort: Literal["asc", "desc"] = "asc",
        old: Annotated[int | None, Query(deprecated=True)] = None,
        secret: Annotated[str, Query(include_in_schema=False)] = "",
    ) -> None: ...

    parameters = operation(app, "/search")["parameters"]
    assert parameters == [
        {
            "name": "q",
            "in": "query",
            "required": True,
            "schema": {
                "type": "string",
                "minLength": 2,
                "maxLength": 10,
                "pattern": "^[a-z]+$",
                "title": "Q",
            },
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {
                "examples": [10],
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "title": "Limit",
                "default": 20,
            },
        },
        {
            "name": "tags",
            "in": "query",
            "required": False,
            "schema": {
                "description": "Tags",
                "type": "array",
                "items": {"type": "string"},
                "title": "Tags",
                "default": [],
            },
            "description": "Tags",
        },
        {
            "name": "color",
            "in": "query",
            "required": False,
            "schema": {
                "anyOf": [{"$ref": "#/components/schemas/Color"}, {"type": "null"}],
                "title": "Color",
                "default": None,
            },
        },
        {
            "name": "sort",
            "in": "query",
            "required": False,
            "schema": {
                "enum": ["asc", "desc"],
                "title": "Sort",
                "default": "asc",
                "type": "string",
            },
        },
        {
            "name": "old",
            "in": "query",
            "required": False,
            "schema": {
                "anyOf": [{"type": "integer"}, {"type": "null"}],
                "title": "Old",
                "default": None,
            },
            "deprecated": True,
        },
    ]
    assert document(app)["components"]["schemas"]["Color"] == {
        "title": "Color",
        "enum": ["blue", "red"],
        "type": "string",
    }


def test_header_and_cookie_parameters_with_converted_names():
    app = Faster()

    @app.get("/h")
    def h(
        user_agent: Annotated[str, Header()],
        x_raw_name: Annotated[str | None, Header(convert_underscores=False)] = None,
        token: Annotated[str, Header(alias="X-Token", title="Token")] = "",
        session: Annotated[str | None, Cookie(description="Session id")] = None,
    ) -> None: ...

    parameters = operation(app, "/h")["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [
        ("user-agent", "header", True),
        ("x_raw_name", "header", False),
        ("x-token", "header", False),
        ("session", "cookie", False),
    ]
    assert parameters[2]["schema"] == {"title": "Token", "type": "string", "default": ""}
    assert parameters[3]["description"] == "Session id"


class Filters(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(gt=0, description="Page size")] = 10
    tags: list[str] = []
    sort: Literal["asc", "desc"] = "asc"


class Headers(msgspec.Struct):
    x_token: str
    save_data: bool = False


class Renamed(msgspec.Struct, rename="camel"):
    page_size: int = 1


class Cookies(msgspec.Struct):
    session_id: str


def test_parameter_models_list_each_field_as_its_own_parameter():
    app = Faster()

    @app.get("/items")
    def items(
        f: Annotated[Filters, Query()],
        r: Annotated[Renamed, Query()],
        h: Annotated[Headers, Header()],
        raw: Annotated[Headers, Header(convert_underscores=False)],
        c: Annotated[Cookies, Cookie()],
    ) -> None: ...

    parameters = operation(app, "/items")["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [
        ("limit", "query", False),
        ("tags", "query", False),
        ("sort", "query", False),
        ("pageSize", "query", False),
        ("x-token", "header", True),
        ("save-data", "header", False),
        ("x_token", "header", True),
        ("save_data", "header", False),
        ("session_id", "cookie", True),
    ]
    assert parameters[0] == {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {
            "type": "integer",
            "exclusiveMinimum": 0,
            "description": "Page size",
            "title": "Limit",
            "default": 10,
        },
        "description": "Page size",
    }
    assert parameters[1]["schema"] == {
        "type": "array",
        "items": {"type": "string"},
        "title": "Tags",
        "default": [],
    }
    assert parameters[3]["schema"] == {"type": "integer", "title": "Page Size", "default": 1}
    assert parameters[5]["schema"] == {"type": "boolean", "title": "Save Data", "default": False}
    # No component for the models themselves: they are not a body.
    assert "Filters" not in document(app).get("components", {}).get("schemas", {})


def test_parameters_of_dependencies_are_included_once():
    app = Faster()

    def paging(limit: int = 10, offset: int = 0) -> tuple[int, int]:
        return limit, offset

    def auth(x_key: Annotated[str, Header()], limit: int = 10) -> str:
        return x_key

    @app.get("/things", dependencies=[Depends(auth)])
    def things(page: Annotated[tuple[int, int], Depends(paging)], q: str = "") -> None: ...

    parameters = operation(app, "/things")["parameters"]
    # The handler's own parameters first, then its dependencies' (as FastAPI orders them).
    assert [(p["name"], p["in"]) for p in parameters] == [
        ("q", "query"),
        ("limit", "query"),
        ("offset", "query"),
        ("x-key", "header"),
    ]


def test_json_body_whole_model_required_and_optional():
    app = Faster()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    @app.put("/maybe")
    def maybe(item: Item | None = None) -> None: ...

    doc = document(app)
    assert doc["paths"]["/items"]["post"]["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
        "required": True,
    }
    assert doc["paths"]["/maybe"]["put"]["requestBody"] == {
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [{"$ref": "#/components/schemas/Item"}, {"type": "null"}],
                    "title": "Item",
                    "default": None,
                }
            }
        }
    }
    assert doc["components"]["schemas"]["Item"] == {
        "title": "Item",
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "number", "minimum": 0}},
        "required": ["name", "price"],
    }


def test_json_body_embedded_fields_become_a_body_component():
    app = Faster()

    @app.post("/orders")
    def order(
        item: Item,
        quantity: Annotated[int, Body(gt=0, embed=True)],
        note: Annotated[str, Body(max_length=20)] = "",
    ) -> None: ...

    doc = document(app)
    assert doc["paths"]["/orders"]["post"]["requestBody"] == {
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Body_order_orders_post"}}
        },
        "required": True,
    }
    assert doc["components"]["schemas"]["Body_order_orders_post"] == {
        "properties": {
            "item": {"$ref": "#/components/schemas/Item"},
            "quantity": {"type": "integer", "exclusiveMinimum": 0, "title": "Quantity"},
            "note": {"type": "string", "maxLength": 20, "title": "Note", "default": ""},
        },
        "type": "object",
        "title": "Body_order_orders_post",
        "required": ["item", "quantity"],
    }


def test_form_and_multipart_bodies():
    app = Faster()

    @app.post("/login")
    def login(
        username: Annotated[str, Form()], password: Annotated[str, Form(min_length=8)]
    ) -> None: ...

    @app.post("/upload")
    def upload(
        file: UploadFile,
        extra: Annotated[list[UploadFile], File()] = [],
        raw: Annotated[bytes | None, File()] = None,
        note: Annotated[str, Form()] = "",
    ) -> None: ...

    doc = document(app)
    login_body = doc["paths"]["/login"]["post"]["requestBody"]
    assert login_body == {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"$ref": "#/components/schemas/Body_login_login_post"}
            }
        },
        "required": True,
    }
    assert doc["components"]["schemas"]["Body_login_login_post"]["required"] == [
        "username",
        "password",
    ]
    upload_body = doc["paths"]["/upload"]["post"]["requestBody"]
    assert list(upload_body["content"]) == ["multipart/form-data"]
    assert doc["components"]["schemas"]["Body_upload_upload_post"]["properties"] == {
        "file": {"type": "string", "format": "binary", "title": "File"},
        "extra": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "title": "Extra",
            "default": [],
        },
        "raw": {
            "anyOf": [{"type": "string", "format": "binary"}, {"type": "null"}],
            "title": "Raw",
            "default": None,
        },
        "note": {"type": "string", "title": "Note", "default": ""},
    }


def test_form_body_of_one_struct_uses_its_schema():
    app = Faster()

    @app.post("/form")
    def form(item: Annotated[Item, Form()]) -> None: ...

    body = operation(app, "/form", "post")["requestBody"]
    assert body == {
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Item"}}
        },
        "required": True,
    }


def test_openapi_extra_is_deep_merged():
    app = Faster()

    @app.get(
        "/x",
        openapi_extra={
            "x-code-samples": [{"lang": "sh", "source": "curl /x"}],
            "responses": {"200": {"headers": {"X-Rate": {"schema": {"type": "integer"}}}}},
            "parameters": [{"name": "raw", "in": "query", "schema": {"type": "string"}}],
        },
    )
    def x(q: int = 0) -> Item:
        return Item("a", 1)

    op = operation(app, "/x")
    assert op["x-code-samples"] == [{"lang": "sh", "source": "curl /x"}]
    assert op["responses"]["200"] == {
        "description": "Successful Response",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
        "headers": {"X-Rate": {"schema": {"type": "integer"}}},
    }
    assert [p["name"] for p in op["parameters"]] == ["q", "raw"]


def test_security_schemes_and_requirements_from_dependencies():
    from FasterAPI import Security
    from FasterAPI.security import OAuth2PasswordBearer
    from FasterAPI.security.api_key import APIKeyHeader
    from FasterAPI.security.http import HTTPBearer

    bearer = HTTPBearer()
    oauth2 = OAuth2PasswordBearer(tokenUrl="/token", scopes={"items:read": "Read items"})
    api_key = APIKeyHeader(name="x-api-key")
    app = Faster()

    def current_user(token: Annotated[str, Depends(oauth2)]) -> str:
        return token

    @app.get("/me")
    def me(token: Annotated[Any, Depends(bearer)]) -> None: ...

    @app.get("/items")
    def items(user: Annotated[str, Security(current_user, scopes=["items:read"])]) -> None: ...

    @app.get("/keyed", dependencies=[Depends(api_key)])
    def keyed() -> None: ...

    @app.get("/open")
    def open_route() -> None: ...

    assert operation(app, "/me")["security"] == [{"HTTPBearer": []}]
    assert operation(app, "/items")["security"] == [{"OAuth2PasswordBearer": ["items:read"]}]
    assert operation(app, "/keyed")["security"] == [{"APIKeyHeader": []}]
    assert "security" not in operation(app, "/open")
    schemes = app.openapi()["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {"type": "http", "scheme": "bearer"}
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"] == {
        "tokenUrl": "/token",
        "scopes": {"items:read": "Read items"},
    }
