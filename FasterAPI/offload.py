"""CPU-bound work off the event loop: sub-interpreters with their own GIL, or a process pool.

    from FasterAPI.offload import run_in_subinterpreter

    @app.get("/primes/{n}")
    async def primes(n: int) -> list[int]:
        return await run_in_subinterpreter(work.sieve, n)   # the loop keeps serving

Three tools, by workload:

- ``run_in_threadpool(func, *args)``: blocking I/O (threads share the GIL: no CPU speed-up);
- ``run_in_subinterpreter(func, *args)``: CPU-bound Python, run in parallel on a shared
  default ``SubInterpreterPool`` sized to the CPU count;
- ``SubInterpreterPool(max_workers)``: your own pool (``await pool.run(func, *args)``).

Backends, chosen once per process (``repr(pool)`` and ``pool.backend`` say which is active):
``"subinterpreter"`` (each worker an isolated interpreter with its own GIL) on Python 3.14+
through ``concurrent.interpreters`` (PEP 734) and on 3.13 through the private
``_interpreters`` module that 3.14 made public, after a probe at first use; ``"process"``
(``ProcessPoolExecutor``, forkserver on POSIX) on 3.10-3.12 or when the probe fails. The
PyPI ``backports.interpreters`` was considered for 3.13 and left out: it wraps the same
private module, has one maintainer, and stops waiting for a result after 30 seconds.

Rules for ``func``: it travels by reference, so it must be a module-level function (no
lambdas or closures), and its arguments and result must be picklable. Each sub-interpreter
imports ``func``'s module afresh; C extensions that do not support sub-interpreters (msgspec,
and so ``FasterAPI`` itself, today) cannot be imported there. Keep CPU work in modules that
import only pure-Python or sub-interpreter-ready code. When a function's module cannot be
loaded, the pool logs a warning once and runs that function in its process pool from then
on, so the call still succeeds. Process workers re-import a script run as ``__main__``:
start servers under ``if __name__ == "__main__":`` (uvicorn's and Granian's CLIs need
nothing). Cancelling the awaiting task waits for the running call to finish: neither
backend can interrupt Python code midway.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import multiprocessing
import os
import pickle
import queue
import sys
import threading
import traceback
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from typing import Any, Literal, ParamSpec, TypeVar

import anyio.to_thread

from FasterAPI.concurrency import run_in_threadpool

__all__ = [
    "SubInterpreterError",
    "SubInterpreterPool",
    "best_backend",
    "default_pool",
    "run_in_subinterpreter",
    "run_in_threadpool",
]

logger = logging.getLogger("FasterAPI.offload")

P = ParamSpec("P")
T = TypeVar("T")
Backend = Literal["subinterpreter", "process"]

# Defines ``_fasterapi_run(payload)`` in each sub-interpreter's __main__. ``_send`` (set up by
# the adapter) ships bytes back: ("ok", result), ("error", exc), ("text", traceback) when the
# exception cannot be pickled, or ("load", traceback) when func's module cannot be imported.
_BOOTSTRAP = """
import pickle as _pickle, sys as _sys, traceback as _traceback
_sys.path[:0] = [p for p in _FASTERAPI_PATHS if p not in _sys.path]

def _fasterapi_run(payload):
    try:
        func, args, kwargs = _pickle.loads(payload)
    except BaseException:
        _send(_pickle.dumps(("load", _traceback.format_exc())))
        return
    try:
        outcome = ("ok", func(*args, **kwargs))
    except BaseException as exc:
        exc.add_note("(raised in a sub-interpreter)\\n" + _traceback.format_exc())
        outcome = ("error", exc)
    try:
        data = _pickle.dumps(outcome)
    except BaseException as exc:
        data = _pickle.dumps(("text", _unpicklable(outcome, exc)))
    _send(data)

def _unpicklable(outcome, exc):
    if outcome[0] == "ok":
        return f"The result could not be pickled: {exc!r}"
    return "".join(_traceback.format_exception(outcome[1]))
"""


class SubInterpreterError(RuntimeError):
    """A call failed in a way that could not be carried back as the original exception."""


class _LoadError(Exception):
    """``func``'s module could not be imported in the sub-interpreter."""


class _Interpreter:
    """One isolated interpreter (own GIL) plus the queue its results come back on."""

    def __init__(self) -> None:
        raise NotImplementedError

    def call(self, payload: bytes) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _PublicInterpreter(_Interpreter):
    """Python 3.14+: ``concurrent.interpreters``."""

    def __init__(self) -> None:
        interpreters: Any = importlib.import_module("concurrent.interpreters")
        self._interp: Any = interpreters.create()
        self._results: Any = interpreters.create_queue()
        self._interp.prepare_main(
            _FASTERAPI_PATHS=tuple(sys.path), _FASTERAPI_RESULTS=self._results
        )
        self._exec("_send = _FASTERAPI_RESULTS.put\n" + _BOOTSTRAP)

    def _exec(self, code: str) -> None:
        try:
            self._interp.exec(code)
        except Exception as exc:  # concurrent.interpreters.ExecutionFailed
            raise SubInterpreterError(str(exc)) from exc

    def call(self, payload: bytes) -> bytes:
        self._interp.prepare_main(_fasterapi_payload=payload)
        self._exec("_fasterapi_run(_fasterapi_payload)")
        return self._results.get_nowait()  # type: ignore[no-any-return]

    def close(self) -> None:
        self._interp.close()


class _PrivateInterpreter(_Interpreter):
    """Python 3.13: the private ``_interpreters`` / ``_interpqueues`` modules."""

    def __init__(self) -> None:
        import _interpqueues  # type: ignore[import-not-found,unused-ignore]
        import _interpreters  # type: ignore[import-not-found,unused-ignore]

        self._mod: Any = _interpreters
        self._queues: Any = _interpqueues
        self._qid = _interpqueues.create(0, 0, 1)  # unbounded, shareable objects, drop unbound
        try:
            self._id = _interpreters.create()
        except BaseException:
            _interpqueues.destroy(self._qid)
            raise
        setup = "import _interpqueues\ndef _send(data):\n    _interpqueues.put(_QID, data, 0, 1)\n"
        shared = {"_QID": self._qid, "_FASTERAPI_PATHS": tuple(sys.path)}
        self._check(_interpreters.exec(self._id, setup + _BOOTSTRAP, shared))

    def _check(self, failure: Any) -> None:
        if failure is not None:
            raise SubInterpreterError(getattr(failure, "errdisplay", None) or str(failure))

    def call(self, payload: bytes) -> bytes:
        shared = {"_fasterapi_payload": payload}
        self._check(self._mod.exec(self._id, "_fasterapi_run(_fasterapi_payload)", shared))
        return self._queues.get(self._qid)[0]  # type: ignore[no-any-return]

    def close(self) -> None:
        try:
            self._mod.destroy(self._id)
        finally:
            self._queues.destroy(self._qid)


def _decode(data: bytes) -> Any:
    try:
        kind, value = pickle.loads(data)
    except Exception as exc:
        raise SubInterpreterError(f"The outcome could not be unpickled: {exc!r}") from exc
    if kind == "ok":
        return value
    if kind == "error":
        raise value
    if kind == "load":
        raise _LoadError(value)
    raise SubInterpreterError(value)


def _interpreter_class() -> type[_Interpreter] | None:
    if sys.version_info >= (3, 14):
        return _PublicInterpreter
    if sys.version_info >= (3, 13):
        return _PrivateInterpreter
    return None


@lru_cache(maxsize=1)
def best_backend() -> Backend:
    """``"subinterpreter"`` when this Python can run one (probed once), else ``"process"``."""
    cls = _interpreter_class()
    if cls is None:
        return "process"
    try:
        interpreter = cls()
        try:
            result = _decode(interpreter.call(pickle.dumps((int, ("42",), {}))))
        finally:
            interpreter.close()
    except Exception as exc:
        logger.warning("Sub-interpreters unavailable (%r); using a process pool", exc)
        return "process"
    return "subinterpreter" if result == 42 else "process"


def _process_context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    # fork is unsafe in a process running threads (the event loop's worker pool).
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _function_key(func: Callable[..., Any]) -> tuple[str, str]:
    return (getattr(func, "__module__", "?") or "?", getattr(func, "__qualname__", repr(func)))


_pools: weakref.WeakSet[SubInterpreterPool] = weakref.WeakSet()


class SubInterpreterPool:
    """Run functions in parallel on ``max_workers`` sub-interpreters (or processes).

    ``backend`` forces one (``"subinterpreter"`` raises ``RuntimeError`` where unsupported);
    the default picks ``best_backend()``. Interpreters start on demand and live until
    ``shutdown()`` (also called at exit); the pool is a (sync or async) context manager.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        backend: Literal["auto", "subinterpreter", "process"] = "auto",
    ) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers or os.cpu_count() or 1
        if backend == "auto":
            backend = best_backend()
        elif backend == "subinterpreter" and best_backend() != "subinterpreter":
            raise RuntimeError(f"Python {sys.version.split()[0]} cannot run sub-interpreters")
        elif backend not in ("subinterpreter", "process"):
            raise ValueError(f"Unknown backend {backend!r}")
        self.backend: Backend = backend
        self._interpreter_class = _interpreter_class() if backend == "subinterpreter" else None
        self._limiter = anyio.CapacityLimiter(self.max_workers)
        self._idle: queue.SimpleQueue[_Interpreter] = queue.SimpleQueue()
        self._interpreters: list[_Interpreter] = []
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._process_only: set[tuple[str, str]] = set()
        self._closed = False
        _pools.add(self)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._interpreters)} started"
        extra = f", {len(self._process_only)} in processes" if self._process_only else ""
        return (
            f"<SubInterpreterPool backend={self.backend!r} max_workers={self.max_workers} "
            f"({state}{extra})>"
        )

    async def run(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)`` on a worker; returns its result or raises its exception."""
        if self._closed:
            raise RuntimeError("This SubInterpreterPool has been shut down")
        try:
            payload = pickle.dumps((func, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError(
                f"{func!r} and its arguments must be picklable (a module-level function): {exc}"
            ) from exc
        if self.backend == "subinterpreter" and _function_key(func) not in self._process_only:
            try:
                result: T = await anyio.to_thread.run_sync(
                    self._call_interpreter, payload, limiter=self._limiter
                )
                return result
            except _LoadError as exc:
                self._fall_back(func, str(exc))
        return await anyio.to_thread.run_sync(self._call_process, payload, limiter=self._limiter)

    def _fall_back(self, func: Callable[..., Any], trace: str) -> None:
        key = _function_key(func)
        if key not in self._process_only:
            self._process_only.add(key)
            reason = trace.strip().splitlines()[-1]
            logger.warning(
                "%s.%s cannot be loaded in a sub-interpreter (%s); running it in a process pool",
                *key,
                reason,
            )

    def _call_interpreter(self, payload: bytes) -> Any:
        interpreter = self._acquire()
        try:
            data = interpreter.call(payload)
        finally:
            if self._closed:  # shut down while this call ran
                interpreter.close()
            else:
                self._idle.put(interpreter)
        return _decode(data)

    def _acquire(self) -> _Interpreter:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._interpreter_class and len(self._interpreters) < self.max_workers:
                interpreter = self._interpreter_class()
                self._interpreters.append(interpreter)
                return interpreter
        return self._idle.get()

    def _call_process(self, payload: bytes) -> Any:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(self.max_workers, _process_context())
            executor = self._executor
        try:
            return _decode(executor.submit(_run_pickled, payload).result())
        except BrokenProcessPool:
            with self._lock:  # a worker died (killed, or the main module re-ran): start afresh
                if self._executor is executor:
                    self._executor = None
            raise

    def shutdown(self, wait: bool = True) -> None:
        """Close the interpreters and the process pool; later ``run`` calls raise."""
        with self._lock:
            self._closed = True
            interpreters, self._interpreters = self._interpreters, []
            executor, self._executor = self._executor, None
        for interpreter in interpreters:
            try:
                interpreter.close()
            except Exception:  # still running after an abandoned call; exit will reap it
                logger.debug("Could not close a sub-interpreter", exc_info=True)
        if executor is not None:
            executor.shutdown(wait=wait)

    def __enter__(self) -> SubInterpreterPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    async def __aenter__(self) -> SubInterpreterPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await run_in_threadpool(self.shutdown)


def _run_pickled(payload: bytes) -> bytes:
    """Process-pool side of ``SubInterpreterPool``: same payload and reply as interpreters."""
    func, args, kwargs = pickle.loads(payload)
    try:
        outcome: tuple[str, Any] = ("ok", func(*args, **kwargs))
    except BaseException as exc:
        outcome = ("error", exc)
    try:
        return pickle.dumps(outcome)
    except Exception as exc:
        if outcome[0] == "ok":
            text = f"The result could not be pickled: {exc!r}"
        else:
            text = "".join(traceback.format_exception(outcome[1]))
        return pickle.dumps(("text", text))


_default_pool: SubInterpreterPool | None = None
_default_lock = threading.Lock()


def default_pool() -> SubInterpreterPool:
    """The shared pool behind ``run_in_subinterpreter`` (``os.cpu_count()`` workers)."""
    global _default_pool
    with _default_lock:
        if _default_pool is None or _default_pool._closed:
            _default_pool = SubInterpreterPool()
        return _default_pool


async def run_in_subinterpreter(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run CPU-bound ``func(*args, **kwargs)`` in parallel with the event loop; await its result."""
    return await default_pool().run(func, *args, **kwargs)


@atexit.register
def _shutdown_pools() -> None:
    for pool in list(_pools):
        pool.shutdown(wait=False)
