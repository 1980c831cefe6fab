"""A small real API: items in SQLite, JWT login, a CSV download, an SSE feed, a chat.

One process needs nothing else. For several workers (``fasterapi run examples.demo:app
--workers 4``) or machines, set ``DEMO_REDIS_URL`` (live events, chat rooms, the rate limit
and the item-list cache are then shared through Redis), ``DEMO_SECRET`` (every worker
must sign and check tokens with the same key) and ``DEMO_DATABASE_URL``.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from examples.demo import auth
from examples.demo.database import ItemRow, SessionDep, create_tables, engine
from examples.demo.live import FEED, REDIS_URL, broadcast, chat_channel
from examples.demo.scaling import add_scaling
from FasterAPI import (
    BackgroundTasks,
    Faster,
    FasterRouter,
    FileResponse,
    Header,
    HTTPException,
    Path,
    Query,
    WebSocket,
    WebSocketException,
)
from FasterAPI.concurrency import run_in_threadpool
from FasterAPI.sse import EventSourceResponse, ServerSentEvent
from FasterAPI.sse_broadcast import channel_events
from FasterAPI.websocket_room import Room

INT64_MAX = 2**63 - 1  # SQLite integers are 64-bit


class ItemIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    price: Annotated[float, msgspec.Meta(ge=0)]


class Item(msgspec.Struct):
    id: int
    name: str
    price: float
    owner: str


def to_item(row: ItemRow) -> Item:
    return Item(id=row.id, name=row.name, price=row.price, owner=row.owner)


@asynccontextmanager
async def lifespan(app: Faster) -> AsyncIterator[None]:
    await create_tables()
    yield
    await broadcast.aclose()
    await engine.dispose()


app = Faster(
    title="FasterAPI demo",
    version="1.0.0",
    description="Items in SQLite, JWT login, a CSV export, live events and chat rooms.",
    lifespan=lifespan,
)
add_scaling(app, REDIS_URL)
items = FasterRouter(prefix="/items", tags=["items"])


@app.get("/health", tags=["ops"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/ready", tags=["ops"])
async def ready() -> dict[str, Any]:
    """Readiness: this worker serves, and whether Redis answers. A Redis outage does not
    make the worker unready (it serves on, per process), so the answer stays 200."""
    redis = "not configured"
    if REDIS_URL is not None:
        redis = "up" if await broadcast.ping() else "down"
    status = "degraded" if redis == "down" else "ready"
    return {"status": status, "redis": redis, "worker": os.getpid()}


app.add_api_route(
    "/token",
    auth.login,
    methods=["POST"],
    tags=["auth"],
    responses={400: {"description": "Wrong username or password"}},
)
AUTH_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing or invalid bearer token"},
}
NOT_FOUND: dict[int | str, dict[str, str]] = {404: {"description": "No such item"}}
ItemId = Annotated[int, Path(ge=1, le=INT64_MAX)]


@items.get("")
async def list_items(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
) -> list[Item]:
    rows = await session.scalars(select(ItemRow).order_by(ItemRow.id).limit(limit).offset(offset))
    return [to_item(row) for row in rows]


@items.post("", status_code=201, responses=AUTH_ERRORS)
async def create_item(item: ItemIn, session: SessionDep, user: auth.CurrentUser) -> Item:
    row = ItemRow(name=item.name, price=item.price, owner=user)
    session.add(row)
    await session.commit()  # announced only once it is stored
    created = to_item(row)
    await broadcast.publish(FEED, {"event": "created", "item": msgspec.to_builtins(created)})
    return created


@items.get(
    "/export.csv",
    response_class=FileResponse,
    responses={200: {"description": "Every item, as CSV", "content": {"text/csv": {}}}},
)
async def export_items(session: SessionDep, tasks: BackgroundTasks) -> FileResponse:
    rows = await session.scalars(select(ItemRow).order_by(ItemRow.id))
    table = [(row.id, _cell(row.name), row.price, _cell(row.owner)) for row in rows]
    path = await run_in_threadpool(_write_csv, table)  # file writes stay off the loop
    tasks.add_task(os.unlink, path)
    return FileResponse(path, filename="items.csv", media_type="text/csv")


def _write_csv(table: list[tuple[Any, ...]]) -> str:
    """The rows in a new temporary CSV file: its path (the caller deletes it)."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
        try:
            writer = csv.writer(handle)
            writer.writerow(["id", "name", "price", "owner"])
            writer.writerows(table)
        except BaseException:
            os.unlink(handle.name)
            raise
    return handle.name


def _cell(text: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@items.get("/{item_id}", responses=NOT_FOUND)
async def read_item(item_id: ItemId, session: SessionDep) -> Item:
    row = await session.get(ItemRow, item_id)
    if row is None:
        raise HTTPException(404, f"Item {item_id} not found")
    return to_item(row)


async def refusal(session: AsyncSession, item_id: int, action: str) -> HTTPException:
    """Why the owner's statement matched no row: no such item (404), or not theirs (403)."""
    if await session.get(ItemRow, item_id) is None:
        return HTTPException(404, f"Item {item_id} not found")
    return HTTPException(403, f"Only the owner may {action} an item")


OWNER_ONLY: dict[int | str, dict[str, str]] = {
    **AUTH_ERRORS,
    **NOT_FOUND,
    403: {"description": "Not the owner"},
}


# Each change is one statement on the owner's row, so that of concurrent requests exactly
# one deletes an item, and an update racing a delete changes the row or answers 404.
@items.put("/{item_id}", responses=OWNER_ONLY)
async def update_item(
    item_id: ItemId, item: ItemIn, session: SessionDep, user: auth.CurrentUser
) -> Item:
    mine = (ItemRow.id == item_id) & (ItemRow.owner == user)
    statement = update(ItemRow).where(mine).values(name=item.name, price=item.price)
    row = await session.scalar(statement.returning(ItemRow))
    if row is None:
        raise await refusal(session, item_id, "change")
    await session.commit()
    updated = to_item(row)
    await broadcast.publish(FEED, {"event": "updated", "item": msgspec.to_builtins(updated)})
    return updated


@items.delete("/{item_id}", status_code=204, responses=OWNER_ONLY)
async def delete_item(item_id: ItemId, session: SessionDep, user: auth.CurrentUser) -> None:
    mine = (ItemRow.id == item_id) & (ItemRow.owner == user)
    if await session.scalar(delete(ItemRow).where(mine).returning(ItemRow.id)) is None:
        raise await refusal(session, item_id, "delete")
    await session.commit()
    await broadcast.publish(FEED, {"event": "deleted", "item": {"id": item_id}})


app.include_router(items)


def item_event(message: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(data=message["item"], event=message["event"])


@app.get("/events", tags=["live"], response_class=EventSourceResponse)
async def events(last_event_id: Annotated[str | None, Header()] = None) -> EventSourceResponse:
    """Item events as they happen, from any worker; a browser reconnecting with
    ``Last-Event-ID`` first gets the ones it missed."""
    return channel_events(
        broadcast, FEED, last_event_id=last_event_id, render=item_event, ping_interval=15
    )


@app.websocket("/ws/chat/{room}")
async def chat(
    websocket: WebSocket,
    room: str,
    name: Annotated[str, Query(min_length=1, max_length=50)] = "anonymous",
) -> None:
    if name == "system":  # the room's own announcements: nobody may pose as it
        raise WebSocketException(1008, "The name 'system' is reserved")
    await websocket.accept()
    chat_room = Room(broadcast, chat_channel(room))
    async with chat_room.join(websocket):
        await chat_room.publish({"user": "system", "text": f"{name} joined", "worker": os.getpid()})
        async for text in websocket.iter_text():
            await chat_room.publish({"user": name, "text": text, "worker": os.getpid()})
