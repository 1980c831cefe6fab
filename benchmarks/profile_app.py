"""Where one framework spends a request: cProfile over many in-process requests.

    .venv-bench/bin/python benchmarks/profile_app.py                  # FasterAPI, all endpoints
    .venv-bench/bin/python benchmarks/profile_app.py --endpoint deps --top 30
    .venv-bench/bin/python benchmarks/profile_app.py --framework fastapi --endpoint item

Uses the same scopes, ``receive``/``send`` and answer checks as ``inprocess.py``. Times
under cProfile are inflated (each Python call costs more), so read the shares, not the
absolute numbers, and confirm a change with ``inprocess.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys

from inprocess import ENDPOINTS, FRAMEWORKS, Exchange, build_scope, check_answer, load_frameworks


async def serve(fw, endpoint, count: int) -> None:
    template = build_scope(endpoint)
    message = {"type": "http.request", "body": endpoint.body, "more_body": False}
    exchange = Exchange(message, record=True)
    await fw.app(dict(template, state={}), exchange.receive, exchange.send)
    problems = check_answer(endpoint, exchange.messages)
    if problems:
        raise SystemExit(f"{fw.name} {endpoint.label}: {'; '.join(problems)}")
    for _ in range(count):
        scope = template.copy()
        scope["state"] = {}
        exchange = Exchange(message)
        await fw.app(scope, exchange.receive, exchange.send)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", default="fasterapi", choices=[k for k, _ in FRAMEWORKS])
    parser.add_argument("--endpoint", action="append", choices=[e.key for e in ENDPOINTS])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    args = parser.parse_args()
    frameworks, skipped = load_frameworks([args.framework])
    if not frameworks:
        raise SystemExit(f"{args.framework}: {skipped.get(args.framework)}")
    fw = frameworks[0]
    wanted = args.endpoint or [e.key for e in ENDPOINTS]
    loop = asyncio.new_event_loop()
    loop.run_until_complete(fw.lifespan.startup())
    for endpoint in (e for e in ENDPOINTS if e.key in wanted):
        loop.run_until_complete(serve(fw, endpoint, 2000))  # warm up
        profiler = cProfile.Profile()
        profiler.enable()
        loop.run_until_complete(serve(fw, endpoint, args.requests))
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
        print(f"==== {fw.name} {endpoint.label}: {args.requests} requests ====")
        print(out.getvalue().split("\n", 3)[-1])
    loop.run_until_complete(fw.lifespan.shutdown())
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
