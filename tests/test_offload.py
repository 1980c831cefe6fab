"""CPU offload: sub-interpreters (Python 3.13+) or processes, and the event loop stays free.

Run on 3.11 (process backend) and 3.13 (sub-interpreter backend); the CPU-bound functions
live in ``offload_work`` (standard library only, so sub-interpreters can import it).
"""

import logging
import os
import sys
import threading
import time

import anyio
import offload_work as work
import pytest

from FasterAPI import Faster
from FasterAPI.offload import (
    SubInterpreterError,
    SubInterpreterPool,
    best_backend,
    run_in_subinterpreter,
)
from FasterAPI.testclient import TestClient

SUBINTERPRETERS = sys.version_info >= (3, 13)
BACKENDS = ["process"] + (["subinterpreter"] if best_backend() == "subinterpreter" else [])


def square(x: int) -> int:
    """Lives in a module that imports FasterAPI, which sub-interpreters cannot load."""
    return x * x


@pytest.fixture(params=BACKENDS)
def pool(request):
    with SubInterpreterPool(2, backend=request.param) as pool:
        yield pool


def run(pool, func, *args, **kwargs):
    return anyio.run(lambda: pool.run(func, *args, **kwargs))


def test_offload_best_backend_matches_python_version():
    assert best_backend() == ("subinterpreter" if SUBINTERPRETERS else "process")


def test_offload_repr_names_backend(pool):
    assert f"backend={pool.backend!r}" in repr(pool)
    assert "max_workers=2" in repr(pool)


def test_offload_returns_result_with_args_and_kwargs(pool):
    assert run(pool, work.add, 2, 3, times=4) == 20


def test_offload_runs_outside_the_main_interpreter(pool):
    place = run(pool, work.where)
    if pool.backend == "subinterpreter":
        assert place["pid"] == os.getpid()
        assert place["interpreter"] not in (None, 0)
        assert place["main_module_loaded"] is False
    else:
        assert place["pid"] != os.getpid()


def test_offload_reraises_the_original_exception(pool):
    with pytest.raises(work.Refused, match="no thanks"):
        run(pool, work.fail, "no thanks")


def test_offload_unpicklable_result_is_subinterpreter_error(pool):
    with pytest.raises(SubInterpreterError, match="could not be pickled"):
        run(pool, work.unpicklable_result)


def test_offload_refuses_lambdas_and_closures(pool):
    with pytest.raises(TypeError, match="picklable"):
        run(pool, lambda: 1)


def test_offload_function_from_module_importing_fasterapi_falls_back(pool, caplog):
    with caplog.at_level(logging.WARNING, logger="FasterAPI.offload"):
        assert run(pool, square, 7) == 49
        assert run(pool, square, 8) == 64
    warnings = [r for r in caplog.records if "cannot be loaded in a sub-interpreter" in r.message]
    if pool.backend == "subinterpreter":
        assert len(warnings) == 1
        assert "1 in processes" in repr(pool)
    else:
        assert warnings == []


def test_offload_runs_cpu_work_in_parallel(pool):
    run(pool, work.busy, 0.01)  # start the workers first
    spans = []

    async def two_jobs():
        async def one_job():
            spans.append(await pool.run(work.busy_span, 0.5))

        async with anyio.create_task_group() as group:
            for _ in range(2):
                group.start_soon(one_job)

    anyio.run(two_jobs)
    (first_start, first_end), (second_start, second_end) = spans
    # One after the other, the later job would start only after the earlier one ended.
    assert max(first_start, second_start) < min(first_end, second_end), spans


def test_offload_shutdown_refuses_new_work():
    pool = SubInterpreterPool(1)
    assert run(pool, work.add, 1, 1) == 2
    pool.shutdown()
    assert "closed" in repr(pool)
    with pytest.raises(RuntimeError, match="shut down"):
        run(pool, work.add, 1, 1)


def test_offload_argument_checks():
    with pytest.raises(ValueError):
        SubInterpreterPool(0)
    with pytest.raises(ValueError):
        SubInterpreterPool(1, backend="threads")
    if not SUBINTERPRETERS:
        with pytest.raises(RuntimeError, match="cannot run sub-interpreters"):
            SubInterpreterPool(1, backend="subinterpreter")


def test_offload_run_in_subinterpreter_uses_default_pool():
    assert anyio.run(run_in_subinterpreter, work.add, 20, 22) == 42


def test_offload_cpu_handler_leaves_event_loop_free(pool):
    app = Faster()

    @app.get("/cpu")
    async def cpu():
        return {"loops": await pool.run(work.busy, 2.5)}

    @app.get("/health")
    async def health():
        return {"ok": True}

    run(pool, work.busy, 0.01)  # warm the pool
    with TestClient(app) as client:
        outcome = {}
        worker = threading.Thread(target=lambda: outcome.update(cpu=client.get("/cpu")))
        worker.start()
        time.sleep(0.3)
        for _ in range(5):
            assert client.get("/health").json() == {"ok": True}
        # Had the CPU work held the event loop, /health would have waited for it to end.
        still_running = worker.is_alive()
        worker.join(10)
    assert still_running, "/health was answered only after the CPU-bound request"
    assert outcome["cpu"].status_code == 200
    assert outcome["cpu"].json()["loops"] > 0
