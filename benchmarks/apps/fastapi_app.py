"""The benchmark endpoints written as a FastAPI user would write them (Pydantic models)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Header
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel

from apps.common import (
    FILE_PATH,
    SSE_EVENT_COUNT,
    STREAM_CHUNK,
    STREAM_CHUNK_COUNT,
    STREAM_MEDIA_TYPE,
    TEXT,
)

NAME = "FastAPI"

app = FastAPI()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


async def dep_a(x_token: Annotated[str, Header()]) -> str:
    return x_token


async def dep_b(token: Annotated[str, Depends(dep_a)]) -> dict:
    return {"token": token, "depth": 2}


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str, limit: int = 10):
    return {"item_id": item_id, "q": q, "limit": limit}


@app.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


@app.get("/deps")
async def deps(info: Annotated[dict, Depends(dep_b)]):
    return info


@app.get("/text", response_class=PlainTextResponse)
async def text():
    return TEXT


async def _chunks():
    for _ in range(STREAM_CHUNK_COUNT):
        yield STREAM_CHUNK


@app.get("/stream")
async def stream():
    return StreamingResponse(_chunks(), media_type=STREAM_MEDIA_TYPE)


@app.get("/file")
async def file():
    return FileResponse(FILE_PATH)


async def _events():
    for n in range(SSE_EVENT_COUNT):
        yield f'event: tick\nid: {n}\ndata: {{"n":{n}}}\n\n'.encode()


@app.get("/sse")
async def sse():
    return StreamingResponse(_events(), media_type="text/event-stream")
