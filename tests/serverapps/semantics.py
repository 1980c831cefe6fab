"""An app for HTTP semantics through real servers: every kind of response (for HEAD),
bodies refused before they are read, and responses whose body a middleware rewrites."""

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

    @app.get("/stated-length")
    async def stated_length() -> Response:
        """A length that is not the body's (copied from elsewhere, say)."""
        return Response(b"hello world", headers={"Content-Length": "5"})

    @app.head("/head-only")
    async def head_only() -> Response:
        """A HEAD answer stating the length a GET would have."""
        return Response(headers={"Content-Length": "1234"})

    @app.post("/item")
    async def item(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.post("/small", max_body_size=10)
    async def small(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


app = build()

# The same routes behind a middleware that rewrites every body, copying the headers.
rewritten = build()


@rewritten.middleware("http")
async def rewrite(request: Request, call_next):  # type: ignore[no-untyped-def]
    response = await call_next(request)
    body = b"".join([chunk async for chunk in response.body_iterator])
    return Response(
        body + b"!",
        status_code=response.status_code,
        headers=dict(response.headers),
        media_type=response.media_type,
    )
