"""CPU-bound functions for tests/test_offload.py.

Standard library only, so that sub-interpreters can import this module (FasterAPI's own
modules cannot be imported there: msgspec does not support sub-interpreters yet).
"""

import os
import sys
import threading
import time


def busy(seconds: float) -> int:
    """Spin in pure Python (holding this interpreter's GIL) for ``seconds``; return the loops."""
    deadline = time.perf_counter() + seconds
    loops = 0
    while time.perf_counter() < deadline:
        loops += 1
    return loops


def busy_span(seconds: float) -> tuple[float, float]:
    """Spin like ``busy``; return the wall-clock times this call started and ended."""
    started = time.time()
    busy(seconds)
    return started, time.time()


def where() -> dict:
    """Which process, thread and interpreter this runs in."""
    interpreter_id = None
    if sys.version_info >= (3, 13):
        try:
            import _interpreters

            interpreter_id = _interpreters.get_current()[0]
        except ImportError:
            pass
    return {
        "pid": os.getpid(),
        "thread": threading.get_ident(),
        "interpreter": interpreter_id,
        "main_module_loaded": "FasterAPI" in sys.modules,
    }


def add(a: int, b: int, *, times: int = 1) -> int:
    return (a + b) * times


class Refused(Exception):
    pass


def fail(message: str) -> None:
    raise Refused(message)


def unpicklable_result():
    return threading.Lock()
