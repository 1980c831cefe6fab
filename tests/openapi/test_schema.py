"""The OpenAPI document as a whole: info, components, caching, overrides, servers."""

import dataclasses
import warnings
from typing import Annotated, Any, TypedDict

import msgspec
from openapi_spec_validator import validate

from FasterAPI import (
    Body,
    Faster,
    FasterRouter,
)
from FasterAPI.openapi import get_openapi
from FasterAPI.openapi.utils import get_openapi as get_openapi_fastapi_path
from FasterAPI.testclient import TestClient
from openapi import shop_legacy
from openapi.support import Item, Node, Page, document, operation


def test_document_info_servers_and_tags():
    app = Faster(
        title="Shop",
        version="2.0",
        summary="Short",
        description="Long",
        terms_of_service="https://example.com/tos",
        contact={"name": "Team"},
        license_info={"name": "MIT", "identifier": "MIT"},
        servers=[{"url": "https://api.example.com"}],
        openapi_tags=[{"name": "items", "externalDocs": {"url": "https://example.com"}}],
    )
    doc = document(app)
    assert doc == {
        "openapi": "3.1.0",
        "info": {
            "title": "Shop",
            "summary": "Short",
            "description": "Long",
            "termsOfService": "https://example.com/tos",
            "contact": {"name": "Team"},
            "license": {"name": "MIT", "identifier": "MIT"},
            "version": "2.0",
        },
        "servers": [{"url": "https://api.example.com"}],
        "paths": {},
        "tags": [{"name": "items", "externalDocs": {"url": "https://example.com"}}],
    }


def test_include_in_schema_false_hides_route_and_docs_routes():
    app = Faster()

    @app.get("/hidden", include_in_schema=False)
    def hidden() -> None: ...

    @app.get("/shown")
    def shown() -> None: ...

    assert list(document(app)["paths"]) == ["/shown"]


def test_router_and_include_deprecate_and_hide_their_routes():
    old = FasterRouter(prefix="/old", deprecated=True)
    internal = FasterRouter(prefix="/internal", include_in_schema=False)
    plain = FasterRouter()

    @old.get("/a")
    def old_a() -> None: ...

    @internal.get("/b")
    def internal_b() -> None: ...

    @plain.get("/c")
    def plain_c() -> None: ...

    @plain.get("/d", deprecated=False)
    def plain_d() -> None: ...

    app = Faster(responses={418: {"description": "Teapot"}})
    app.include_router(old)
    app.include_router(internal)
    app.include_router(plain, prefix="/v1", deprecated=True)
    app.include_router(plain, prefix="/hidden", include_in_schema=False)

    doc = document(app)
    assert list(doc["paths"]) == ["/old/a", "/v1/c", "/v1/d"]
    assert doc["paths"]["/old/a"]["get"]["deprecated"] is True
    assert doc["paths"]["/v1/c"]["get"]["deprecated"] is True
    assert doc["paths"]["/v1/d"]["get"]["deprecated"] is True
    assert doc["paths"]["/v1/c"]["get"]["responses"]["418"]["description"] == "Teapot"
    client = TestClient(app)
    assert client.get("/internal/b").status_code == 200
    assert client.get("/hidden/c").status_code == 200


def test_component_names_do_not_clash():
    app = Faster()

    @app.get("/a")
    def a() -> Item:
        return Item("a", 1)

    @app.get("/b")
    def b() -> shop_legacy.Item:
        return shop_legacy.Item("s")

    doc = document(app)
    schemas = doc["components"]["schemas"]
    first = doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]
    second = doc["paths"]["/b"]["get"]["responses"]["200"]["content"]["application/json"]
    assert first["schema"]["$ref"] != second["schema"]["$ref"]
    assert schemas[first["schema"]["$ref"].rsplit("/", 1)[1]]["properties"].keys() == {
        "name",
        "price",
    }
    assert schemas[second["schema"]["$ref"].rsplit("/", 1)[1]]["properties"].keys() == {
        "sku",
        "discontinued",
    }
    validate(doc)


def test_body_component_named_like_a_model_keeps_its_own_ref():
    class Body_make_make_post(msgspec.Struct):  # noqa: N801 - the clashing name is the point
        made: int

    app = Faster()

    @app.post("/make")
    def make(a: Annotated[int, Body()], b: Annotated[str, Body()]) -> Body_make_make_post: ...

    doc = document(app)
    schemas = doc["components"]["schemas"]
    post = doc["paths"]["/make"]["post"]
    body_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    model_ref = post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref != model_ref
    assert set(schemas[body_ref.rsplit("/", 1)[1]]["properties"]) == {"a", "b"}
    assert set(schemas[model_ref.rsplit("/", 1)[1]]["properties"]) == {"made"}
    validate(doc)


def test_generic_name_clash_falls_back_to_renamed_components():
    app = Faster()

    @app.get("/a")
    def a() -> Page[Item]:
        return Page([])

    @app.get("/b")
    def b() -> Page[shop_legacy.Item]:
        return Page([])

    doc = document(app)
    refs = [
        doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        for path in ("/a", "/b")
    ]
    assert refs == [
        {"$ref": "#/components/schemas/Page_Item_"},
        {"$ref": "#/components/schemas/Page_Item_2"},
    ]
    schemas = doc["components"]["schemas"]
    assert schemas["Page_Item_"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/Item"
    }
    assert schemas["Page_Item_2"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/Item2"
    }
    assert set(schemas["Item2"]["properties"]) == {"sku", "discontinued"}
    validate(doc)


def test_msgspec_types_come_out_right():
    @dataclasses.dataclass
    class Point:
        x: int
        y: int = 0

    class Movie(TypedDict):
        title: str

    class Renamed(msgspec.Struct, rename="camel"):
        first_name: Annotated[str, msgspec.Meta(description="Given name", examples=["Ada"])]

    app = Faster()

    @app.post("/things")
    def things(point: Point, movie: Movie, renamed: Renamed, node: Node) -> None: ...

    schemas = document(app)["components"]["schemas"]
    assert schemas["Point"]["properties"] == {
        "x": {"type": "integer"},
        "y": {"type": "integer", "default": 0},
    }
    assert schemas["Movie"]["required"] == ["title"]
    assert schemas["Renamed"]["properties"] == {
        "firstName": {"description": "Given name", "examples": ["Ada"], "type": "string"}
    }
    assert schemas["Node"]["properties"]["children"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Node"},
        "default": [],
    }


def test_unsupported_type_gets_an_open_schema(caplog):
    class Opaque:
        pass

    app = Faster()

    @app.get("/o", response_model=Opaque)
    def o() -> Any:
        return None

    responses = operation(app, "/o")["responses"]
    assert responses["200"]["content"] == {"application/json": {"schema": {}}}


def test_app_openapi_is_cached_and_rebuilt_when_routes_change():
    app = Faster()

    @app.get("/one")
    def one() -> None: ...

    first = app.openapi()
    assert app.openapi() is first
    assert app.openapi_schema is first

    @app.get("/two")
    def two() -> None: ...

    second = app.openapi()
    assert second is not first
    assert list(second["paths"]) == ["/one", "/two"]


def test_app_openapi_can_be_overridden_like_fastapi():
    app = Faster(title="T")

    @app.get("/one")
    def one() -> None: ...

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title="Custom", version="9", routes=app.routes)
        schema["info"]["x-logo"] = {"url": "/logo.png"}
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    doc = document(app)
    assert doc["info"] == {"title": "Custom", "version": "9", "x-logo": {"url": "/logo.png"}}
    assert list(doc["paths"]) == ["/one"]
    assert get_openapi_fastapi_path is get_openapi


def test_assigned_openapi_schema_is_kept_when_routes_change():
    app = Faster()
    app.openapi_schema = {"openapi": "3.1.0", "info": {"title": "Fixed", "version": "1"}}

    @app.get("/later")
    def later() -> None: ...

    assert document(app)["info"]["title"] == "Fixed"


def test_openapi_url_none_serves_nothing():
    app = Faster(openapi_url=None)
    client = TestClient(app)
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404


def test_custom_openapi_url():
    app = Faster(openapi_url="/api/schema.json")
    client = TestClient(app)
    assert client.get("/api/schema.json").json()["openapi"] == "3.1.0"
    assert client.get("/openapi.json").status_code == 404


def test_root_path_becomes_the_server_when_none_given():
    app = Faster()

    @app.get("/x")
    def x() -> None: ...

    doc = TestClient(app, root_path="/api/v1").get("/openapi.json").json()
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert "servers" not in app.openapi()
    assert "servers" not in document(app)


def test_root_path_from_the_app_and_explicit_servers():
    prefixed = Faster(root_path="/proxy")
    doc = TestClient(prefixed).get("/openapi.json").json()
    assert doc["servers"] == [{"url": "/proxy"}]
    explicit = Faster(root_path="/proxy", servers=[{"url": "https://x.example"}])
    assert TestClient(explicit).get("/openapi.json").json()["servers"] == [
        {"url": "https://x.example"}
    ]
    off = Faster(root_path="/proxy", root_path_in_servers=False)
    assert "servers" not in TestClient(off).get("/openapi.json").json()


def test_shop_document_is_valid_openapi_31():
    from openapi.shop import app

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doc = document(app)
    validate(doc)
    schemas = doc["components"]["schemas"]
    assert {"openapi.shop.Item", "openapi.shop_legacy.Item", "Page_Item_"} <= set(schemas)
    login = doc["paths"]["/users/token"]["post"]
    assert login["summary"] == "Log in"
    assert login["description"] == "Trade a username and password for a token."
    assert doc["paths"]["/legacy/items"]["get"]["deprecated"] is True
    assert "/" not in doc["paths"]


def test_get_openapi_standalone_skips_other_route_kinds():
    router = FasterRouter()

    @router.get("/a")
    def a() -> None: ...

    @router.websocket("/ws")
    async def ws() -> None: ...

    router.mount("/static", Faster())
    doc = get_openapi(title="R", version="1", routes=router.routes)
    assert list(doc["paths"]) == ["/a"]
    assert "components" not in doc


def test_a_type_msgspec_rejects_does_not_break_the_document(caplog):
    from FasterAPI.openapi.schema import schema_components

    rejected = Annotated[int | None, msgspec.Meta(max_length=3)]
    schemas, components = schema_components([Item, rejected, list[int]])
    assert schemas == (
        {"$ref": "#/components/schemas/Item"},
        {},
        {"type": "array", "items": {"type": "integer"}},
    )
    assert list(components) == ["Item"]
    assert "No OpenAPI schema for" in caplog.text


def test_enums_carry_their_json_type_and_user_values_stay_as_given():
    import enum
    from typing import Literal

    class Level(enum.IntEnum):
        low = 1
        high = 2

    class Settings(msgspec.Struct):
        level: Level
        mode: Literal["fast", "safe"]
        mixed: Literal["a", 1] = "a"
        extra: dict[str, Any] = {}

    app = Faster()

    @app.post("/settings", openapi_extra={"x-sample": {"enum": ["kept"]}})
    def settings(body: Settings) -> Settings:
        return body

    doc = document(app)
    validate(doc)
    schemas = doc["components"]["schemas"]
    assert schemas["Level"]["type"] == "integer"
    fields = schemas["Settings"]["properties"]
    assert fields["mode"] == {"enum": ["fast", "safe"], "type": "string"}
    assert "type" not in fields["mixed"]  # values of two JSON types
    assert doc["paths"]["/settings"]["post"]["x-sample"] == {"enum": ["kept"]}
