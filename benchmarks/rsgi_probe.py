"""What FasterAPI adds per request on Granian's RSGI, timed inside Granian on its own objects.

    .venv-bench/bin/python benchmarks/rsgi_probe.py
    .venv-bench/bin/python benchmarks/rsgi_probe.py --endpoints health,deps --count 50000

Serves this module with Granian RSGI (one worker, uvloop). For each endpoint of
``inprocess.ENDPOINTS`` one real request arrives; the app then calls the raw RSGI app and
FasterAPI's ``__rsgi__`` many times with that request's scope object (attribute and
header-map access on it cost what they cost in production, unlike a Python stand-in) and
a protocol that replays the body and drops the answer. It answers with the best mean
time per call of each, after checking (with the test suite's recording protocol) that
both gave the same status and body.
No network or HTTP parsing is timed: the difference is the framework's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPEATS = 5


class _Discard:
    async def send_bytes(self, data: bytes) -> None:
        pass

    async def send_str(self, data: str) -> None:
        pass


class SinkProtocol:
    """Replays a request body and drops the answer: what the timed calls talk to."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __call__(self) -> bytes:
        return self.body

    async def client_disconnect(self) -> None:  # the client never leaves here
        await asyncio.Event().wait()

    def response_bytes(self, status: int, headers: Any, body: bytes) -> None:
        pass

    def response_str(self, status: int, headers: Any, body: str) -> None:
        pass

    def response_empty(self, status: int, headers: Any) -> None:
        pass

    def response_file(self, status: int, headers: Any, path: str) -> None:
        pass

    def response_stream(self, status: int, headers: Any) -> _Discard:
        return _Discard()


async def _best_ns(call: Any, count: int) -> int:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(count):
            await call()
        best = min(best, (time.perf_counter() - start) / count)
    return round(best * 1e9)


async def app(scope: Any, protocol: Any) -> None:
    """The probe: time both apps on this request's scope, answer with the numbers."""
    from apps.fasterapi_app import app as faster
    from apps.raw_rsgi import app as raw

    from FasterAPI._rsgi_testing import FakeProtocol

    body = await protocol()
    count = int(os.environ.get("PROBE_COUNT", "20000"))
    # The answers are checked once with the test suite's recording protocol.
    raw_seen, faster_seen = FakeProtocol(body), FakeProtocol(body)
    await raw(scope, raw_seen)
    await faster.__rsgi__(scope, faster_seen)
    same = (raw_seen.status, b"".join(raw_seen.chunks)) == (
        faster_seen.status,
        b"".join(faster_seen.chunks),
    )
    result = {"same_answer": same, "status": faster_seen.status}
    if same:
        result["raw_ns"] = await _best_ns(lambda: raw(scope, SinkProtocol(body)), count)
        result["fasterapi_ns"] = await _best_ns(
            lambda: faster.__rsgi__(scope, SinkProtocol(body)), count
        )
    answer = json.dumps(result).encode()
    protocol.response_bytes(200, [("content-type", "application/json")], answer)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> int:
    import httpx
    from inprocess import ENDPOINTS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", default="", help="e.g. health,deps (default: all)")
    parser.add_argument("--count", type=int, default=20000, help="calls per timing (20000)")
    args = parser.parse_args()
    wanted = set(filter(None, args.endpoints.split(",")))
    endpoints = [e for e in ENDPOINTS if not wanted or e.key in wanted]
    port = _free_port()
    granian = Path(sys.executable).with_name("granian")
    command = [str(granian), "--interface", "rsgi", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1", "--runtime-threads", "1", "--loop", "uvloop", "--no-ws"]
    environment = dict(os.environ, PROBE_COUNT=str(args.count))
    server = subprocess.Popen(
        [*command, "rsgi_probe:app"],
        cwd=HERE,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    failed = False
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            for _ in range(100):
                try:
                    client.get("/health", params={"ready": "1"})
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            print(f"Granian RSGI, one request's scope, best of {REPEATS} x {args.count} calls")
            print("| endpoint | raw RSGI | FasterAPI | FasterAPI adds |")
            print("|---|---:|---:|---:|")
            for endpoint in endpoints:
                headers = [(k.decode(), v.decode()) for k, v in endpoint.headers]
                url = endpoint.path + ("?" + endpoint.query.decode() if endpoint.query else "")
                response = client.request(
                    endpoint.method, url, headers=headers, content=endpoint.body or None
                )
                if response.status_code != 200:
                    failed = True
                    print(f"| `{endpoint.label}` | probe failed: {response.status_code} |")
                    continue
                found = response.json()
                if not found["same_answer"]:
                    failed = True
                    print(f"| `{endpoint.label}` | answers differ (status {found['status']}) |")
                    continue
                raw_ns, faster_ns = found["raw_ns"], found["fasterapi_ns"]
                print(
                    f"| `{endpoint.label}` | {raw_ns / 1000:.2f} us | {faster_ns / 1000:.2f} us "
                    f"| {(faster_ns - raw_ns) / 1000:+.2f} us |"
                )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
