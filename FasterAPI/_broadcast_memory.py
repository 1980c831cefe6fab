"""The in-process broadcast backend: one process, no server, an optional bounded history."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from FasterAPI.broadcast import Deliver

__all__ = ["MemoryBroadcastBackend"]


def _nothing(channel: str, event_id: str | None, payload: bytes) -> None:
    return None


class MemoryBroadcastBackend:
    """Delivers each message straight to this process's subscribers.

    With ``history`` the last ``history`` events of each channel are kept, with ids
    ``"<start>-1"``, ``"<start>-2"``, ... where ``<start>`` is when the backend was made,
    in milliseconds (the shape of Redis stream ids, so both order alike); only the
    ``max_channels`` channels published to most recently keep theirs. A client that
    comes back with an id from another start (the process restarted, or another worker
    served it) is sent everything kept: none of it can have reached it.
    """

    def __init__(self, history: int = 0, max_channels: int = 10_000) -> None:
        if history < 0 or max_channels < 1:
            raise ValueError("history must be >= 0 and max_channels >= 1")
        self.history = history
        self.max_channels = max_channels
        self._deliver: Deliver = _nothing
        self._kept: OrderedDict[str, deque[tuple[int, bytes]]] = OrderedDict()
        self._sequence = 0
        self._start = str(time.time_ns() // 1_000_000)

    def bind(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def subscribe(self, channel: str) -> None:
        return None

    async def unsubscribe(self, channel: str) -> None:
        return None

    async def publish(self, channel: str, payload: bytes) -> None:
        event_id = None
        if self.history:
            self._sequence += 1
            kept = self._kept.get(channel)
            if kept is None:
                kept = self._kept[channel] = deque(maxlen=self.history)
                if len(self._kept) > self.max_channels:
                    self._kept.popitem(last=False)
            else:
                self._kept.move_to_end(channel)
            kept.append((self._sequence, payload))
            event_id = f"{self._start}-{self._sequence}"
        self._deliver(channel, event_id, payload)

    async def replay(self, channel: str, after: str) -> list[tuple[str, bytes]]:
        first, _, second = after.partition("-")
        if not first.isdigit() or not second.isdigit():
            return []  # not an id of this backend's shape
        last = int(second) if first == self._start else 0
        return [
            (f"{self._start}-{sequence}", payload)
            for sequence, payload in self._kept.get(channel, ())
            if sequence > last
        ]

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None
