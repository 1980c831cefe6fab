"""Load generation for the HTTP benchmark (``httpbench.py``): wrk scripts, runs, bystanders."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from httpbench import Pair
    from inprocess import Endpoint


class BenchError(RuntimeError):
    """Something that makes the numbers meaningless: the run stops."""


def request_headers(endpoint: Endpoint) -> dict[str, str]:
    """The endpoint's headers, less content-length (the clients compute it)."""
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in endpoint.headers
        if name.lower() != b"content-length"
    }


def target(endpoint: Endpoint) -> str:
    query = endpoint.query.decode("latin-1")
    return endpoint.path + (f"?{query}" if query else "")


def lua_string(data: bytes) -> str:
    """A Lua string literal for any bytes (decimal escapes outside printable ASCII)."""
    return (
        '"'
        + "".join(
            chr(byte) if 32 <= byte < 127 and byte not in (34, 92) else f"\\{byte:03d}"
            for byte in data
        )
        + '"'
    )


def lua_script(endpoint: Endpoint) -> str:
    """Sets the method, headers and body; wrk formats the request once and adds
    Host and Content-Length itself."""
    lines = [f"wrk.method = {lua_string(endpoint.method.encode())}"]
    for name, value in request_headers(endpoint).items():
        lines.append(f"wrk.headers[{lua_string(name.encode())}] = {lua_string(value.encode())}")
    if endpoint.body:
        lines.append(f"wrk.body = {lua_string(endpoint.body)}")
    return "\n".join(lines) + "\n"


WRK_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.M)
WRK_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", re.M)
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
WRK_STATUS = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def parse_wrk(output: str) -> dict:
    """Requests/sec, request count and errors from wrk's report; raises if it has none."""
    rps, total = WRK_RPS.search(output), WRK_TOTAL.search(output)
    if rps is None or total is None:
        raise BenchError(f"cannot read wrk's report:\n{output}")
    errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non_2xx_3xx": 0}
    socket_errors = WRK_SOCKET.search(output)
    if socket_errors:
        for name, value in zip(("connect", "read", "write", "timeout"), socket_errors.groups()):
            errors[name] = int(value)
    status_errors = WRK_STATUS.search(output)
    if status_errors:
        errors["non_2xx_3xx"] = int(status_errors.group(1))
    return {"rps": float(rps.group(1)), "requests": int(total.group(1)), "errors": errors}


@dataclass(frozen=True)
class Load:
    wrk: str
    cpu: int
    connections: int
    scripts: dict[str, Path]  # endpoint key -> Lua script

    def run(self, pair: Pair, endpoint: Endpoint, seconds: int) -> dict:
        command = [
            *("taskset", "-c", str(self.cpu), self.wrk, "-t1", f"-c{self.connections}"),
            *(f"-d{seconds}s", "--timeout", "5s", "-s", str(self.scripts[endpoint.key])),
            pair.base_url + target(endpoint),
        ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=seconds + 30,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"wrk hung on {pair.name} {endpoint.label}") from exc
        if done.returncode != 0:
            raise BenchError(
                f"wrk failed on {pair.name} {endpoint.label} (exit {done.returncode}):\n"
                f"{done.stdout}{done.stderr}"
            )
        result = parse_wrk(done.stdout)
        pair.check_alive()
        bad = {name: count for name, count in result["errors"].items() if count}
        if bad or result["requests"] == 0:
            raise BenchError(
                f"{pair.name} {endpoint.label}: errors under load {bad or 'no requests'}:\n"
                f"{done.stdout}\n{pair.log_tail()}"
            )
        return result


class Bystanders:
    """CPU time used by processes other than the benchmark's own, read from /proc.

    The machine may be shared (other sessions' test suites, CI): a run during which other
    processes used a noticeable share of a CPU is timed again. The benchmark's own are the
    harness's process group (it and wrk) and each server's group; kernel threads are left
    out (the network stack's work is the benchmark's). A process that ended during the run
    shows in its parent's children's time.
    """

    def __init__(self, own_groups: set[int]) -> None:
        self.own_groups = own_groups | {os.getpgrp()}
        self.tick = os.sysconf("SC_CLK_TCK")

    def snapshot(self) -> dict[tuple[int, int], tuple[float, str]]:
        """(pid, start time) -> (CPU seconds with reaped children, command name)."""
        found = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as file:
                    data = file.read()
            except OSError:
                continue  # gone meanwhile
            head, _, rest = data.rpartition(b")")
            fields = rest.split()
            pid, ppid, group = int(entry.name), int(fields[1]), int(fields[2])
            if pid == 2 or ppid == 2 or group in self.own_groups:
                continue
            seconds = sum(int(value) for value in fields[11:15]) / self.tick
            name = head.partition(b"(")[2].decode(errors="replace")
            found[pid, int(fields[19])] = (seconds, name)
        return found

    def since(self, before: dict[tuple[int, int], tuple[float, str]]) -> tuple[float, str]:
        """CPU seconds others used since ``before``, and the top users."""
        used = []
        for key, (seconds, name) in self.snapshot().items():
            delta = seconds - before.get(key, (0.0, ""))[0]
            if delta > 0:
                used.append((delta, name))
        used.sort(reverse=True)
        top = ", ".join(f"{name} {delta:.2f} s" for delta, name in used[:3])
        return sum(delta for delta, _ in used), top
