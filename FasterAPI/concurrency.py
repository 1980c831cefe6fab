"""Running blocking code without blocking the event loop."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``func`` in anyio's worker thread pool and await its result."""
    if kwargs:
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))
    return await anyio.to_thread.run_sync(func, *args)


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
            yield await anyio.to_thread.run_sync(_next_or_raise, iterator)
        except _Exhausted:
            return


def __getattr__(name: str) -> Any:
    # Sub-interpreter offload lives in FasterAPI.offload; importable from here too.
    if name in ("run_in_subinterpreter", "SubInterpreterPool"):
        from FasterAPI import offload

        return getattr(offload, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
