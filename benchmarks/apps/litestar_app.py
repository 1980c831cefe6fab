"""The benchmark endpoints written as a Litestar user would write them (msgspec Structs)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Litestar, MediaType, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Stream

from apps.common import STREAM_CHUNK, STREAM_CHUNK_COUNT, STREAM_MEDIA_TYPE, TEXT, TOKEN_HEADER

# The FileResponse and SSE endpoints are measured against FastAPI and the raw app only.
UNSUPPORTED = {"file", "sse"}

NAME = "Litestar"


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


async def dep_a(x_token: Annotated[str, Parameter(header=TOKEN_HEADER)]) -> str:
    return x_token


async def dep_b(dep_a: str) -> dict[str, object]:
    return {"token": dep_a, "depth": 2}


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/items/{item_id:int}")
async def read_item(item_id: int, q: str, limit: int = 10) -> dict[str, object]:
    return {"item_id": item_id, "q": q, "limit": limit}


@post("/items")
async def create_item(data: Item) -> Item:
    return data


@get(
    "/deps",
    dependencies={"dep_a": Provide(dep_a), "dep_b": Provide(dep_b)},
)
async def deps(dep_b: dict[str, object]) -> dict[str, object]:
    return dep_b


@get("/text", media_type=MediaType.TEXT)
async def text() -> str:
    return TEXT


async def _chunks():
    for _ in range(STREAM_CHUNK_COUNT):
        yield STREAM_CHUNK


@get("/stream")
async def stream() -> Stream:
    return Stream(_chunks(), media_type=STREAM_MEDIA_TYPE)


app = Litestar(route_handlers=[health, read_item, create_item, deps, text, stream])
