"""Middleware wrapped around a mounted app sees every answer, on ASGI and on RSGI alike.

On RSGI the app may answer straight through Granian's protocol object (one call for a
fixed body, a stream, a byte range of a file); behind a mount whose app is wrapped in
plain ASGI middleware it must go through the middleware's ``send`` instead.
"""

from pathlib import Path

from FasterAPI import Faster, StreamingResponse
from FasterAPI.staticfiles import StaticFiles
from FasterAPI.testclient import TestClient


class StampAnswers:
    """Plain ASGI middleware adding ``x-stamped: yes`` to every response start."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def stamped(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"x-stamped", b"yes")]}
            await send(message)

        await self.app(scope, receive, stamped)


def make_app(folder: Path) -> Faster:
    (folder / "data.bin").write_bytes(bytes(range(256)) * 4)
    api = Faster()

    @api.get("/json")
    async def json_answer() -> dict[str, int]:
        return {"n": 1}

    @api.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks():
            yield b"one "
            yield b"two"

        return StreamingResponse(chunks(), media_type="text/plain")

    app = Faster()
    app.mount("/files", StampAnswers(StaticFiles(directory=folder)))
    app.mount("/api", StampAnswers(api))
    return app


def test_mounted_middleware_sees_fixed_bodies_streams_and_file_ranges(tmp_path: Path) -> None:
    client = TestClient(make_app(tmp_path))

    json_answer = client.get("/api/json")
    stream = client.get("/api/stream")
    whole = client.get("/files/data.bin")
    again = client.get("/files/data.bin")
    span = client.get("/files/data.bin", headers={"range": "bytes=10-19"})

    assert json_answer.json() == {"n": 1}
    assert stream.content == b"one two"
    assert whole.content == again.content == bytes(range(256)) * 4
    assert span.status_code == 206
    assert span.content == bytes(range(10, 20))
    for response in (json_answer, stream, whole, again, span):
        assert response.headers.get("x-stamped") == "yes", response.request.url
