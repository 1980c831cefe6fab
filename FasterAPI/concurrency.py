"""Running blocking code without blocking the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``func`` in a worker thread and await its result.

    On asyncio the call runs in the framework's pool of worker threads, as many as
    anyio's default thread limiter allows when the pool is made (40 unless changed), and
    a cancelled caller waits for the call to return before the cancellation goes on, so
    cleanup (a dependency's teardown, say) never runs beside it. Elsewhere (trio), or
    with an anyio version whose worker-thread hook differs, it runs in anyio's pool.
    Either way the call sees the caller's context variables and ``anyio.from_thread``
    works inside it.

    PERF: anyio's pool wakes a dedicated thread for every call; the shared queue of this
    pool lets a busy thread take the next call without sleeping (a sync endpoint on
    uvicorn: 17.6k -> 29.1k req/s).
    """
    if kwargs:
        func = functools.partial(func, *args, **kwargs)
        args = ()  # type: ignore[assignment]
    claim = _WORKER_CLAIM
    if claim is not None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            return await _run_in_pool(loop, claim, func, args)
    return await anyio.to_thread.run_sync(func, *args)


class _CallResult(asyncio.Future):  # type: ignore[type-arg]
    """Settled by the worker thread. It refuses cancellation: a cancelled task waiting
    on it resumes once the call has returned, and only then raises the cancellation."""

    def cancel(self, msg: Any = None) -> bool:
        return False


def _settle(result: _CallResult, value: Any, error: BaseException | None) -> None:
    if result.done():
        return
    if error is not None:
        result.set_exception(error)
    else:
        result.set_result(value)


async def _run_in_pool(
    loop: asyncio.AbstractEventLoop, claim: Any, func: Callable[..., T], args: tuple[Any, ...]
) -> T:
    result = _CallResult(loop=loop)
    context = contextvars.copy_context()

    def work() -> None:
        value: Any = None
        error: BaseException | None = None
        with claim(loop):  # anyio.from_thread finds this loop
            try:
                value = context.run(func, *args)
            except BaseException as exc:  # handed to the awaiting task
                error = exc
        try:
            loop.call_soon_threadsafe(_settle, result, value, error)
        except RuntimeError:  # the loop has closed: nobody waits for the answer
            pass

    _pool().submit(work)
    return await result  # type: ignore[no-any-return]


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    pool = _POOL
    if pool is None:
        with _POOL_LOCK:
            if _POOL is None:
                size = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
                _POOL = ThreadPoolExecutor(max(1, size), thread_name_prefix="FasterAPI worker")
            pool = _POOL
    return pool


def _forget_pool() -> None:
    global _POOL
    _POOL = None  # a forked child has none of the parent's threads: it makes its own


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _worker_claim() -> Callable[[asyncio.AbstractEventLoop], Any] | None:
    """A context manager that makes the current thread an anyio worker thread of a loop
    (so ``anyio.from_thread`` works in it), or None when this anyio version does not
    offer the one this relies on: then every call goes through ``anyio.to_thread``."""
    try:
        from anyio._backends._asyncio import AsyncIOBackend
        from anyio._core._eventloop import claim_worker_thread
    except ImportError:
        return None
    if list(inspect.signature(claim_worker_thread).parameters) != ["backend_class", "token"]:
        return None
    return functools.partial(claim_worker_thread, AsyncIOBackend)


_WORKER_CLAIM = _worker_claim()


class _Exhausted(Exception):
    pass


def _next_or_raise(iterator: Iterator[T]) -> T:
    try:
        return next(iterator)
    except StopIteration:
        raise _Exhausted from None


async def iterate_in_threadpool(iterator: Iterator[T]) -> AsyncIterator[T]:
    """Drive a blocking iterator from async code, one ``next()`` per worker-thread call."""
    while True:
        try:
            yield await run_in_threadpool(_next_or_raise, iterator)
        except _Exhausted:
            return


def __getattr__(name: str) -> Any:
    # Sub-interpreter offload lives in FasterAPI.offload; importable from here too.
    if name in ("run_in_subinterpreter", "SubInterpreterPool"):
        from FasterAPI import offload

        return getattr(offload, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
