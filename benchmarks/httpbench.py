"""HTTP benchmark: FasterAPI and its peers behind real servers, loaded by wrk over loopback.

Every framework app of the in-process benchmark (``apps/``), plus a hand-written raw RSGI
app, is served by each server configuration: uvicorn (httptools, uvloop), Granian ASGI and
Granian RSGI (FasterAPI and the raw RSGI app only). Each server runs in its own process
group with one worker, pinned to one CPU; ``wrk`` runs pinned to another.

Every answer is first verified over HTTP for every (server, framework) pair (status,
content-type, content-length, exact body bytes) and the run aborts on any mismatch; the
check is repeated after timing. Then rounds: in each, every endpoint is timed once for
every pair, the pairs of one server back to back (in a shuffled order), so that each
framework and its floor, the raw app of the same interface on the same server (raw ASGI
under uvicorn and Granian ASGI, raw RSGI under Granian RSGI), are measured seconds apart.
The tables quote the median req/s of the rounds and the median of the rounds' ratios to
the floor, and per framework the geometric mean of those ratios. Any socket error or
non-2xx answer during a wrk run fails the run.

    benchmarks/setup && benchmarks/http                 # full run (~8.5 minutes)
    benchmarks/http --quick                             # smoke run (about a minute)
    benchmarks/http --servers granian-rsgi,granian-asgi --frameworks raw,fasterapi
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import util
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from httpload import (  # noqa: E402
    BenchError,
    Bystanders,
    Load,
    lua_script,
    request_headers,
    target,
)
from httpreport import (  # noqa: E402
    FLOOR,
    cross_checks,
    format_rps,
    progress,
    server_table,
    summarise,
    summary_table,
    versions,
    wrk_version,
)
from inprocess import ENDPOINTS, Endpoint  # noqa: E402

HOST = "127.0.0.1"

# -- what is served ------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    key: str
    label: str
    interface: str  # "asgi" or "rsgi": which raw app is the floor
    needs: tuple[str, ...]  # importable modules the configuration requires


SERVERS = [
    Server("uvicorn", "uvicorn (httptools, uvloop)", "asgi", ("uvicorn", "httptools", "uvloop")),
    Server("granian-asgi", "Granian ASGI", "asgi", ("granian", "uvloop")),
    Server("granian-rsgi", "Granian RSGI", "rsgi", ("granian", "uvloop")),
]


@dataclass(frozen=True)
class Framework:
    key: str
    # interface -> (module serving ``app``, label); a framework without "rsgi" is not
    # served by Granian RSGI.
    modules: dict[str, tuple[str, str]]
    needs: str  # the module whose absence skips the framework

    def serves(self, server: Server) -> bool:
        return server.interface in self.modules

    def module(self, server: Server) -> str:
        return self.modules[server.interface][0]

    def name(self, server: Server) -> str:
        return self.modules[server.interface][1]

    def unsupported(self, server: Server) -> frozenset[str]:
        """The module's ``UNSUPPORTED`` endpoint keys, read without importing it (the
        harness never imports the apps: only the servers do)."""
        path = HERE.joinpath(*self.module(server).split(".")).with_suffix(".py")
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "UNSUPPORTED" for t in node.targets
            ):
                return frozenset(ast.literal_eval(node.value))
        return frozenset()


FRAMEWORKS = [
    Framework(
        "raw",
        {"asgi": ("apps.raw_asgi", "raw ASGI"), "rsgi": ("apps.raw_rsgi", "raw RSGI")},
        "msgspec",
    ),
    Framework(
        "fasterapi",
        {"asgi": ("apps.fasterapi_app", "FasterAPI"), "rsgi": ("apps.fasterapi_app", "FasterAPI")},
        "FasterAPI",
    ),
    Framework("fastapi", {"asgi": ("apps.fastapi_app", "FastAPI")}, "fastapi"),
    Framework("litestar", {"asgi": ("apps.litestar_app", "Litestar")}, "litestar"),
    Framework("blacksheep", {"asgi": ("apps.blacksheep_app", "BlackSheep")}, "blacksheep"),
]
REQUIRED = {"raw", "fasterapi"}

QUICK_FRAMEWORKS = ["raw", "fasterapi"]
QUICK_ENDPOINTS = ["health", "create", "stream"]


def server_command(server: Server, module: str, port: int) -> list[str]:
    """The command serving ``module:app``: one worker, uvloop, HTTP/1.1, no access log."""
    target = f"{module}:app"
    if server.key == "uvicorn":
        return [
            *(sys.executable, "-m", "uvicorn", target, "--host", HOST, "--port", str(port)),
            *("--loop", "uvloop", "--http", "httptools", "--ws", "none", "--lifespan", "on"),
            *("--no-access-log", "--log-level", "warning"),
        ]
    return [
        *(sys.executable, "-m", "granian", target, "--interface", server.interface),
        *("--host", HOST, "--port", str(port), "--workers", "1", "--runtime-threads", "1"),
        *("--loop", "uvloop", "--http", "1", "--no-ws"),
        *("--no-access-log", "--log-level", "warning"),
    ]


# -- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    # The servers find ``apps`` through their working dir, which holds nothing else: no
    # file of benchmarks/ may shadow a module they import. PYTHONPATH (searched before
    # the standard library) is dropped for the same reason.
    for name in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Pair:
    """One framework app behind one server configuration, and what it measured."""

    server: Server
    framework: Framework
    unsupported: frozenset[str] = frozenset()
    process: subprocess.Popen | None = None
    port: int = 0
    log_path: Path | None = None
    rates: dict[str, list[float]] = field(default_factory=dict)  # endpoint key -> req/s
    runs: dict[str, list[dict]] = field(default_factory=dict)  # endpoint key -> wrk details

    @property
    def name(self) -> str:
        return f"{self.server.label} / {self.framework.name(self.server)}"

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 25) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join("    | " + line for line in text) or "    | (empty log)"

    def start(self, workdir: Path, cpu: int) -> None:
        self.port = free_port()
        module = self.framework.module(self.server)
        self.log_path = workdir / f"{self.server.key}-{self.framework.key}.log"
        command = ["taskset", "-c", str(cpu), *server_command(self.server, module, self.port)]
        with self.log_path.open("wb") as log:
            # A session of its own: the server and its workers form one process group that
            # stop() ends as a whole, and a Ctrl-C in the terminal does not reach them first.
            self.process = subprocess.Popen(
                command,
                cwd=workdir,
                env=child_environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                httpx.get(self.base_url + "/health", timeout=2.0)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise BenchError(
                        f"{self.name} did not answer within {timeout:.0f} s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.1)

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            code = self.process.returncode if self.process is not None else None
            raise BenchError(f"{self.name} exited (code {code}):\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; make sure no worker of its group outlives it.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        print(f"warning: {self.name} (pid {process.pid}) did not stop", file=sys.stderr)


# -- verification --------------------------------------------------------------------------


def check_response(endpoint: Endpoint, response: httpx.Response) -> list[str]:
    """What is wrong with an HTTP answer (empty when it is right)."""
    problems = []
    if response.status_code != endpoint.status:
        problems.append(f"status {response.status_code}, expected {endpoint.status}")
    types = response.headers.get_list("content-type")
    if types != [endpoint.content_type]:
        problems.append(f"content-type {types}, expected [{endpoint.content_type!r}]")
    body = response.content
    lengths = response.headers.get_list("content-length")
    if endpoint.streamed:
        if lengths and lengths != [str(len(body))]:
            problems.append(f"content-length {lengths} but {len(body)} bytes came")
    elif lengths != [str(len(body))]:
        problems.append(f"content-length {lengths}, expected [{len(body)}]")
    if body != endpoint.expected_body:
        problems.append(
            f"body ({len(body)} bytes) {show(body)}, "
            f"expected ({len(endpoint.expected_body)} bytes) {show(endpoint.expected_body)}"
        )
    return problems


def show(body: bytes) -> str:
    return repr(body) if len(body) <= 200 else f"{body[:200]!r}..."


def verify(pairs: list[Pair], endpoints: list[Endpoint]) -> list[str]:
    failures = []
    for pair in pairs:
        pair.check_alive()
        # No compression offered: wrk offers none, and the bytes must match as sent.
        client = httpx.Client(
            base_url=pair.base_url, timeout=10.0, headers={"accept-encoding": "identity"}
        )
        with client:
            for endpoint in endpoints:
                if endpoint.key in pair.unsupported:
                    continue
                for attempt in (1, 2):  # twice: the first request may build lazy state
                    try:
                        response = client.request(
                            endpoint.method,
                            target(endpoint),
                            headers=request_headers(endpoint),
                            content=endpoint.body or None,
                        )
                    except httpx.HTTPError as exc:
                        problems, seen = [f"request failed: {exc!r}"], ""
                    else:
                        problems = check_response(endpoint, response)
                        seen = (
                            f"\n      got {response.status_code} "
                            f"headers {response.headers.multi_items()}"
                        )
                    if problems:
                        failures.append(
                            f"{pair.name} {endpoint.label} (request {attempt}): "
                            + "; ".join(problems)
                            + seen
                        )
                        break
    return failures


# -- load generation -----------------------------------------------------------------------


# -- the run -------------------------------------------------------------------------------


@dataclass
class Retries:
    """Times a run again while other processes disturbed it, within a bounded time budget.

    Before timing again it waits (up to ``quiet_wait`` seconds) for a second during which
    the others stay under the threshold. Once ``budget`` seconds are spent, or after
    ``per_run`` retries, a disturbed run is kept and counted.
    """

    watch: Bystanders
    threshold: float  # CPUs that others may use on average during a run
    per_run: int
    budget: float  # seconds left for retries and waits in the whole benchmark
    quiet_wait: float = 10.0
    retried: int = 0
    disturbed_kept: int = 0

    def run(self, load: Load, pair: Pair, endpoint: Endpoint, seconds: int) -> dict:
        attempt = 0
        while True:
            before, started = self.watch.snapshot(), time.monotonic()
            result = load.run(pair, endpoint, seconds)
            used, top = self.watch.since(before)
            share = used / (time.monotonic() - started)
            result["others_cpu"] = round(share, 3)
            result["retries"] = attempt
            if share <= self.threshold:
                return result
            if attempt == self.per_run or self.budget <= 0:
                self.disturbed_kept += 1
                progress(
                    f"  kept a disturbed run ({share:.2f} CPU used by others: {top}): "
                    f"{pair.name} {endpoint.label}"
                )
                return result
            progress(
                f"  others used {share:.2f} CPU ({top}) during {pair.name} {endpoint.label}: "
                "waiting for a quiet second to time it again"
            )
            waited = self.wait_quiet()
            self.budget -= waited + seconds
            self.retried += 1
            attempt += 1

    def wait_quiet(self) -> float:
        started = time.monotonic()
        while time.monotonic() - started < self.quiet_wait:
            before = self.watch.snapshot()
            time.sleep(1.0)
            if self.watch.since(before)[0] <= self.threshold:
                break
        return time.monotonic() - started


def measure(
    pairs: list[Pair],
    endpoints: list[Endpoint],
    load: Load,
    retries: Retries,
    args: argparse.Namespace,
) -> None:
    runs_left = sum(1 for p in pairs for e in endpoints if e.key not in p.unsupported)
    runs_left *= args.rounds
    seconds_per_run = args.duration + 0.15  # wrk's start and exit
    started = time.monotonic()
    if args.warmup:
        for endpoint in endpoints:
            for pair in pairs:
                if endpoint.key not in pair.unsupported:
                    load.run(pair, endpoint, args.warmup)
        progress(f"warm-up done ({time.monotonic() - started:.0f} s)")
    # Each round times every endpoint on every pair. The pairs of one server run back to
    # back, so that a framework and its floor are measured seconds apart: this machine's
    # throughput drifts over tens of seconds, and the ratios are taken within a round.
    blocks: dict[str, list[Pair]] = {}
    for pair in pairs:
        blocks.setdefault(pair.server.key, []).append(pair)
    shuffler = random.Random(args.seed)
    for round_index in range(args.rounds):
        round_started = time.monotonic()
        for endpoint in endpoints:
            servers = list(blocks)
            shuffler.shuffle(servers)
            for server in servers:
                block = blocks[server]
                shuffler.shuffle(block)  # no pair always runs right after the same one
                for pair in block:
                    if endpoint.key in pair.unsupported:
                        continue
                    result = retries.run(load, pair, endpoint, args.duration)
                    pair.rates.setdefault(endpoint.key, []).append(result["rps"])
                    pair.runs.setdefault(endpoint.key, []).append(result)
                    runs_left -= 1
                    if args.verbose:
                        progress(
                            f"  round {round_index + 1} {endpoint.label:16} {pair.name:45} "
                            f"{format_rps(result['rps']):>7} req/s"
                        )
        progress(
            f"round {round_index + 1}/{args.rounds} done in "
            f"{time.monotonic() - round_started:.0f} s; "
            f"~{runs_left * seconds_per_run / 60:.1f} min left"
        )


# -- entry point ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1 round of 2 s on a subset"
    )
    parser.add_argument("--rounds", type=int, help="timed rounds (default 5)")
    parser.add_argument("--duration", type=int, help="whole seconds per wrk run (default 1)")
    parser.add_argument("--warmup", type=int, help="warm-up seconds per cell, 0 for none (1)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument(
        "--servers",
        help="comma-separated subset of: " + ", ".join(s.key for s in SERVERS),
    )
    parser.add_argument(
        "--frameworks",
        help="comma-separated subset of: " + ", ".join(fw.key for fw in FRAMEWORKS),
    )
    parser.add_argument(
        "--endpoints",
        help="comma-separated subset of: " + ", ".join(e.key for e in ENDPOINTS),
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU for the servers (0)")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU for wrk (1)")
    parser.add_argument(
        "--max-others",
        type=float,
        default=0.1,
        help="CPUs other processes may use during a run before it is timed again (0.1)",
    )
    parser.add_argument(
        "--retries", type=int, default=3, help="times a disturbed run is retried (3)"
    )
    parser.add_argument("--seed", type=int, default=8, help="seed of the per-round order")
    parser.add_argument("--verbose", action="store_true", help="print every wrk result")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = args.rounds or (1 if quick else 5)
    args.duration = args.duration or (2 if quick else 1)
    if args.warmup is None:
        args.warmup = 1
    if args.rounds < 1 or args.duration < 1 or args.warmup < 0 or args.connections < 1:
        parser.error("--rounds, --duration, --connections must be >= 1, --warmup >= 0")
    if args.server_cpu == args.client_cpu:
        parser.error("--server-cpu and --client-cpu must differ")

    def subset(value: str | None, known: list[str], quick_default: list[str]) -> list[str]:
        if value is None:
            return list(quick_default if quick else known)
        chosen = [key.strip() for key in value.split(",") if key.strip()]
        unknown = set(chosen) - set(known)
        if unknown:
            parser.error(f"unknown: {', '.join(sorted(unknown))}; known: {', '.join(known)}")
        return chosen

    server_keys = [s.key for s in SERVERS]
    framework_keys = [fw.key for fw in FRAMEWORKS]
    endpoint_keys = [e.key for e in ENDPOINTS]
    args.servers = subset(args.servers, server_keys, server_keys)
    args.frameworks = subset(args.frameworks, framework_keys, QUICK_FRAMEWORKS)
    args.endpoints = subset(args.endpoints, endpoint_keys, QUICK_ENDPOINTS)
    if FLOOR not in args.frameworks:
        args.frameworks.insert(0, FLOOR)  # ratios need the floor
    return args


def available(modules) -> list[str]:
    return [name for name in modules if util.find_spec(name) is None]


def plan(args: argparse.Namespace) -> tuple[list[Server], list[Framework], dict[str, str]]:
    skipped: dict[str, str] = {}
    servers = []
    for server in SERVERS:
        if server.key in args.servers:
            missing = available(server.needs)
            if missing:
                skipped[server.key] = f"not installed: {', '.join(missing)}"
            else:
                servers.append(server)
    frameworks = []
    for fw in FRAMEWORKS:
        if fw.key in args.frameworks:
            if available([fw.needs]):
                if fw.key in REQUIRED:
                    raise BenchError(f"{fw.needs} is not installed: run benchmarks/setup")
                skipped[fw.key] = f"not installed: {fw.needs}"
            else:
                frameworks.append(fw)
    if not servers:
        raise BenchError(f"no server to run: {skipped}; run benchmarks/setup")
    return servers, frameworks, skipped


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BenchError(f"{name} is not installed (scripts/install-system-deps installs it)")
    return path


def pin_self(args: argparse.Namespace) -> None:
    allowed = os.sched_getaffinity(0)
    wanted = {args.server_cpu, args.client_cpu}
    if not wanted <= allowed:
        raise BenchError(f"CPUs {sorted(wanted)} wanted, only {sorted(allowed)} available")
    # The harness itself stays off the server's CPU (it is idle while wrk runs anyway).
    os.sched_setaffinity(0, {args.client_cpu})


def run(args: argparse.Namespace) -> int:
    wrk = tool("wrk")
    tool("taskset")
    pin_self(args)
    servers, frameworks, skipped = plan(args)
    endpoints = [e for e in ENDPOINTS if e.key in args.endpoints]
    for key, reason in skipped.items():
        progress(f"skipping {key}: {reason}")
    pairs = [Pair(s, fw, fw.unsupported(s)) for s in servers for fw in frameworks if fw.serves(s)]

    workdir = Path(tempfile.mkdtemp(prefix="fasterapi-http-bench-"))
    # The servers import ``apps.<module>`` from their working dir, which holds nothing else.
    (workdir / "apps").symlink_to(HERE / "apps", target_is_directory=True)
    scripts = {}
    for endpoint in endpoints:
        scripts[endpoint.key] = workdir / f"{endpoint.key}.lua"
        scripts[endpoint.key].write_text(lua_script(endpoint))
    load = Load(wrk, args.client_cpu, args.connections, scripts)
    succeeded = False
    try:
        progress(f"starting {len(pairs)} servers on CPU {args.server_cpu} (logs in {workdir})")
        for pair in pairs:
            pair.start(workdir, args.server_cpu)
            pair.wait_ready()
        failures = verify(pairs, endpoints)
        if failures:
            progress("WRONG ANSWERS over HTTP: nothing was timed.")
            for failure in failures:
                progress("  " + failure)
            return 1
        runs = sum(1 for p in pairs for e in endpoints if e.key not in p.unsupported)
        estimate = runs * (args.rounds * (args.duration + 0.15) + args.warmup + 0.15)
        progress(
            f"verified {runs} answers; timing {len(pairs)} (server, framework) pairs x "
            f"{len(endpoints)} endpoints, {args.rounds} rounds of {args.duration} s, "
            f"wrk -t1 -c{args.connections} on CPU {args.client_cpu} "
            f"(~{estimate / 60:.1f} min)"
        )
        watch = Bystanders({pair.process.pid for pair in pairs if pair.process is not None})
        # Retries may add half the planned timing, then disturbed runs are kept (and counted).
        budget = runs * args.rounds * args.duration / 2
        retries = Retries(watch, args.max_others, args.retries, budget)
        measure(pairs, endpoints, load, retries, args)
        failures = verify(pairs, endpoints)
        if failures:
            progress("WRONG ANSWERS over HTTP after timing:")
            for failure in failures:
                progress("  " + failure)
            return 1
        succeeded = True
    finally:
        stop_all(pairs)
        if succeeded:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            progress(f"server logs kept in {workdir}")

    report(args, servers, frameworks, endpoints, pairs, skipped, wrk, retries)
    return 0


def report(args, servers, frameworks, endpoints, pairs, skipped, wrk, retries) -> None:
    results = summarise(pairs, endpoints)
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["benchmarks/http", *sys.argv[1:]]),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": f"{platform.machine()}, {platform.system()}, {os.cpu_count()} CPUs",
        "wrk": f"{wrk_version(wrk)}, -t1 -c{args.connections}, CPU {args.client_cpu}",
        "server_cpu": args.server_cpu,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "versions": versions(),
        "skipped": skipped,
        "retried_runs": retries.retried,
        "disturbed_runs_kept": retries.disturbed_kept,
        "max_others_cpu": args.max_others,
    }
    spreads = [
        (entry["ratio_spread"], f"{server} {fw} {key}")
        for server, rows in results.items()
        for fw, row in rows.items()
        if fw != FLOOR
        for key, entry in row["endpoints"].items()
    ]
    rps_spreads = [
        entry["rps_spread"]
        for rows in results.values()
        for row in rows.values()
        for entry in row["endpoints"].values()
    ]
    print()
    print(f"HTTP benchmark, {meta['date']}, Python {meta['python']}, {meta['machine']}")
    print(f"server on CPU {args.server_cpu} (1 worker), {meta['wrk']}")
    print(", ".join(f"{name} {version}" for name, version in meta["versions"].items()))
    print(
        f"median req/s of {args.rounds} rounds of {args.duration} s "
        "(median over the rounds of the ratio to the raw app on the same server)"
    )
    for server in servers:
        print()
        print(f"#### {server.label}")
        print()
        print(server_table(server, frameworks, endpoints, results))
    print()
    print("#### Geometric mean of the ratios to the raw app of the same server")
    print()
    print(summary_table(servers, frameworks, results))
    print()
    for line in cross_checks(endpoints, results):
        print("- " + line)
    print()
    if args.rounds > 1 and spreads:
        worst = max(spreads)
        kind = "interquartile range" if args.rounds >= 4 else "range"
        print(
            f"noise ({kind} of the rounds / median): req/s {statistics.median(rps_spreads):.1%} "
            f"in the median cell; ratio to raw {statistics.median(s for s, _ in spreads):.1%} "
            f"in the median cell, worst {worst[0]:.1%} ({worst[1]})"
        )
    print(
        f"runs timed again because other processes used over {args.max_others} CPU: "
        f"{meta['retried_runs']}; disturbed runs kept: {retries.disturbed_kept}"
    )
    for key, reason in skipped.items():
        print(f"skipped {key}: {reason}")
    if args.json:
        payload = {
            "meta": meta,
            "endpoints": {e.key: e.label for e in endpoints},
            "servers": {s.key: s.label for s in servers},
            "results": results,
            "errors": {
                f"{p.server.key}/{p.framework.key}/{key}": [r["errors"] for r in runs]
                for p in pairs
                for key, runs in p.runs.items()
            },
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")


def stop_all(pairs: list[Pair]) -> None:
    # A second Ctrl-C must not cut the clean-up short and leave servers behind.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for pair in pairs:
            pair.stop()
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupted)  # so that the finally clauses stop the servers
    try:
        return run(args)
    except BenchError as exc:
        progress(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        progress("interrupted; servers stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
