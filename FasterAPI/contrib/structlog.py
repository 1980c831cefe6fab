"""Structured logs with structlog (``pip install 'FasterAPI[structlog]'``), and a request context.

    from FasterAPI.contrib.structlog import StructlogMiddleware, configure_structlog
    from FasterAPI.middleware.requestid import RequestIDMiddleware

    configure_structlog(json_format=True, log_level="INFO")
    app = Faster()
    app.add_middleware(StructlogMiddleware)     # switch the request context on
    app.add_middleware(RequestIDMiddleware)     # optional, outermost: honours X-Request-ID

    log = structlog.get_logger()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        log.info("item.read", item_id=item_id)   # carries request_id, method and path
        ...

``configure_structlog`` sends structlog *and* standard-library records (``FasterAPI``,
uvicorn, your libraries) through one renderer: one JSON object per line, or coloured
console lines with ``json_format=False``. ``StructlogMiddleware`` binds ``request_id``,
``method`` and ``path`` to the context of each request (so every line logged while
serving it, in sync handlers' worker threads too, carries them) and logs one access line
per request: ``event="request"`` with ``status`` and ``duration_ms``, at error level (with
the traceback) when the app raised. The request id comes from ``request.state.request_id``
when ``RequestIDMiddleware`` runs outside it, else a new UUID4; it is stored there too.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from typing import Any, TextIO

try:
    import structlog
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("Install the structlog extra: pip install 'FasterAPI[structlog]'") from exc

from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["StructlogMiddleware", "configure_structlog"]

_HANDLER_MARK = "_fasterapi_structlog"


def _level(value: str | int) -> int:
    if isinstance(value, int):
        return value
    level = logging.getLevelName(value.upper())
    if not isinstance(level, int):
        raise ValueError(f"Unknown log level {value!r}")
    return level


def configure_structlog(
    json_format: bool = True,
    log_level: str | int = "INFO",
    *,
    stream: TextIO | None = None,
) -> None:
    """Configure structlog and the root logger to render every record the same way.

    Calling it again replaces the handler it installed before (other handlers are kept).
    ``stream`` defaults to standard error.
    """
    level = _level(log_level)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any
    if json_format:
        shared.append(structlog.processors.dict_tracebacks)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


class StructlogMiddleware:
    """Pure-ASGI middleware: per-request log context and one access line per HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        logger_name: str = "FasterAPI.access",
        access_log: bool = True,
    ) -> None:
        self.app = app
        self.logger = structlog.get_logger(logger_name)
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        request_id = state.get("request_id")
        if request_id is None:
            request_id = state["request_id"] = uuid.uuid4().hex
        context = {
            "request_id": request_id,
            "method": scope.get("method", "WEBSOCKET"),
            "path": scope["path"],
        }
        with structlog.contextvars.bound_contextvars(**context):
            if kind == "http" and self.access_log:
                await self._logged(scope, receive, send)
            else:
                await self.app(scope, receive, send)

    async def _logged(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        except BaseException:
            self.logger.error(
                "request",
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                exc_info=True,
            )
            raise
        duration = round((time.perf_counter() - started) * 1000, 3)
        log = self.logger.error if status >= 500 else self.logger.info
        log("request", status=status, duration_ms=duration)
