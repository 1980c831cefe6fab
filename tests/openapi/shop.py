"""A shop API that uses every documented feature; its OpenAPI document is validated against
the OpenAPI 3.1 schema, browsed with Chromium and fuzzed with schemathesis.

Run it: ``uvicorn openapi.shop:app --app-dir tests`` and open /docs.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Generic, Literal, TypedDict, TypeVar

import msgspec

from FasterAPI import (
    Body,
    Cookie,
    Depends,
    Faster,
    FasterRouter,
    Form,
    Header,
    HTMLResponse,
    HTTPException,
    Path,
    PlainTextResponse,
    Query,
    UploadFile,
)
from openapi import shop_legacy

T = TypeVar("T")


class Category(enum.Enum):
    BOOKS = "books"
    GAMES = "games"


class Dimensions(msgspec.Struct, rename="camel"):
    width_cm: Annotated[float, msgspec.Meta(gt=0, le=1000)]
    height_cm: Annotated[float, msgspec.Meta(gt=0, le=1000)]


class ItemIn(msgspec.Struct, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50, description="Shown in the shop")]
    price: Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]
    category: Category = Category.BOOKS
    tags: list[str] = []
    dimensions: Dimensions | None = None


class Item(ItemIn, kw_only=True):
    """An item for sale."""

    id: int


class CategoryNode(msgspec.Struct):
    name: str
    children: list[CategoryNode] = []


@dataclasses.dataclass
class Review:
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]
    text: str = ""


class Stats(TypedDict):
    items: int
    reviews: int


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int


class Message(msgspec.Struct):
    detail: str


class Token(msgspec.Struct):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class Upload(msgspec.Struct):
    filename: str
    size: int
    description: str


ITEMS: dict[int, Item] = {
    1: Item(id=1, name="Dune", price=9.5, tags=["classic"]),
    2: Item(id=2, name="Chess", price=20, category=Category.GAMES),
}
REVIEWS: dict[int, list[Review]] = {1: [Review(5, "Great")]}
MAX_ITEMS = 1000

app = Faster(
    title="Shop",
    version="1.2.0",
    summary="A shop that uses every feature of the OpenAPI generator.",
    description="Items, reviews, users and **markdown** in the description.",
    terms_of_service="https://example.com/terms",
    contact={"name": "Shop team", "email": "shop@example.com"},
    license_info={"name": "MIT", "identifier": "MIT"},
    openapi_tags=[
        {"name": "items", "description": "Things to buy."},
        {
            "name": "users",
            "description": "Accounts.",
            "externalDocs": {"url": "https://example.com/users"},
        },
    ],
    swagger_ui_parameters={"defaultModelsExpandDepth": 0},
)


def pagination(
    limit: Annotated[int, Query(ge=1, le=50, description="Page size")] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> tuple[int, int]:
    return limit, offset


def find_item(item_id: Annotated[int, Path(ge=1, description="The item's id")]) -> Item:
    item = ITEMS.get(item_id)
    if item is None:
        raise HTTPException(404, f"Item {item_id} not found")
    return item


items = FasterRouter(
    prefix="/items",
    tags=["items"],
    responses={404: {"model": Message, "description": "Item not found"}},
)


@items.get("")
def list_items(
    page: Annotated[tuple[int, int], Depends(pagination)],
    tag: Annotated[list[str], Query(description="Any of these tags")] = [],
    category: Category | None = None,
    sort: Literal["name", "price"] = "name",
) -> Page[Item]:
    """List the items, filtered and sorted."""
    limit, offset = page
    found = [
        item
        for item in ITEMS.values()
        if (not tag or set(tag) & set(item.tags))
        and (category is None or item.category == category)
    ]
    found.sort(key=lambda item: getattr(item, sort))
    return Page(found[offset : offset + limit], len(found))


@items.post("", status_code=201, response_description="The new item")
def create_item(
    item: ItemIn,
    x_request_id: Annotated[str, Header(max_length=64)] = "",
) -> Item:
    if len(ITEMS) >= MAX_ITEMS:
        ITEMS.pop(max(ITEMS))
    new = Item(id=max(ITEMS, default=0) + 1, **msgspec.structs.asdict(item))
    ITEMS[new.id] = new
    return new


@items.get("/{item_id}")
def read_item(item: Annotated[Item, Depends(find_item)]) -> Item:
    return item


@items.put("/{item_id}")
def replace_item(
    item_id: Annotated[int, Path(ge=1)],
    item: ItemIn,
    note: Annotated[str, Body(max_length=200, examples=["restocked"])] = "",
    current: Item = Depends(find_item),
) -> Item:
    replaced = Item(id=item_id, **msgspec.structs.asdict(item))
    ITEMS[item_id] = replaced
    return replaced


@items.delete("/{item_id}", status_code=204)
def delete_item(item: Annotated[Item, Depends(find_item)]) -> None:
    if len(ITEMS) > 1:
        ITEMS.pop(item.id, None)


@items.get("/{item_id}/reviews")
def list_reviews(item: Annotated[Item, Depends(find_item)]) -> list[Review]:
    return REVIEWS.get(item.id, [])


@items.post("/{item_id}/reviews", status_code=201)
def add_review(item: Annotated[Item, Depends(find_item)], review: Review) -> Review:
    REVIEWS.setdefault(item.id, []).append(review)
    del REVIEWS[item.id][:-20]
    return review


users = FasterRouter(prefix="/users", tags=["users"])
FORM_ERRORS = {
    400: {"model": Message, "description": "A malformed form"},
    415: {"model": Message, "description": "The body is not a form"},
}


@users.post("/token", summary="Log in", responses=FORM_ERRORS)
def login(
    username: Annotated[str, Form(min_length=1, max_length=50)],
    password: Annotated[str, Form(min_length=1, max_length=50)],
) -> Token:
    """Trade a username and password for a token.
    \f
    Internal notes that the docs do not show.
    """
    return Token(access_token=f"token-{username}")


@users.post("/avatar", status_code=201, responses=FORM_ERRORS)
async def upload_avatar(
    file: UploadFile, description: Annotated[str, Form(max_length=100)] = ""
) -> Upload:
    data = await file.read()
    return Upload(filename=file.filename or "", size=len(data), description=description)


@users.get("/me")
def who_am_i(
    session_id: Annotated[str | None, Cookie(description="Set by /users/token")] = None,
    user_agent: Annotated[str | None, Header()] = None,
) -> dict[str, str | None]:
    return {"session": session_id, "agent": user_agent}


legacy = FasterRouter(prefix="/legacy", tags=["legacy"])


@legacy.get("/items", deprecated=True)
def legacy_items() -> list[shop_legacy.Item]:
    return [shop_legacy.Item(sku="A-1")]


app.include_router(items)
app.include_router(users)
app.include_router(legacy)


@app.get("/", response_class=HTMLResponse, include_in_schema=False)
def home() -> str:
    return '<a href="/docs">API docs</a>'


@app.get("/health", response_class=PlainTextResponse)
def health() -> str:
    return "ok"


@app.get("/categories")
def categories() -> CategoryNode:
    return CategoryNode("all", [CategoryNode("books", [CategoryNode("sci-fi")])])


@app.get(
    "/stats",
    responses={
        200: {"headers": {"X-Items": {"schema": {"type": "integer"}}}},
        "5XX": {"model": Message},
    },
    openapi_extra={"x-internal": False},
)
def stats() -> Stats:
    return {"items": len(ITEMS), "reviews": sum(len(r) for r in REVIEWS.values())}


@app.get("/files/{file_path:path}", response_class=PlainTextResponse)
def read_file(file_path: str) -> str:
    return f"file {file_path}"
