"""Run an app under a real server (uvicorn or Granian) in a subprocess on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).parent
SERVERS = ("uvicorn-httptools", "uvicorn-h11", "granian-asgi", "granian-rsgi")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(server: str, target: str, port: int) -> list[str]:
    if server.startswith("uvicorn"):
        http = server.split("-", 1)[1]
        return [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--http",
            http,
            "--log-level",
            "warning",
            "--app-dir",
            str(TESTS),
        ]
    interface = server.split("-", 1)[1]
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        interface,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--working-dir",
        str(TESTS),
        target,
    ]


@contextlib.contextmanager
def serve(server: str, target: str, timeout: float = 20.0) -> Iterator[str]:
    """Start ``target`` (``module:app`` under tests/) and yield its base URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS)])}
    process = subprocess.Popen(_command(server, target, port), env=env)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{server} exited with {process.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{server} did not start within {timeout}s")
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
