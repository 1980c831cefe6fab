"""An app served by real servers in the tests: websockets with auth, health, uploads."""

from __future__ import annotations

import asyncio
import hashlib
import logging

from FasterAPI import (
    Depends,
    Faster,
    Query,
    Request,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
)

app = Faster()


class Recorder(logging.Handler):
    """Keeps what the app and the server log at WARNING or above, for ``/logged``."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname}: {record.getMessage()}")


LOGGED = Recorder()
for _name in ("FasterAPI", "uvicorn.error", "_granian"):
    logging.getLogger(_name).addHandler(LOGGED)

TOKENS = {"secret-token": "alice"}


def websocket_user(token: str = Query("")) -> str:
    user = TOKENS.get(token)
    if user is None:
        raise WebSocketException(1008, "bad token")
    return user


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.websocket("/ws/{room}")
async def room(websocket: WebSocket, room: int, user: str = Depends(websocket_user)) -> None:
    await websocket.accept()
    async for message in websocket.iter_json():
        await websocket.send_json({"room": room, "user": user, "echo": message})


@app.post("/upload", max_body_size=256 * 1024 * 1024)
async def upload(file: UploadFile) -> dict[str, object]:
    digest = hashlib.sha256()
    while chunk := await file.read(1024 * 1024):
        digest.update(chunk)
    return {"size": file.size, "sha256": digest.hexdigest()}


@app.post("/stream-size")
async def stream_size(request: Request) -> int:
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
    return total


# How each watched connection ended, by key: what the handler saw when the client left.
OUTCOMES: dict[str, str] = {}


@app.websocket("/watch/{key}/{mode}")
async def watch(websocket: WebSocket, key: str, mode: str) -> None:
    await websocket.accept()
    try:
        if mode == "receive":
            while True:
                await websocket.receive_text()
        for _ in range(200):  # mode == "send": a feed the client stops reading
            await websocket.send_text("tick")
            await asyncio.sleep(0.01)
        OUTCOMES[key] = "still sending"
    except WebSocketDisconnect as exc:
        OUTCOMES[key] = f"disconnect {exc.code}"
    except Exception as exc:
        OUTCOMES[key] = f"error {type(exc).__name__}"
        raise


@app.get("/logged")
async def logged() -> list[str]:
    return LOGGED.lines


@app.get("/outcome/{key}")
async def outcome(key: str) -> str | None:
    return OUTCOMES.get(key)


@app.websocket("/text-only")
async def text_only(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())


@app.websocket("/bytes-only")
async def bytes_only(websocket: WebSocket) -> None:
    await websocket.accept()
    async for data in websocket.iter_bytes():
        await websocket.send_bytes(data)


@app.websocket("/json-binary")
async def json_binary(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        await websocket.send_json(await websocket.receive_json(mode="binary"), mode="binary")


@app.websocket("/bug")
async def bug(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_text()
    raise RuntimeError("a bug in the handler")


@app.websocket("/long-reason/{how}")
async def long_reason(websocket: WebSocket, how: str) -> None:
    await websocket.accept()
    if how == "exception":
        raise WebSocketException(1008, "bad token " + "x" * 200)
    await websocket.close(4000, "é" * 100)  # 200 bytes of UTF-8


@app.websocket("/close-with/{code}")
async def close_with(websocket: WebSocket, code: int) -> None:
    await websocket.accept()
    await websocket.close(code)  # an invalid code is a ValueError: the route closes with 1011
