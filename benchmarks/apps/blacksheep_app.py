"""The benchmark endpoints written as a BlackSheep user would write them.

BlackSheep's dependency injection (rodi) composes services, not per-request values; the
idiomatic way to turn request data into a handler argument is a custom binder. The
two-level dependency is therefore two binders: ``DepB``'s binder asks ``DepA``'s binder,
which reads the required ``x-token`` header.
"""

from __future__ import annotations

from dataclasses import dataclass

from blacksheep import Application, FromJSON, Request, Response, StreamedContent, json, text
from blacksheep.exceptions import BadRequest
from blacksheep.server.bindings import Binder

from apps.common import STREAM_CHUNK, STREAM_CHUNK_COUNT, STREAM_MEDIA_TYPE, TEXT, TOKEN_HEADER

# The FileResponse and SSE endpoints are measured against FastAPI and the raw app only.
UNSUPPORTED = {"file", "sse"}

NAME = "BlackSheep"

app = Application(show_error_details=False)
get = app.router.get
post = app.router.post


@dataclass
class Item:
    name: str
    price: float
    tags: list[str]


@dataclass
class DepA:
    token: str


@dataclass
class DepB:
    token: str
    depth: int


class DepABinder(Binder):
    type_alias = DepA
    _header = TOKEN_HEADER.encode()

    def __init__(self, implicit: bool = True):
        super().__init__(DepA, implicit=implicit)

    async def get_value(self, request: Request) -> DepA:
        value = request.get_first_header(self._header)
        if value is None:
            raise BadRequest(f"Missing header {TOKEN_HEADER}")
        return DepA(value.decode("latin-1"))


class DepBBinder(Binder):
    type_alias = DepB

    def __init__(self, implicit: bool = True):
        super().__init__(DepB, implicit=implicit)
        self._dep_a = DepABinder()

    async def get_value(self, request: Request) -> DepB:
        dep_a = await self._dep_a.get_value(request)
        return DepB(dep_a.token, 2)


@get("/health")
async def health():
    return json({"status": "ok"})


@get("/items/{item_id}")
async def read_item(item_id: int, q: str, limit: int = 10):
    return json({"item_id": item_id, "q": q, "limit": limit})


@post("/items")
async def create_item(item: FromJSON[Item]):
    return json(item.value, status=201)


@get("/deps")
async def deps(info: DepB):
    return json(info)


@get("/text")
async def hello_text():
    return text(TEXT)


async def _chunks():
    for _ in range(STREAM_CHUNK_COUNT):
        yield STREAM_CHUNK


@get("/stream")
async def stream():
    return Response(200, content=StreamedContent(STREAM_MEDIA_TYPE.encode(), _chunks))
