"""Operation responses: models, status codes, media types, responses=, 422."""

import enum
from collections.abc import AsyncIterable, Iterator
from typing import Any

from FasterAPI import (
    EventSourceResponse,
    Faster,
    FasterRouter,
    HTMLResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from FasterAPI.testclient import TestClient
from openapi.support import VALIDATION_422, Item, Node, document, operation


def test_responses_from_model_status_and_description():
    app = Faster()

    @app.post("/items", status_code=201, response_description="Created")
    def create() -> Item:
        return Item("a", 1)

    @app.get("/list", response_model=list[Item])
    def many() -> Any:
        return []

    @app.get("/free")
    def free():
        return {}

    doc = document(app)
    assert doc["paths"]["/items"]["post"]["responses"] == {
        "201": {
            "description": "Created",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
        }
    }
    assert doc["paths"]["/list"]["get"]["responses"]["200"]["content"] == {
        "application/json": {
            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}
        }
    }
    assert doc["paths"]["/free"]["get"]["responses"] == {
        "200": {
            "description": "Successful Response",
            "content": {"application/json": {"schema": {}}},
        }
    }


def test_response_media_type_follows_response_class():
    class CSVResponse(Response):
        media_type = "text/csv"

    class ProblemJSON(Response):
        media_type = "application/problem+json"

    app = Faster()

    @app.get("/html", response_class=HTMLResponse)
    def html() -> str:
        return ""

    @app.get("/text", response_class=PlainTextResponse)
    def text() -> str:
        return ""

    @app.get("/csv", response_class=CSVResponse)
    def csv() -> str:
        return ""

    @app.get("/problem", response_class=ProblemJSON)
    def problem() -> None: ...

    @app.get("/raw", response_class=Response)
    def raw() -> None: ...

    paths = document(app)["paths"]
    assert paths["/html"]["get"]["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    assert paths["/text"]["get"]["responses"]["200"]["content"] == {
        "text/plain": {"schema": {"type": "string"}}
    }
    assert paths["/csv"]["get"]["responses"]["200"]["content"] == {
        "text/csv": {"schema": {"type": "string"}}
    }
    assert paths["/problem"]["get"]["responses"]["200"]["content"] == {
        "application/problem+json": {"schema": {}}
    }
    assert paths["/raw"]["get"]["responses"]["200"] == {"description": "Successful Response"}


def test_streaming_endpoints_document_their_media_type_without_warnings(caplog):
    app = Faster()

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterable[Item]:
        yield Item("a", 1)

    @app.get("/lines", response_class=StreamingResponse)
    def lines() -> Iterator[bytes]:
        yield b"a"

    @app.get("/jsonish")
    def jsonish() -> Iterator[Item]:
        yield Item("a", 1)

    with caplog.at_level("WARNING", logger="FasterAPI"):
        paths = document(app)["paths"]
    assert caplog.records == []
    assert paths["/events"]["get"]["responses"]["200"]["content"] == {
        "text/event-stream": {"schema": {"type": "string"}}
    }
    assert paths["/lines"]["get"]["responses"]["200"] == {"description": "Successful Response"}
    assert paths["/jsonish"]["get"]["responses"]["200"]["content"] == {
        "application/json": {"schema": {}}
    }


def test_no_content_for_204_and_304():
    app = Faster()

    @app.delete("/items/{item_id}", status_code=204, responses={304: {"description": "Same"}})
    def delete(item_id: int) -> None: ...

    responses = operation(app, "/items/{item_id}", "delete")["responses"]
    assert responses == {
        "204": {"description": "Successful Response"},
        "304": {"description": "Same"},
        "422": VALIDATION_422,
    }


def test_enum_status_codes_are_written_as_numbers():
    # On Python 3.10 str(HTTPStatus.CREATED) is "HTTPStatus.CREATED"; an int-valued Enum
    # prints its name on every version.
    class Code(int, enum.Enum):
        CREATED = 201
        GONE = 410

    app = Faster()

    @app.post("/items", status_code=Code.CREATED, responses={Code.GONE: {"description": "Gone"}})
    def create() -> None: ...

    assert TestClient(app).post("/items").status_code == 201
    responses = operation(app, "/items", "post")["responses"]
    assert list(responses) == ["201", "410"]
    assert responses["410"]["description"] == "Gone"


def test_additional_responses_model_description_headers_content_default():
    router = FasterRouter(responses={404: {"description": "Missing", "model": Item}})
    app = Faster()

    @router.get(
        "/img",
        responses={
            200: {"content": {"image/png": {}}, "description": "An image or JSON"},
            "4XX": {"headers": {"X-Reason": {"schema": {"type": "string"}}}},
            "default": {"model": Node},
            418: {},
        },
    )
    def img() -> Item:
        return Item("a", 1)

    app.include_router(router)
    responses = operation(app, "/img")["responses"]
    assert responses == {
        "200": {
            "description": "An image or JSON",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Item"}},
                "image/png": {},
            },
        },
        "404": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
            "description": "Missing",
        },
        "4XX": {
            "content": {"application/json": {"schema": {}}},
            "headers": {"X-Reason": {"schema": {"type": "string"}}},
            "description": "Client Error",
        },
        "default": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}},
            "description": "Default Response",
        },
        "418": {
            "content": {"application/json": {"schema": {}}},
            "description": "I'm a Teapot",
        },
    }


def test_additional_response_with_its_own_content_is_not_also_json():
    app = Faster()

    @app.get(
        "/report",
        responses={
            404: {"description": "No report", "content": {"text/plain": {"example": "none"}}},
            409: {"model": Item, "content": {"application/xml": {}}},
        },
    )
    def report() -> Item:
        return Item("a", 1)

    responses = operation(app, "/report")["responses"]
    assert responses["404"] == {
        "description": "No report",
        "content": {"text/plain": {"example": "none"}},
    }
    assert responses["409"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}},
        "application/xml": {},
    }


def test_validation_error_schemas_only_where_input_can_fail():
    app = Faster()

    @app.get("/plain")
    def plain() -> None: ...

    @app.get("/checked")
    def checked(n: int) -> None: ...

    @app.get("/own", responses={422: {"description": "Mine"}})
    def own(n: int) -> None: ...

    doc = document(app)
    assert "422" not in doc["paths"]["/plain"]["get"]["responses"]
    assert doc["paths"]["/checked"]["get"]["responses"]["422"] == VALIDATION_422
    assert doc["paths"]["/own"]["get"]["responses"]["422"]["description"] == "Mine"
    schemas = doc["components"]["schemas"]
    assert schemas["HTTPValidationError"] == {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {
                "title": "Detail",
                "type": "array",
                "items": {"$ref": "#/components/schemas/ValidationError"},
            }
        },
        "required": ["detail"],
    }
    assert schemas["ValidationError"]["required"] == ["loc", "msg", "type"]
    assert schemas["ValidationError"]["properties"]["loc"] == {
        "title": "Location",
        "type": "array",
        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    }


def test_validation_error_schema_matches_a_real_422():
    app = Faster()

    @app.get("/n")
    def n(n: int) -> None: ...

    client = TestClient(app)
    body = client.get("/n?n=x").json()
    schema = document(app)["components"]["schemas"]
    entry = body["detail"][0]
    assert set(schema["ValidationError"]["required"]) <= set(entry)
    assert set(entry) <= set(schema["ValidationError"]["properties"])
