"""In-process RSGI peers for the TestClient: the same requests, over ``app.__rsgi__``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio

from FasterAPI._types import Scope
from FasterAPI.response import status_allows_body


class FakeHeaders:
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def keys(self) -> list[str]:
        return [name for name, _ in self._pairs]

    def values(self) -> list[str]:
        return [value for _, value in self._pairs]

    def get(self, key: str, default: Any = None) -> Any:
        return next((v for k, v in self._pairs if k == key), default)

    def __contains__(self, key: object) -> bool:
        return any(k == key for k, _ in self._pairs)

    def __len__(self) -> int:
        return len({name for name, _ in self._pairs})


class FakeScope:
    """An RSGI HTTP scope built from the ASGI scope the TestClient would send."""

    def __init__(self, scope: Scope) -> None:
        self.proto = "http"
        self.rsgi_version = "1.5"
        self.http_version = "1.1"
        self.scheme = scope["scheme"]
        self.method = scope["method"]
        self.path = scope["path"]
        self.query_string = scope["query_string"].decode("latin-1")
        host, port = scope["server"]
        self.server = f"{host}:{port}"
        self.client = "{}:{}".format(*scope["client"])
        self.authority = None
        self.headers = FakeHeaders(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        )


class _Stream:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def send_bytes(self, data: bytes) -> None:
        self.chunks.append(bytes(data))

    async def send_str(self, data: str) -> None:
        self.chunks.append(data.encode())


class FakeProtocol:
    """Records the single response call an RSGI app makes."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.finished = anyio.Event()
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.calls = 0

    async def __call__(self) -> bytes:
        return self.body

    async def _iterate(self) -> AsyncIterator[bytes]:
        # Like Granian: the data, then one empty chunk for the end of the body.
        if self.body:
            yield self.body
        yield b""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def client_disconnect(self) -> None:
        await self.finished.wait()

    def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("RSGI response sent twice")
        self.status, self.headers = status, list(headers)

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self._start(status, headers)

    def response_str(self, status: int, headers: list[tuple[str, str]], body: str) -> None:
        self.response_bytes(status, headers, body.encode())

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        # Like Granian: the length of a whole body is added when the app gave none
        # (never to a 1xx, 204 or 304 answer).
        if (
            status_allows_body(status)
            and status != 304
            and not any(name.lower() == "content-length" for name, _ in headers)
        ):
            headers = [*headers, ("content-length", str(len(body)))]
        self._start(status, headers)
        self.chunks.append(bytes(body))

    def response_file(self, status: int, headers: list[tuple[str, str]], file: str) -> None:
        self._start(status, headers)
        self.chunks.append(Path(file).read_bytes())

    def response_file_range(
        self, status: int, headers: list[tuple[str, str]], file: str, start: int, end: int
    ) -> None:
        self._start(status, headers)
        self.chunks.append(Path(file).read_bytes()[start:end])

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> _Stream:
        self._start(status, headers)
        return _Stream(self.chunks)
