"""In-process fan-out for the demo's SSE feed and websocket chat rooms."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from FasterAPI import WebSocket


class Feed:
    """Every subscriber gets every event published after it subscribed."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()

    def publish(self, event: dict[str, Any]) -> None:
        for queue in self._queues:
            queue.put_nowait(event)

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)


class ChatRooms:
    def __init__(self) -> None:
        self._rooms: defaultdict[str, set[WebSocket]] = defaultdict(set)

    def join(self, room: str, websocket: WebSocket) -> None:
        self._rooms[room].add(websocket)

    def leave(self, room: str, websocket: WebSocket) -> None:
        self._rooms[room].discard(websocket)

    async def say(self, room: str, message: dict[str, Any]) -> None:
        for member in list(self._rooms[room]):
            await member.send_json(message)


feed = Feed()
rooms = ChatRooms()
