"""Live events and chat rooms over a ``Broadcast``: in memory when the demo runs as one
process, through Redis (``DEMO_REDIS_URL`` or ``REDIS_URL``) when it runs as several
workers or machines, so an event published by one reaches clients of all."""

from __future__ import annotations

import os

from FasterAPI.broadcast import Broadcast

REDIS_URL = os.environ.get("DEMO_REDIS_URL") or os.environ.get("REDIS_URL") or None

#: Item events, with the last 1000 kept for ``Last-Event-ID`` replay.
FEED = "demo:items"
broadcast = Broadcast(REDIS_URL, history=1000)


def chat_channel(room: str) -> str:
    return f"demo:chat:{room}"
