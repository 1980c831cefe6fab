"""An app for HTTP semantics through real servers: every kind of response (for HEAD) and
bodies refused before they are read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec

from FasterAPI import Faster, FileResponse, Request, Response
from FasterAPI.response import RedirectResponse, StreamingResponse
from FasterAPI.sse import EventSourceResponse, ServerSentEvent

STATIC = Path(__file__).parent / "reliability_static" / "hello.txt"


class Item(msgspec.Struct):
    name: str


def build() -> Faster:
    app = Faster()

    @app.get("/json")
    async def json_body() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"one "
            yield b"two"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/sse")
    async def sse() -> EventSourceResponse:
        async def events() -> AsyncIterator[ServerSentEvent]:
            yield ServerSentEvent(data="one")

        return EventSourceResponse(events())

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(STATIC)

    @app.get("/redirect")
    async def redirect() -> RedirectResponse:
        return RedirectResponse("/json")

    @app.get("/nocontent", status_code=204)
    async def nocontent() -> None:
        return None

    @app.get("/notmodified")
    async def notmodified() -> Response:
        return Response(status_code=304, headers={"etag": '"v1"'})

    @app.post("/item")
    async def item(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.post("/small", max_body_size=10)
    async def small(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


app = build()
