"""Raw HTTP/1.1 over sockets to a server on 127.0.0.1, and what the reliability app reports."""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx


def address(base: str) -> tuple[str, int]:
    host, port = base.rsplit(":", 1)
    return host, int(port)


def connect(base: str, timeout: float = 2.0) -> socket.socket:
    sock = socket.create_connection(address(base), timeout)
    sock.settimeout(timeout)
    return sock


def exchange(base: str, payload: bytes, *, wait: float = 1.0, half_close: bool = False) -> bytes:
    """Send ``payload`` on a new connection; everything the server sends back within ``wait``."""
    with connect(base) as sock:
        try:
            sock.sendall(payload)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server may reset a connection it refuses mid-send
            pass
        return read_until_quiet(sock, wait)


def read_until_quiet(sock: socket.socket, wait: float) -> bytes:
    """Read until the server closes, resets, or ``wait`` seconds have passed."""
    received = b""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except (TimeoutError, OSError):
            break
        if not data:
            break
        received += data
    return received


def statuses(response_bytes: bytes) -> list[int]:
    """The status code of every response in a (possibly pipelined) byte stream."""
    found = []
    for line in response_bytes.split(b"\r\n"):
        if line.startswith(b"HTTP/1.") and line[8:9] == b" ":
            with contextlib.suppress(ValueError):
                found.append(int(line[9:12]))
    return found


def stats(base: str) -> dict[str, Any]:
    return httpx.get(f"http://{base}/stats", timeout=5).json()  # type: ignore[no-any-return]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Canary:
    """``GET /health`` every ``interval`` on one keep-alive connection, timing each answer."""

    def __init__(self, base: str, interval: float = 0.01) -> None:
        self.base = base
        self.interval = interval
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=f"http://{self.base}", timeout=5) as client:
            while not self._stop.is_set():
                start = time.perf_counter()
                try:
                    status = client.get("/health").status_code
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                else:
                    self.latencies.append(time.perf_counter() - start)
                    if status != 200:
                        self.failures.append(f"status {status}")
                self._stop.wait(self.interval)

    @contextlib.contextmanager
    def watching(self) -> Iterator[Canary]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(10)
