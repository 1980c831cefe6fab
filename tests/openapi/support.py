"""Models and helpers shared by the OpenAPI tests."""

import enum
from typing import Annotated, Any, Generic, TypeVar

import msgspec

from FasterAPI import Faster
from FasterAPI.testclient import TestClient

T = TypeVar("T")


VALIDATION_422 = {
    "description": "Validation Error",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    },
}


class Item(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(ge=0)]


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Node(msgspec.Struct):
    value: int
    children: "list[Node]" = []


class Page(msgspec.Struct, Generic[T]):
    items: list[T]


def document(app: Faster) -> dict[str, Any]:
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()


def operation(app: Faster, path: str, method: str = "get") -> dict[str, Any]:
    return document(app)["paths"][path][method]
