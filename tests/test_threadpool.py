"""Blocking user code (sync endpoints, dependencies, background tasks) in worker threads.

On asyncio such calls run in the framework's own pool; these tests hold it to what
anyio's pool gave: the caller's context variables, ``anyio.from_thread`` inside the call,
calls running side by side, errors raised to the caller. A cancelled caller waits for
the call to return (anyio's pool, the fallback, lets an asyncio cancellation through at
once).
"""

import asyncio
import contextvars
import subprocess
import sys
import threading
import time
from typing import Annotated, Any

import anyio
import anyio.from_thread
import pytest

import FasterAPI.concurrency
from FasterAPI import BackgroundTasks, Depends, Faster, run_in_threadpool
from FasterAPI.testclient import TestClient

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["pool", "anyio"])
def offload(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a call reaches a thread: the framework's pool, or anyio's when the anyio
    version lacks what the pool relies on."""
    if request.param == "anyio":
        monkeypatch.setattr(FasterAPI.concurrency, "_WORKER_CLAIM", None)
    return str(request.param)


def make_app() -> Faster:
    app = Faster()

    async def tag_request() -> None:
        REQUEST_ID.set("r-42")

    async def double(value: int) -> int:
        return value * 2

    @app.get("/sync", dependencies=[Depends(tag_request)])
    def sync_endpoint() -> dict[str, Any]:
        return {
            "main_thread": threading.current_thread() is threading.main_thread(),
            "request_id": REQUEST_ID.get(),
            "from_loop": anyio.from_thread.run(double, 21),
        }

    def blocking_dependency() -> str:
        return threading.current_thread().name

    @app.get("/sync-dependency")
    async def uses_blocking(name: Annotated[str, Depends(blocking_dependency)]) -> dict[str, str]:
        return {"thread": name}

    @app.get("/sync-error")
    def failing() -> None:
        raise ValueError("broken in a thread")

    done: list[str] = []

    @app.get("/background")
    async def schedule(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(done.append, REQUEST_ID.get())
        return {"scheduled": True}

    @app.get("/done")
    async def report() -> list[str]:
        return done

    return app


def test_a_sync_endpoint_runs_in_a_worker_thread_with_the_request_context(offload: str) -> None:
    client = TestClient(make_app())

    response = client.get("/sync")

    assert response.status_code == 200
    assert response.json() == {"main_thread": False, "request_id": "r-42", "from_loop": 42}


def test_sync_dependencies_and_background_tasks_run_in_worker_threads(offload: str) -> None:
    client = TestClient(make_app())

    dependency = client.get("/sync-dependency")
    client.get("/background")

    assert dependency.status_code == 200
    assert dependency.json()["thread"] != threading.main_thread().name
    assert client.get("/done").json() == ["-"]


def test_an_error_in_a_sync_endpoint_is_a_500_and_reaches_the_server(offload: str) -> None:
    quiet = TestClient(make_app(), raise_server_exceptions=False)
    loud = TestClient(make_app())

    assert quiet.get("/sync-error").status_code == 500
    with pytest.raises(ValueError, match="broken in a thread"):
        loud.get("/sync-error")


@pytest.mark.anyio
async def test_calls_run_side_by_side(offload: str) -> None:
    barrier = threading.Barrier(8, timeout=5)

    def meet(number: int) -> int:
        barrier.wait()  # breaks (and raises) unless all eight run at once
        return number

    results = await asyncio.gather(*(run_in_threadpool(meet, n) for n in range(8)))

    assert results == list(range(8))


@pytest.mark.anyio
async def test_keyword_arguments_and_errors_reach_the_caller(offload: str) -> None:
    def divide(a: int, *, by: int) -> float:
        return a / by

    assert await run_in_threadpool(divide, 9, by=3) == 3
    with pytest.raises(ZeroDivisionError):
        await run_in_threadpool(divide, 1, by=0)


@pytest.mark.anyio
async def test_a_cancelled_caller_waits_until_the_call_returns() -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[float] = []

    def slow() -> str:
        started.set()
        release.wait(5)
        finished.append(time.monotonic())
        return "done"

    task = asyncio.get_running_loop().create_task(run_in_threadpool(slow))
    while not started.is_set():
        await asyncio.sleep(0.001)
    task.cancel()
    await asyncio.sleep(0.05)
    still_waiting = not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    cancelled_at = time.monotonic()

    assert still_waiting
    assert finished and finished[0] <= cancelled_at


@pytest.mark.anyio
async def test_a_timeout_ends_after_the_call_and_raises_timeout_error() -> None:
    def sleepy() -> None:
        time.sleep(0.2)

    begun = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):  # TimeoutError itself from 3.11
        await asyncio.wait_for(run_in_threadpool(sleepy), timeout=0.02)

    assert time.monotonic() - begun >= 0.19


@pytest.mark.anyio
async def test_the_pool_holds_as_many_threads_as_anyios_default_limiter() -> None:
    names: set[str] = set()
    lock = threading.Lock()
    limit = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
    barrier = threading.Barrier(limit, timeout=5)

    def note() -> None:
        with lock:
            names.add(threading.current_thread().name)
        barrier.wait()

    await asyncio.gather(*(run_in_threadpool(note) for _ in range(limit)))

    assert len(names) == limit
    assert all(name.startswith("FasterAPI worker") for name in names)


FORK_SCRIPT = """
import asyncio, os, sys, warnings
from FasterAPI import run_in_threadpool

warnings.simplefilter("ignore", DeprecationWarning)  # fork() with the pool's threads alive
print(asyncio.run(run_in_threadpool(lambda: "parent ok")), flush=True)
child = os.fork()
if child == 0:
    print(asyncio.run(run_in_threadpool(lambda: "child ok")), flush=True)
    os._exit(0)
_, status = os.waitpid(child, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_child_makes_its_own_pool() -> None:
    # In a fresh interpreter: the test process has other threads that fork() may not copy
    # safely. Without a pool of its own the child waits forever for threads it lacks.
    done = subprocess.run(
        [sys.executable, "-c", FORK_SCRIPT], capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["parent", "ok", "child", "ok"]
