"""An app for the reliability tests under real servers: it counts what reaches a handler.

``/stats`` reports how many requests reached each counting handler (``/echo`` counts only
once the whole body has arrived), what the framework logged at ERROR, and per stream when
its generator started and when its ``finally`` ran: a test in another process can check
that a smuggled request never arrived, that nothing crashed, and that a dropped stream's
generator was closed.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio

from FasterAPI import Faster, Request
from FasterAPI.response import StreamingResponse
from FasterAPI.sse import EventSourceResponse, ServerSentEvent
from FasterAPI.staticfiles import StaticFiles

app = Faster()
app.mount("/static", StaticFiles(directory=Path(__file__).parent / "reliability_static"))

HITS: Counter[str] = Counter()
ERRORS: list[str] = []
STREAMS: dict[str, dict[str, Any]] = {}
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


class _ErrorLog(logging.Handler):
    """Keeps what the framework logs at ERROR: every unhandled exception lands here."""

    def emit(self, record: logging.LogRecord) -> None:
        ERRORS.append(record.getMessage())


logging.getLogger("FasterAPI").addHandler(_ErrorLog(logging.ERROR))


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.api_route("/echo", methods=METHODS)
async def echo(request: Request) -> dict[str, int]:
    body = await request.body()
    HITS["echo"] += 1  # counted once the whole body has arrived
    return {"received": len(body)}


@app.api_route("/smuggled", methods=METHODS)
async def smuggled() -> dict[str, bool]:
    HITS["smuggled"] += 1
    return {"smuggled": True}


@app.get("/stats")
async def stats() -> dict[str, Any]:
    return {
        "hits": dict(HITS),
        "errors": ERRORS,
        "streams": STREAMS,
        "now": time.monotonic(),
        "pid": os.getpid(),
    }


async def _events(key: str, idle: bool, render: Callable[[int], Any]) -> AsyncIterator[Any]:
    """Three events at once, then one every 50 ms (``idle``: none, wait forever)."""
    record = STREAMS[key] = {"started": time.monotonic(), "sent": 0, "closed": None}
    try:
        for number in range(3):
            record["sent"] += 1
            yield render(number)
        while True:
            if idle:
                await anyio.sleep_forever()
            await anyio.sleep(0.05)
            record["sent"] += 1
            yield render(record["sent"])
    finally:
        record["closed"] = time.monotonic()


@app.get("/stream/{key}")
async def stream(key: str, idle: bool = False) -> StreamingResponse:
    return StreamingResponse(
        _events(key, idle, lambda number: b"event %d\n" % number), media_type="text/plain"
    )


@app.get("/polled/{key}")
async def polled(key: str, request: Request) -> StreamingResponse:
    """A generator that asks ``request.is_disconnected()`` before each event, as many
    tutorials show, while the framework watches for the disconnect too."""

    async def events() -> AsyncIterator[bytes]:
        record = STREAMS[key] = {"started": time.monotonic(), "sent": 0, "closed": None}
        try:
            while not await request.is_disconnected():
                record["sent"] += 1
                yield b"event %d\n" % record["sent"]
                await anyio.sleep(0.02 if record["sent"] > 3 else 0)
        finally:
            record["closed"] = time.monotonic()

    return StreamingResponse(events(), media_type="text/plain")


@app.get("/sse/{key}")
async def sse(key: str, idle: bool = False) -> EventSourceResponse:
    return EventSourceResponse(
        _events(key, idle, lambda number: ServerSentEvent(data={"n": number}, event="tick"))
    )
