"""Soak test (not a test-suite test): the demo app under wrk for a long time, per server.

For each server (Granian RSGI, uvicorn with httptools) the demo app (``examples.demo:app``,
a fresh SQLite database) is started on 127.0.0.1, pinned to one CPU, and loaded by ``wrk``
pinned to another, in back-to-back segments of ``--interval`` seconds for ``--duration``
seconds in all. After each segment it records the requests served, the non-2xx answers,
wrk's socket errors and the server's resident memory (RSS, summed over its processes).

The request mix is what the demo serves: ``/health``, a page of ``/items``, one item, and
a write cycle (``POST /items`` with a bearer token, then ``DELETE`` of the created item, so
the table stays small and a growing database is not mistaken for a leak).

Pass, per server: no errors at all (non-2xx, socket errors, timeouts), and after the
warm-up (``--warmup`` seconds) memory grows by less than 1 MiB per million requests
(the least-squares slope of RSS against requests served).

    scripts/soak                                   # 10 minutes per server
    scripts/soak --duration 120 --markdown         # 2 minutes, a Markdown table
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
MIB = 1024 * 1024
LIMIT_MIB_PER_MILLION = 1.0

SERVERS = {
    "granian-rsgi": lambda port: [
        *("-m", "granian", "--interface", "rsgi", "--workers", "1"),
        *("--host", HOST, "--port", str(port), "--log-level", "warning", "--no-ws"),
        "examples.demo:app",
    ],
    "uvicorn": lambda port: [
        *("-m", "uvicorn", "examples.demo:app", "--http", "httptools"),
        *("--host", HOST, "--port", str(port), "--log-level", "warning", "--no-access-log"),
    ],
}

# One wrk thread; each connection walks the mix. A created item is deleted by the next
# request of that thread, so the table stays small.
LUA = r"""
local token = "%(token)s"
local item = "%(item)s"
local mix = {"health", "list", "one", "health", "list", "create"}
local step = 0
local created = {}
non2xx = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  if #created > 0 then
    local id = table.remove(created)
    return wrk.format("DELETE", "/items/" .. id, {["Authorization"] = "Bearer " .. token})
  end
  step = step %% #mix + 1
  local kind = mix[step]
  if kind == "health" then
    return wrk.format("GET", "/health")
  elseif kind == "list" then
    return wrk.format("GET", "/items?limit=10")
  elseif kind == "one" then
    return wrk.format("GET", "/items/" .. item)
  end
  return wrk.format("POST", "/items", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, '{"name": "soak", "price": 1.5}')
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif status == 201 then
    local id = string.match(body, '"id":(%%d+)')
    if id then table.insert(created, id) end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("non2xx")
  end
  io.write(string.format("NON2XX %%d\n", total))
  io.write(string.format("P99US %%d\n", latency:percentile(99)))
end
"""

WRK_TOTAL = re.compile(r"^\s*(\d+) requests in ", re.M)
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
WRK_NON2XX = re.compile(r"^NON2XX (\d+)$", re.M)
WRK_P99 = re.compile(r"^P99US (\d+)$", re.M)


@dataclass
class Sample:
    elapsed: float
    requests: int
    non_2xx: int
    socket_errors: int
    p99_ms: float
    rss: int  # bytes


@dataclass
class Result:
    server: str
    samples: list[Sample] = field(default_factory=list)
    warmup_samples: int = 0
    crashed: str = ""

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.samples)

    @property
    def errors(self) -> int:
        return sum(s.non_2xx + s.socket_errors for s in self.samples)

    def growth_per_million(self) -> tuple[float, float, int]:
        """(RSS growth after warm-up in MiB, its slope in MiB per million requests, requests)."""
        measured = self.samples[self.warmup_samples - 1 :] if self.warmup_samples else []
        if len(measured) < 3:
            return 0.0, float("nan"), 0
        # x: requests served since the last warm-up sample (whose RSS is the baseline).
        xs, total = [0], 0
        for sample in measured[1:]:
            total += sample.requests
            xs.append(total)
        ys = [s.rss / MIB for s in measured]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        slope = (
            sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
            if spread
            else 0
        )
        return ys[-1] - ys[0], slope * 1_000_000, total

    def passed(self) -> bool:
        _, slope, _ = self.growth_per_million()
        return not self.crashed and self.errors == 0 and slope < LIMIT_MIB_PER_MILLION


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def process_tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (Granian runs workers as children)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")  # type: ignore[no-any-return]


def wait_ready(base: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            http("GET", f"{base}/health")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {timeout}s")


def prepare(base: str) -> tuple[str, str]:
    """A bearer token and the id of an item that stays in the table."""
    form = b"username=demo&password=" + os.environ.get("DEMO_PASSWORD", "demo-password").encode()
    token = http(
        "POST", f"{base}/token", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )["access_token"]
    item = http(
        "POST",
        f"{base}/items",
        b'{"name": "kept", "price": 2}',
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    return token, str(item["id"])


def run_wrk(args: argparse.Namespace, script: Path, base: str) -> tuple[int, int, int, float]:
    command = [
        *("taskset", "-c", str(args.client_cpu), args.wrk, "-t1", f"-c{args.connections}"),
        *(f"-d{args.interval}s", "--timeout", "5s", "-s", str(script), base),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=args.interval + 60, check=False
    )
    total, non2xx = WRK_TOTAL.search(done.stdout), WRK_NON2XX.search(done.stdout)
    if done.returncode != 0 or total is None or non2xx is None:
        raise RuntimeError(f"wrk failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    socket_errors = WRK_SOCKET.search(done.stdout)
    errors = sum(map(int, socket_errors.groups())) if socket_errors else 0
    p99 = WRK_P99.search(done.stdout)
    return int(total.group(1)), int(non2xx.group(1)), errors, int(p99.group(1)) / 1000 if p99 else 0


def soak(server: str, args: argparse.Namespace, workdir: Path) -> Result:
    result = Result(server)
    port = free_port()
    base = f"http://{HOST}:{port}"
    database = workdir / f"{server}.db"
    env = {
        **os.environ,
        "DEMO_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "DEMO_SECRET": "soak-secret-" + "x" * 40,
        "PYTHONPATH": str(ROOT),
    }
    command = ["taskset", "-c", str(args.server_cpu), sys.executable, *SERVERS[server](port)]
    log = open(workdir / f"{server}.log", "w+")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_ready(base, process)
        token, item = prepare(base)
        script = workdir / f"{server}.lua"
        script.write_text(LUA % {"token": token, "item": item})
        result.warmup_samples = max(1, round(args.warmup / args.interval))
        segments = max(result.warmup_samples + 3, round(args.duration / args.interval))
        started = time.monotonic()
        print(f"\n{server}: {segments} x {args.interval}s, warm-up {result.warmup_samples}")
        print(
            f"{'time':>6} {'requests':>9} {'req/s':>7} {'non-2xx':>8} {'sock err':>8} "
            f"{'p99 ms':>7} {'RSS MiB':>8}"
        )
        for _ in range(segments):
            requests, non2xx, errors, p99 = run_wrk(args, script, base)
            if process.poll() is not None:
                result.crashed = f"the server exited with {process.returncode}"
                break
            sample = Sample(
                time.monotonic() - started,
                requests,
                non2xx,
                errors,
                p99,
                process_tree_rss(process.pid),
            )
            result.samples.append(sample)
            print(
                f"{sample.elapsed:6.0f} {requests:9d} {requests / args.interval:7.0f} "
                f"{non2xx:8d} {errors:8d} {p99:7.1f} {sample.rss / MIB:8.1f}",
                flush=True,
            )
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.seek(0)
        tail = log.read()[-2000:]
        log.close()
        if result.crashed or (tail.strip() and args.verbose):
            print(tail)
    return result


def summary(results: list[Result], markdown: bool) -> str:
    head = (
        "server",
        "requests",
        "non-2xx + socket errors",
        "RSS after warm-up -> end (MiB)",
        "growth (MiB)",
        "MiB per million requests",
        "verdict",
    )
    rows = []
    for result in results:
        growth, slope, measured = result.growth_per_million()
        first = result.samples[result.warmup_samples - 1].rss / MIB if result.samples else 0
        last = result.samples[-1].rss / MIB if result.samples else 0
        rows.append(
            (
                result.server,
                f"{result.requests:,}",
                str(result.errors),
                f"{first:.1f} -> {last:.1f}",
                f"{growth:+.2f}",
                f"{slope:+.2f} (over {measured:,})",
                ("PASS" if result.passed() else "FAIL")
                + (f" ({result.crashed})" if result.crashed else ""),
            )
        )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        lines = [
            "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
            for row in [head, *rows]
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=600, help="seconds per server (600)")
    parser.add_argument("--interval", type=int, default=10, help="seconds per sample (10)")
    parser.add_argument("--warmup", type=int, default=60, help="warm-up seconds (60)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--markdown", action="store_true", help="print the summary as Markdown")
    parser.add_argument("--verbose", action="store_true", help="print the server logs")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the server under test is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    args.wrk = shutil.which("wrk")
    if args.wrk is None:
        print("wrk is not installed (scripts/install-system-deps installs it)", file=sys.stderr)
        return 2
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = [name for name in servers if name not in SERVERS]
    if unknown:
        parser.error(f"unknown servers {unknown}; choose from {list(SERVERS)}")
    started = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="fasterapi-soak-") as workdir:
        results = [soak(server, args, Path(workdir)) for server in servers]
    print(
        f"\nSoak {started:%Y-%m-%d %H:%M} UTC: {args.duration}s per server, "
        f"{args.interval}s samples, {args.warmup}s warm-up, wrk -t1 -c{args.connections}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    print(
        f"Pass: 0 errors and < {LIMIT_MIB_PER_MILLION:g} MiB RSS growth per million requests "
        "after warm-up.\n"
    )
    print(summary(results, args.markdown))
    short = [r.server for r in results if r.growth_per_million()[2] < 1_000_000]
    if short:
        print(
            f"\nNote: {', '.join(short)} served under a million requests after warm-up; the "
            "per-million figure extrapolates a growth of a few hundred KiB, within allocator "
            f"noise. A longer run (--duration {max(2 * args.duration, 1200):g}) resolves "
            "1 MiB/M better."
        )
    return 0 if all(result.passed() for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
