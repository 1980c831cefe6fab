"""Summaries and tables for the HTTP benchmark (``httpbench.py``): ratios, means, reports."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
from importlib import metadata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from httpbench import Framework, Pair, Server
    from inprocess import Endpoint

FLOOR = "raw"

VERSIONED = ["FasterAPI", "msgspec", "granian", "uvicorn", "httptools", "uvloop", "httpx"]
VERSIONED += ["fastapi", "starlette", "pydantic", "litestar", "blacksheep"]


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def format_rps(value: float) -> str:
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"


def format_ratio(value: float | None, bold: str = "") -> str:
    return f"{bold}{value:.2f}{bold}" if value is not None else "n/a"


def geometric_mean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def spread(rates: list[float]) -> float:
    """Interquartile range (range, under four rounds) relative to the median."""
    median = statistics.median(rates)
    if len(rates) < 4:
        return (max(rates) - min(rates)) / median
    q = statistics.quantiles(rates, n=4)
    return (q[2] - q[0]) / median


def paired_ratio(rates: list[float], floor_rates: list[float]) -> tuple[float, list[float]]:
    """The median over rounds of each round's ratio, and those ratios.

    Both lists hold one rate per round, measured seconds apart in that round: a ratio
    within a round cancels the slow drift of the machine's speed that a ratio of the two
    medians would keep.
    """
    ratios = [rate / floor for rate, floor in zip(rates, floor_rates)]
    return statistics.median(ratios), ratios


def summarise(pairs: list[Pair], endpoints: list[Endpoint]) -> dict:
    """server key -> framework key -> medians, ratios to the server's raw app, geomean."""
    results: dict[str, dict] = {}
    for pair in pairs:
        floor = next(p for p in pairs if p.server == pair.server and p.framework.key == FLOOR)
        per_endpoint, ratios = {}, []
        for endpoint in endpoints:
            rates = pair.rates.get(endpoint.key)
            if rates is None or endpoint.key not in floor.rates:
                continue  # UNSUPPORTED by the app or by its floor
            ratio, round_ratios = paired_ratio(rates, floor.rates[endpoint.key])
            ratios.append(ratio)
            per_endpoint[endpoint.key] = {
                "median_rps": round(statistics.median(rates), 1),
                "ratio_to_raw": round(ratio, 4),
                "rounds_ratio_to_raw": [round(r, 4) for r in round_ratios],
                "rps_spread": round(spread(rates), 4),
                "ratio_spread": round(spread(round_ratios), 4),
                "rounds_rps": [round(rate, 1) for rate in rates],
                "rounds_requests": [run["requests"] for run in pair.runs[endpoint.key]],
                "rounds_others_cpu": [run["others_cpu"] for run in pair.runs[endpoint.key]],
            }
        results.setdefault(pair.server.key, {})[pair.framework.key] = {
            "name": pair.framework.name(pair.server),
            "floor": floor.framework.name(pair.server),
            "endpoints": per_endpoint,
            "geomean_ratio_to_raw": round(geometric_mean(ratios), 4) if ratios else None,
        }
    return results


def server_table(server: Server, frameworks: list[Framework], endpoints, results) -> str:
    columns = [fw for fw in frameworks if fw.serves(server)]
    rows = results[server.key]
    lines = [
        "| endpoint | " + " | ".join(fw.name(server) for fw in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for endpoint in endpoints:
        cells = []
        for fw in columns:
            entry = rows[fw.key]["endpoints"].get(endpoint.key)
            if entry is None:
                cells.append("n/a")
                continue
            rps = format_rps(entry["median_rps"])
            cells.append(rps if fw.key == FLOOR else f"{rps} ({entry['ratio_to_raw']:.2f})")
        lines.append(f"| `{endpoint.label}` | " + " | ".join(cells) + " |")
    geo = [
        "**1.00**" if fw.key == FLOOR else format_ratio(rows[fw.key]["geomean_ratio_to_raw"], "**")
        for fw in columns
    ]
    lines.append("| geometric mean of ratios | " + " | ".join(geo) + " |")
    return "\n".join(lines)


def summary_table(servers: list[Server], frameworks: list[Framework], results) -> str:
    """Geometric mean of the ratios to the raw app, per framework (rows) and server."""
    lines = [
        "| framework | " + " | ".join(server.label for server in servers) + " |",
        "|---|" + "---:|" * len(servers),
    ]
    for fw in frameworks:
        if fw.key == FLOOR:
            continue
        cells = []
        for server in servers:
            entry = results[server.key].get(fw.key)
            cells.append(format_ratio(entry["geomean_ratio_to_raw"]) if entry else "-")
        lines.append(f"| {fw.modules['asgi'][1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cross_checks(endpoints: list[Endpoint], results) -> list[str]:
    """The project's targets and peer comparisons, where the run has the numbers for them."""

    def medians(server: str, framework: str) -> dict[str, list[float]] | None:
        """Per endpoint key, the rates of the rounds."""
        entry = results.get(server, {}).get(framework)
        if entry is None:
            return None
        return {key: cell["rounds_rps"] for key, cell in entry["endpoints"].items()}

    def versus(a, b) -> str:
        keys = [e.key for e in endpoints if e.key in a and e.key in b]
        ratios = [paired_ratio(a[key], b[key])[0] for key in keys]
        per = ", ".join(f"{key} {r:.2f}" for key, r in zip(keys, ratios))
        return f"{format_ratio(geometric_mean(ratios))} ({per})"

    lines = []
    raw_asgi_g = medians("granian-asgi", "raw")
    fa_rsgi = medians("granian-rsgi", "fasterapi")
    raw_rsgi = medians("granian-rsgi", "raw")
    fa_asgi_g = medians("granian-asgi", "fasterapi")
    if fa_rsgi and raw_asgi_g:
        lines.append(
            "FasterAPI on Granian RSGI / raw ASGI on Granian ASGI (target >= 1.3): "
            + versus(fa_rsgi, raw_asgi_g)
        )
    if raw_rsgi and raw_asgi_g:
        lines.append(
            "raw RSGI / raw ASGI, both on Granian (reference ~1.6): " + versus(raw_rsgi, raw_asgi_g)
        )
    if fa_rsgi and fa_asgi_g:
        lines.append("FasterAPI on Granian, RSGI / ASGI: " + versus(fa_rsgi, fa_asgi_g))
    fa_uv, raw_uv = medians("uvicorn", "fasterapi"), medians("uvicorn", "raw")
    if fa_uv and raw_uv:
        lines.append("FasterAPI / raw ASGI on uvicorn (target >= 0.92): " + versus(fa_uv, raw_uv))
    for server, rows in results.items():
        ours = rows.get("fasterapi")
        if ours is None or len(rows) <= 2:
            continue
        behind, margins = [], []
        for key, entry in rows.items():
            if key in (FLOOR, "fasterapi"):
                continue
            for e in endpoints:
                peer, mine = entry["endpoints"].get(e.key), ours["endpoints"].get(e.key)
                if not (peer and mine):
                    continue
                ratio = paired_ratio(mine["rounds_rps"], peer["rounds_rps"])[0]
                margins.append(ratio)
                if ratio <= 1:
                    behind.append(f"{entry['name']} on {e.key} ({ratio:.3f}x its req/s)")
        if behind:
            lines.append(f"FasterAPI on {server}: behind " + ", ".join(behind))
        elif margins:
            lines.append(
                f"FasterAPI on {server}: ahead of every peer on every endpoint "
                f"(closest: {min(margins):.3f}x a peer's req/s)"
            )
    lines += _as_deployed(endpoints, results)
    return lines


def _as_deployed(endpoints: list[Endpoint], results) -> list[str]:
    """FasterAPI on Granian RSGI (what ``fasterapi run`` serves) against each peer on the
    peer's fastest server for each endpoint, paired round by round."""
    ours = results.get("granian-rsgi", {}).get("fasterapi")
    if ours is None:
        return []
    peers: dict[str, list] = {}
    for rows in results.values():
        for key, entry in rows.items():
            if key not in (FLOOR, "fasterapi"):
                peers.setdefault(entry["name"], []).append(entry)
    if not peers:
        return []
    parts, behind = [], []
    for name, entries in peers.items():
        ratios = []
        for e in endpoints:
            mine = ours["endpoints"].get(e.key)
            theirs = [entry["endpoints"][e.key] for entry in entries if e.key in entry["endpoints"]]
            if mine is None or not theirs:
                continue
            ratio = min(paired_ratio(mine["rounds_rps"], t["rounds_rps"])[0] for t in theirs)
            ratios.append((ratio, e.key))
            if ratio <= 1:
                behind.append(f"{name} on {e.key}")
        if ratios:
            low, where = min(ratios)
            parts.append(f"{name} {low:.2f}x ({where})")
    verdict = "ahead on every endpoint" if not behind else "behind " + ", ".join(behind)
    return [
        "FasterAPI as `fasterapi run` serves it (Granian RSGI) / each peer on its fastest "
        f"server, lowest endpoint per peer: {', '.join(parts)}: {verdict}"
    ]


def versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    first = (done.stdout + done.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"
