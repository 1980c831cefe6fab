"""WebSocket: the ASGI websocket protocol as methods, with state checks against misuse.

What a client sends is its own business: a frame of the wrong type for ``receive_text``/
``receive_bytes`` or a payload ``receive_json`` cannot decode raises
``WebSocketInvalidMessage`` (1003 or 1007), which the route answers by closing the
connection with that code, not as a server error. What the app sends is checked: a close
code an endpoint may not send raises ``ValueError``, a reason too long is cut to fit.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal

import msgspec

from FasterAPI._types import Message, Receive, Scope, Send
from FasterAPI.exceptions import (
    WebSocketDisconnect,
    WebSocketInvalidMessage,
    _check_close_code,
    _fit_close_reason,
)
from FasterAPI.request import HTTPConnection

_encoder = msgspec.json.Encoder()


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


class WebSocket(HTTPConnection):
    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise ValueError("WebSocket needs a websocket scope")
        super().__init__(scope, receive)
        self._send = send
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING

    async def receive(self) -> Message:
        """The next ASGI message from the client."""
        state = self.client_state
        if state == WebSocketState.DISCONNECTED:
            raise RuntimeError('Cannot call "receive" once a disconnect message has been received')
        message = await self._receive()
        kind = message["type"]
        if state == WebSocketState.CONNECTING:
            if kind != "websocket.connect":
                raise RuntimeError(f'Expected "websocket.connect", got {kind!r}')
            self.client_state = WebSocketState.CONNECTED
        elif kind == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
        elif kind != "websocket.receive":
            raise RuntimeError(
                f'Expected "websocket.receive" or "websocket.disconnect", got {kind!r}'
            )
        return message

    async def send(self, message: Message) -> None:
        """Send an ASGI message, checking it is valid in the current state.

        A ``websocket.close`` message's code is checked and its reason cut to fit a close
        frame, as for ``close()``.
        """
        state = self.application_state
        kind = message["type"]
        if kind == "websocket.close":
            message = {
                **message,
                "code": _check_close_code(message.get("code", 1000)),
                "reason": _fit_close_reason(message.get("reason")),
            }
        if state == WebSocketState.CONNECTING:
            if kind not in ("websocket.accept", "websocket.close", "websocket.http.response.start"):
                raise RuntimeError("WebSocket is not accepted yet: call accept() before sending")
            if kind == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
            elif kind == "websocket.http.response.start":
                self.application_state = WebSocketState.RESPONSE
            else:
                self.application_state = WebSocketState.CONNECTED
        elif state == WebSocketState.CONNECTED:
            if kind == "websocket.accept":
                raise RuntimeError("WebSocket is already accepted")
            if kind not in ("websocket.send", "websocket.close"):
                raise RuntimeError(f"Cannot send {kind!r} on an open websocket")
            if kind == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
        elif state == WebSocketState.RESPONSE:
            if kind != "websocket.http.response.body":
                raise RuntimeError(f"Cannot send {kind!r} while sending a denial response")
            if not message.get("more_body", False):
                self.application_state = WebSocketState.DISCONNECTED
        else:
            raise RuntimeError("Cannot send once the websocket is closed")
        try:
            await self._send(message)
        except OSError as exc:
            self.application_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(1006) from exc

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        if self.client_state == WebSocketState.CONNECTING:
            await self.receive()
        await self.send(
            {"type": "websocket.accept", "subprotocol": subprotocol, "headers": list(headers or [])}
        )

    def _check_message(self, message: Message) -> Message:
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    def _require_connected(self) -> None:
        if self.application_state != WebSocketState.CONNECTED:
            raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')

    async def receive_text(self) -> str:
        """The next text message; ``WebSocketInvalidMessage`` (1003) for a binary one."""
        self._require_connected()
        message = self._check_message(await self.receive())
        text = message.get("text")
        if text is None:
            raise WebSocketInvalidMessage(
                WebSocketInvalidMessage.UNSUPPORTED_DATA, "Expected a text message"
            )
        return text  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        """The next binary message; ``WebSocketInvalidMessage`` (1003) for a text one."""
        self._require_connected()
        message = self._check_message(await self.receive())
        data = message.get("bytes")
        if data is None:
            raise WebSocketInvalidMessage(
                WebSocketInvalidMessage.UNSUPPORTED_DATA, "Expected a binary message"
            )
        return data  # type: ignore[no-any-return]

    async def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """The next message decoded as JSON, from a text or a binary frame.

        ``mode`` says which frame type to expect; the other is read too. JSON that does
        not parse, or is not valid UTF-8, raises ``WebSocketInvalidMessage`` (1007).
        """
        if mode not in ("text", "binary"):
            raise ValueError('mode must be "text" or "binary"')
        self._require_connected()
        message = self._check_message(await self.receive())
        payload = message.get("text") if mode == "text" else message.get("bytes")
        if payload is None:
            payload = message.get("bytes") or message.get("text") or ""
        try:
            return msgspec.json.decode(payload)
        except msgspec.DecodeError as exc:
            raise WebSocketInvalidMessage(
                WebSocketInvalidMessage.INVALID_PAYLOAD, f"Invalid JSON: {exc}"
            ) from exc
        except UnicodeDecodeError as exc:  # a string in a binary frame
            raise WebSocketInvalidMessage(
                WebSocketInvalidMessage.INVALID_PAYLOAD, "Invalid UTF-8 in JSON"
            ) from exc

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the client disconnects (``receive_text`` for each)."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the client disconnects (``receive_bytes`` for each)."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        """JSON messages until the client disconnects (``receive_json`` for each)."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        if mode not in ("text", "binary"):
            raise ValueError('mode must be "text" or "binary"')
        encoded = _encoder.encode(data)
        if mode == "text":
            await self.send({"type": "websocket.send", "text": encoded.decode("utf-8")})
        else:
            await self.send({"type": "websocket.send", "bytes": encoded})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close with ``code`` (``ValueError`` for one an endpoint may not send: 1004-1006,
        1015, 1016-2999, outside 1000-4999); ``reason`` is cut to 123 bytes of UTF-8."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})
