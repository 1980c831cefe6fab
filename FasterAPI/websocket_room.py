"""Room: websocket members of a ``Broadcast`` channel, on any worker or machine.

    broadcast = Broadcast(os.environ.get("REDIS_URL"))

    @app.websocket("/ws/chat/{name}")
    async def chat(websocket: WebSocket, name: str) -> None:
        await websocket.accept()
        room = Room(broadcast, f"chat:{name}")
        async with room.join(websocket):
            await room.publish({"text": "someone joined"})
            async for text in websocket.iter_text():
                await room.publish({"text": text})

While inside ``join``, every message published to the room (from this connection, another
one, or another process) is sent to the websocket as JSON (``mode`` "text" or "binary"),
in order, by a task of its own: the ``async with`` body is free to receive. ``join``
returns once the subscription is live, so the member gets its own "joined" message. A
member too slow to keep up is closed with code 1013 (try again later); a send failing
because the client left just stops the forwarding; any other failure is logged and
closes the websocket with 1011.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from FasterAPI.broadcast import Broadcast, SlowSubscriber, Subscription
from FasterAPI.exceptions import WebSocketDisconnect
from FasterAPI.websocket import WebSocket, WebSocketState

__all__ = ["Room"]

logger = logging.getLogger("FasterAPI")

TRY_AGAIN_LATER = 1013
INTERNAL_ERROR = 1011


class Room:
    """Publishes to, and forwards from, one broadcast channel; see the module docstring."""

    def __init__(
        self, broadcast: Broadcast, channel: str, *, mode: Literal["text", "binary"] = "text"
    ) -> None:
        if mode not in ("text", "binary"):
            raise ValueError('mode must be "text" or "binary"')
        self.broadcast = broadcast
        self.channel = channel
        self.mode: Literal["text", "binary"] = mode

    async def publish(self, message: Any) -> None:
        await self.broadcast.publish(self.channel, message)

    @asynccontextmanager
    async def join(self, websocket: WebSocket) -> AsyncIterator[Subscription]:
        """Forward the room's messages to ``websocket`` (accepted) until the block ends."""
        async with self.broadcast.subscribe(self.channel) as subscription:
            forward = asyncio.ensure_future(self._forward(subscription, websocket))
            try:
                yield subscription
            finally:
                forward.cancel()
                # Not ``await forward``: that would swallow a cancellation of our own task.
                await asyncio.wait([forward])

    async def _forward(self, subscription: Subscription, websocket: WebSocket) -> None:
        try:
            async for event in subscription:
                await websocket.send_json(event.data, mode=self.mode)
        except SlowSubscriber:
            if websocket.application_state == WebSocketState.CONNECTED:
                await websocket.close(TRY_AGAIN_LATER, "too slow")
        except (WebSocketDisconnect, OSError):
            pass  # the client went away; the handler's receive sees it too
        except Exception:
            if websocket.application_state != WebSocketState.CONNECTED:
                return  # closed while we were sending
            logger.exception("Forwarding room %r to a websocket failed", self.channel)
            await websocket.close(INTERNAL_ERROR)
