"""In-process ASGI benchmark: FasterAPI next to its peers and a hand-written raw ASGI app.

Each app's ASGI callable is awaited directly with a prebuilt scope and minimal
``receive``/``send`` coroutines: no server, no sockets, one event loop. What is left is
the framework's own per-request work (routing, parameter extraction, validation,
dependency injection, rendering) plus a small, equal harness cost.

Every answer is verified first (status, headers, exact body bytes) and the run aborts if
any framework answers wrongly. Then each (framework, endpoint) pair is timed in several
rounds, interleaved round-robin so that noise from a busy machine hits every framework
alike. The table quotes the median requests/second per pair, its ratio to the raw app
(the floor) and, per framework, the geometric mean of those ratios.

    benchmarks/setup && benchmarks/inprocess            # full run (~2.5 minutes)
    benchmarks/inprocess --quick                        # smoke run (seconds)
    benchmarks/inprocess --json results.json --rounds 9 --duration 1
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import math
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from apps.common import (  # noqa: E402
    FILE_BYTES,
    FILE_MEDIA_TYPE,
    SSE_BODY,
    SSE_MEDIA_TYPE,
    STREAM_CHUNK,
    STREAM_CHUNK_COUNT,
    STREAM_MEDIA_TYPE,
    TEXT,
    TOKEN_HEADER,
)

# -- what is measured ----------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One request every app must answer identically, and the answer it must give."""

    key: str
    label: str
    method: str
    path: str
    query: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    expected_body: bytes = b""
    # A streamed answer arrives in several body messages; content-length is optional.
    streamed: bool = False


ITEM_BODY = b'{"name":"widget","price":9.5,"tags":["a","b"]}'
TOKEN = b"secret-token"

ENDPOINTS: list[Endpoint] = [
    Endpoint("health", "GET /health", "GET", "/health", expected_body=b'{"status":"ok"}'),
    Endpoint(
        "item",
        "GET /items/{id}",
        "GET",
        "/items/42",
        query=b"q=hello&limit=5",
        expected_body=b'{"item_id":42,"q":"hello","limit":5}',
    ),
    Endpoint(
        "create",
        "POST /items",
        "POST",
        "/items",
        headers=(
            (b"content-type", b"application/json"),
            (b"content-length", str(len(ITEM_BODY)).encode()),
        ),
        body=ITEM_BODY,
        status=201,
        expected_body=ITEM_BODY,
    ),
    Endpoint(
        "deps",
        "GET /deps",
        "GET",
        "/deps",
        headers=((TOKEN_HEADER.encode(), TOKEN),),
        expected_body=b'{"token":"' + TOKEN + b'","depth":2}',
    ),
    Endpoint(
        "text",
        "GET /text",
        "GET",
        "/text",
        content_type="text/plain; charset=utf-8",
        expected_body=TEXT.encode(),
    ),
    Endpoint(
        "stream",
        "GET /stream",
        "GET",
        "/stream",
        content_type=STREAM_MEDIA_TYPE,
        expected_body=STREAM_CHUNK * STREAM_CHUNK_COUNT,
        streamed=True,
    ),
    Endpoint(
        "file",
        "GET /file (64 KiB)",
        "GET",
        "/file",
        content_type=FILE_MEDIA_TYPE,
        expected_body=FILE_BYTES,
        streamed=True,
    ),
    Endpoint(
        "sse",
        "GET /sse (100 events)",
        "GET",
        "/sse",
        content_type=SSE_MEDIA_TYPE,
        expected_body=SSE_BODY,
        streamed=True,
    ),
    # An app that cannot serve one lists its key in a module-level UNSUPPORTED set.
]

# (key, module): the first is the floor every ratio is taken against.
FRAMEWORKS: list[tuple[str, str]] = [
    ("raw", "apps.raw_asgi"),
    ("fasterapi", "apps.fasterapi_app"),
    ("fasterapi-mw", "apps.fasterapi_mw_app"),
    ("fastapi", "apps.fastapi_app"),
    ("litestar", "apps.litestar_app"),
    ("blacksheep", "apps.blacksheep_app"),
]
REQUIRED = {"raw", "fasterapi"}
FLOOR = "raw"

VERSIONED = ["FasterAPI", "msgspec", "anyio", "fastapi", "starlette", "pydantic"]
VERSIONED += ["litestar", "blacksheep", "uvloop"]

# -- the minimal ASGI server side ----------------------------------------------------------

# What uvicorn's httptools protocol sends; Starlette and FasterAPI read spec_version.
ASGI = {"version": "3.0", "spec_version": "2.3"}
BASE_HEADERS = ((b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*"))


def build_scope(endpoint: Endpoint) -> dict:
    return {
        "type": "http",
        "asgi": ASGI,
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": endpoint.method,
        "root_path": "",
        "path": endpoint.path,
        "raw_path": endpoint.path.encode(),
        "query_string": endpoint.query,
        "headers": [*BASE_HEADERS, *endpoint.headers],
    }


DISCONNECT = {"type": "http.disconnect"}


class Exchange:
    """One request's ``receive`` and ``send``, as minimal as a server can make them.

    ``receive`` hands out the request body once. Called again, it waits until the response
    is complete and then says ``http.disconnect``, as uvicorn does (frameworks watch it while
    streaming; Litestar waits for it after the last chunk). ``send`` only notes the end of
    the response, and keeps the messages when ``record`` is set (for verification).
    """

    __slots__ = ("done", "message", "messages", "waiter")

    def __init__(self, message: dict, record: bool = False) -> None:
        self.message = message
        self.messages: list[dict] | None = [] if record else None
        self.done = False
        self.waiter: asyncio.Future | None = None

    async def receive(self) -> dict:
        message = self.message
        if message is not None:
            self.message = None
            return message
        if not self.done:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return DISCONNECT

    async def send(self, message: dict) -> None:
        if self.messages is not None:
            self.messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.done = True
            waiter = self.waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)


class Lifespan:
    """Runs the ASGI lifespan protocol for one app, as a server would."""

    def __init__(self, app) -> None:
        self.app = app
        self.state: dict = {}
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None
        self.supported = True

    async def _expect(self, wanted: str) -> None:
        getter = asyncio.ensure_future(self.outbox.get())
        done, _ = await asyncio.wait(
            {getter, self.task}, timeout=10, return_when=asyncio.FIRST_COMPLETED
        )
        if getter not in done:
            getter.cancel()
            if self.task in done:
                if self.task.exception() is not None:
                    raise RuntimeError(f"lifespan crashed: {self.task.exception()!r}")
                self.supported = False  # returned without a word: no lifespan support
                return
            raise RuntimeError(f"lifespan: no {wanted} within 10 s")
        message = getter.result()
        if message["type"] != wanted:
            raise RuntimeError(f"lifespan: expected {wanted}, got {message!r}")

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI, "state": self.state}
        self.task = asyncio.ensure_future(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        await self._expect("lifespan.startup.complete")

    async def shutdown(self) -> None:
        if not self.supported or self.task is None:
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self._expect("lifespan.shutdown.complete")
        await asyncio.wait_for(self.task, 10)


@dataclass
class Framework:
    key: str
    name: str
    app: object
    unsupported: frozenset[str]
    lifespan: Lifespan


def load_frameworks(wanted: list[str]) -> tuple[list[Framework], dict[str, str]]:
    loaded, skipped = [], {}
    for key, module_name in FRAMEWORKS:
        if key not in wanted:
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            if key in REQUIRED:
                raise
            skipped[key] = f"not installed ({exc})"
            continue
        unsupported = frozenset(getattr(module, "UNSUPPORTED", ()))
        loaded.append(Framework(key, module.NAME, module.app, unsupported, Lifespan(module.app)))
    return loaded, skipped


# -- verification --------------------------------------------------------------------------


def _header_values(headers, name: bytes) -> list[bytes]:
    return [value for key, value in headers if bytes(key).lower() == name]


def check_answer(endpoint: Endpoint, messages: list[dict]) -> list[str]:
    """What is wrong with the messages an app sent (empty when the answer is right)."""
    if not messages or messages[0].get("type") != "http.response.start":
        return ["the first message is not http.response.start"]
    start, bodies = messages[0], messages[1:]
    problems = []
    if any(m.get("type") != "http.response.body" for m in bodies):
        problems.append("a message after the start is not http.response.body")
    if not bodies or bodies[-1].get("more_body", False):
        problems.append("the body never ended (no message with more_body=False)")
    if start.get("status") != endpoint.status:
        problems.append(f"status {start.get('status')}, expected {endpoint.status}")
    headers = list(start.get("headers", []))
    if any(not isinstance(k, bytes) or not isinstance(v, bytes) for k, v in headers):
        problems.append("header names and values must be bytes")
        return problems
    types = _header_values(headers, b"content-type")
    if types != [endpoint.content_type.encode()]:
        problems.append(f"content-type {types}, expected [{endpoint.content_type!r}]")
    body = b"".join(m.get("body", b"") for m in bodies)
    lengths = _header_values(headers, b"content-length")
    if endpoint.streamed:
        if lengths and lengths != [str(len(body)).encode()]:
            problems.append(f"content-length {lengths} but {len(body)} bytes were sent")
    elif lengths != [str(len(body)).encode()]:
        problems.append(f"content-length {lengths}, expected [{len(body)}]")
    if body != endpoint.expected_body:
        problems.append(
            f"body ({len(body)} bytes) {_show(body)}, "
            f"expected ({len(endpoint.expected_body)} bytes) {_show(endpoint.expected_body)}"
        )
    return problems


def _show(body: bytes) -> str:
    return repr(body) if len(body) <= 200 else f"{body[:200]!r}..."


async def verify(frameworks: list[Framework], endpoints: list[Endpoint]) -> list[str]:
    failures = []
    for fw in frameworks:
        for endpoint in endpoints:
            if endpoint.key in fw.unsupported:
                continue
            template = build_scope(endpoint)
            message = {"type": "http.request", "body": endpoint.body, "more_body": False}
            for attempt in (1, 2):  # twice: the first request may build lazy state
                scope = dict(template)
                scope["state"] = fw.lifespan.state.copy()
                exchange = Exchange(message, record=True)
                try:
                    await asyncio.wait_for(fw.app(scope, exchange.receive, exchange.send), 10)
                except Exception as exc:
                    problems = [f"raised {exc!r}"]
                else:
                    problems = check_answer(endpoint, exchange.messages)
                if problems:
                    start = exchange.messages[0] if exchange.messages else {}
                    sent = b"".join(m.get("body", b"") for m in exchange.messages[1:])
                    failures.append(
                        f"{fw.name} {endpoint.label} (request {attempt}): "
                        + "; ".join(problems)
                        + f"\n    got status={start.get('status')} headers={start.get('headers')}"
                        f" body={_show(sent)}"
                    )
                    break
    return failures


# -- timing --------------------------------------------------------------------------------


async def run_batch(fw: Framework, endpoint: Endpoint, count: int) -> float:
    """Seconds taken by ``count`` sequential requests."""
    app = fw.app
    template = build_scope(endpoint)
    headers = list(template["headers"])
    state = fw.lifespan.state
    message = {"type": "http.request", "body": endpoint.body, "more_body": False}
    clock = time.perf_counter
    started = clock()
    for _ in range(count):
        scope = template.copy()
        scope["state"] = state.copy()
        exchange = Exchange(message)
        await app(scope, exchange.receive, exchange.send)
    elapsed = clock() - started
    # The scope copies share the header list: an app that changed it would skew the run.
    if template["headers"] != headers or message["body"] != endpoint.body:
        raise RuntimeError(f"{fw.name} {endpoint.label} modified the shared request data")
    return elapsed


async def calibrate(fw: Framework, endpoint: Endpoint, warmup: float, duration: float) -> int:
    """Warm the pair up for ``warmup`` seconds; return a request count lasting ~duration."""
    count, elapsed, total, spent = 20, 0.0, 0, 0.0
    while spent < warmup:
        elapsed = await run_batch(fw, endpoint, count)
        total, spent = total + count, spent + elapsed
        if elapsed < warmup / 10:
            count *= 2
    rate = total / spent
    return max(20, int(rate * duration))


@dataclass
class Pair:
    framework: Framework
    endpoint: Endpoint
    count: int = 0
    rates: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median: how noisy this pair's rounds were."""
        if len(self.rates) < 4:
            return (max(self.rates) - min(self.rates)) / self.median
        q = statistics.quantiles(self.rates, n=4)
        return (q[2] - q[0]) / self.median


async def measure(
    frameworks: list[Framework],
    endpoints: list[Endpoint],
    rounds: int,
    duration: float,
    warmup: float,
    progress: bool,
) -> dict[tuple[str, str], Pair]:
    pairs: dict[tuple[str, str], Pair] = {}
    for endpoint in endpoints:
        for fw in frameworks:
            if endpoint.key not in fw.unsupported:
                pair = Pair(fw, endpoint)
                pair.count = await calibrate(fw, endpoint, warmup, duration)
                pairs[fw.key, endpoint.key] = pair
    for round_index in range(rounds):
        for endpoint in endpoints:
            # Rotate who goes first so that no framework always follows the same one.
            shift = round_index % len(frameworks)
            for fw in frameworks[shift:] + frameworks[:shift]:
                pair = pairs.get((fw.key, endpoint.key))
                if pair is None:
                    continue
                gc.collect()
                elapsed = await run_batch(fw, endpoint, pair.count)
                pair.rates.append(pair.count / elapsed)
        if progress:
            print(f"  round {round_index + 1}/{rounds} done", file=sys.stderr, flush=True)
    return pairs


# -- reporting -----------------------------------------------------------------------------


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def summarise(frameworks, endpoints, pairs) -> dict:
    results: dict[str, dict] = {}
    for fw in frameworks:
        per_endpoint, ratios = {}, []
        for endpoint in endpoints:
            pair = pairs.get((fw.key, endpoint.key))
            floor = pairs.get((FLOOR, endpoint.key))
            if pair is None:
                continue
            ratio = pair.median / floor.median if floor is not None else None
            if ratio is not None:
                ratios.append(ratio)
            per_endpoint[endpoint.key] = {
                "median_rps": round(pair.median, 1),
                "ratio_to_raw": round(ratio, 4) if ratio is not None else None,
                "spread": round(pair.spread, 4),
                "requests_per_round": pair.count,
                "rounds_rps": [round(rate, 1) for rate in pair.rates],
            }
        results[fw.key] = {
            "name": fw.name,
            "endpoints": per_endpoint,
            "geomean_ratio_to_raw": round(geometric_mean(ratios), 4) if ratios else None,
        }
    return results


def _rps(value: float) -> str:
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"


def markdown_table(frameworks, endpoints, results) -> str:
    names = [fw.name for fw in frameworks]
    lines = [
        "| endpoint | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for endpoint in endpoints:
        cells = []
        for fw in frameworks:
            entry = results[fw.key]["endpoints"].get(endpoint.key)
            if entry is None:
                cells.append("n/a")
            elif fw.key == FLOOR or entry["ratio_to_raw"] is None:
                cells.append(_rps(entry["median_rps"]))
            else:
                cells.append(f"{_rps(entry['median_rps'])} ({entry['ratio_to_raw']:.2f})")
        lines.append(f"| `{endpoint.label}` | " + " | ".join(cells) + " |")
    geo = []
    for fw in frameworks:
        value = results[fw.key]["geomean_ratio_to_raw"]
        geo.append("**1.00**" if fw.key == FLOOR else f"**{value:.2f}**" if value else "n/a")
    lines.append("| geometric mean of ratios | " + " | ".join(geo) + " |")
    return "\n".join(lines)


def versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


# -- entry point ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 short rounds")
    parser.add_argument("--rounds", type=int, help="timed rounds per pair (default 7)")
    parser.add_argument("--duration", type=float, help="seconds per pair per round (0.6)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per pair (0.3)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--loop", choices=("auto", "asyncio", "uvloop"), default="auto", help="event loop"
    )
    parser.add_argument(
        "--frameworks",
        default=",".join(key for key, _ in FRAMEWORKS),
        help="comma-separated subset of: " + ", ".join(key for key, _ in FRAMEWORKS),
    )
    parser.add_argument(
        "--endpoints",
        default=",".join(e.key for e in ENDPOINTS),
        help="comma-separated subset of: " + ", ".join(e.key for e in ENDPOINTS),
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = args.rounds or (2 if quick else 7)
    args.duration = args.duration or (0.03 if quick else 0.6)
    args.warmup = args.warmup if args.warmup is not None else (0.02 if quick else 0.3)
    if args.rounds < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--rounds must be >= 1, --duration > 0, --warmup >= 0")
    args.frameworks = [key.strip() for key in args.frameworks.split(",") if key.strip()]
    args.endpoints = [key.strip() for key in args.endpoints.split(",") if key.strip()]
    unknown = set(args.frameworks) - {key for key, _ in FRAMEWORKS}
    unknown |= set(args.endpoints) - {e.key for e in ENDPOINTS}
    if unknown:
        parser.error(f"unknown framework or endpoint: {', '.join(sorted(unknown))}")
    if FLOOR not in args.frameworks:
        args.frameworks.insert(0, FLOOR)  # ratios need the floor
    return args


def new_loop(choice: str) -> tuple[asyncio.AbstractEventLoop, str]:
    if choice in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise
        else:
            return uvloop.new_event_loop(), f"uvloop {uvloop.__version__}"
    return asyncio.new_event_loop(), "asyncio"


async def run(args: argparse.Namespace, loop_name: str) -> int:
    frameworks, skipped = load_frameworks(args.frameworks)
    endpoints = [e for e in ENDPOINTS if e.key in args.endpoints]
    for key, reason in skipped.items():
        print(f"skipping {key}: {reason}", file=sys.stderr)
    for fw in frameworks:
        await fw.lifespan.startup()
    try:
        failures = await verify(frameworks, endpoints)
        if failures:
            print("WRONG ANSWERS: nothing was timed.", file=sys.stderr)
            for failure in failures:
                print("  " + failure, file=sys.stderr)
            return 1
        pairs_count = sum(1 for fw in frameworks for e in endpoints if e.key not in fw.unsupported)
        estimate = pairs_count * (args.rounds * args.duration + args.warmup)
        print(
            f"verified {pairs_count} answers; timing {len(frameworks)} frameworks x "
            f"{len(endpoints)} endpoints, {args.rounds} rounds of {args.duration:g} s "
            f"(~{estimate:.0f} s) on {loop_name}",
            file=sys.stderr,
            flush=True,
        )
        pairs = await measure(
            frameworks, endpoints, args.rounds, args.duration, args.warmup, not args.quick
        )
    finally:
        for fw in frameworks:
            await fw.lifespan.shutdown()

    results = summarise(frameworks, endpoints, pairs)
    noisiest = max(pairs.values(), key=lambda p: p.spread)
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": f"{platform.machine()}, {platform.system()}",
        "loop": loop_name,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "versions": versions(),
        "skipped": skipped,
    }
    print()
    print(f"In-process ASGI, {meta['date']}, Python {meta['python']}, {loop_name}")
    print(f"median req/s of {args.rounds} rounds (ratio to {results[FLOOR]['name']})")
    print()
    print(markdown_table(frameworks, endpoints, results))
    print()
    print(
        f"noise: median interquartile spread "
        f"{statistics.median(p.spread for p in pairs.values()):.1%}, worst "
        f"{noisiest.spread:.1%} ({noisiest.framework.name} {noisiest.endpoint.label})"
    )
    for key, reason in skipped.items():
        print(f"skipped {key}: {reason}")
    if args.json:
        payload = {
            "meta": meta,
            "endpoints": {e.key: e.label for e in endpoints},
            "results": results,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    loop, loop_name = new_loop(args.loop)
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(run(args, loop_name))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
