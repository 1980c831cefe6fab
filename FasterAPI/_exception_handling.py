"""Choosing and running exception handlers: by status code, then along the exception's MRO."""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Union

from FasterAPI.concurrency import run_in_threadpool
from FasterAPI.exceptions import HTTPException, RequestValidationError
from FasterAPI.request import Request
from FasterAPI.response import JSONResponse, PlainTextResponse, Response, status_allows_body

logger = logging.getLogger("FasterAPI")

ExceptionHandler = Callable[[Request, Any], Union[Response, Awaitable[Response]]]
HandlerKey = Union[int, type[BaseException]]


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    if not status_allows_body(exc.status_code):
        return Response(None, status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def request_validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> Response:
    return JSONResponse({"detail": exc.errors()}, status_code=422)


def server_error_response(exc: BaseException, debug: bool) -> Response:
    if debug:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return PlainTextResponse(text, status_code=500)
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


class ExceptionHandlers:
    """The app's handler registry with the framework defaults underneath."""

    def __init__(self, handlers: Mapping[HandlerKey, ExceptionHandler] | None = None) -> None:
        self.by_status: dict[int, ExceptionHandler] = {}
        self.by_class: dict[type[BaseException], ExceptionHandler] = {
            HTTPException: http_exception_handler,
            RequestValidationError: request_validation_exception_handler,
        }
        for key, handler in (handlers or {}).items():
            self.add(key, handler)

    def add(self, key: HandlerKey, handler: ExceptionHandler) -> None:
        if isinstance(key, int):
            self.by_status[key] = handler
        elif isinstance(key, type) and issubclass(key, BaseException):
            self.by_class[key] = handler
        else:
            raise TypeError("Exception handlers are keyed by a status code or an exception class")

    def find(self, exc: BaseException) -> ExceptionHandler | None:
        if isinstance(exc, HTTPException):
            handler = self.by_status.get(exc.status_code)
            if handler is not None:
                return handler
        for cls in type(exc).__mro__:
            if cls is Exception:
                break  # the 500 handler: answered by the server-error path (debug first)
            handler = self.by_class.get(cls)
            if handler is not None:
                return handler
        return None

    def server_error_handler(self) -> ExceptionHandler | None:
        return self.by_status.get(500) or self.by_class.get(Exception)

    async def call(self, handler: ExceptionHandler, request: Request, exc: Any) -> Response:
        """The handler's response; ``TypeError`` (a 500) when it returns something else."""
        result: Any
        if inspect.iscoroutinefunction(handler):
            result = await handler(request, exc)
        else:
            result = await run_in_threadpool(handler, request, exc)
            if inspect.isawaitable(result):
                result = await result
        if not isinstance(result, Response):
            raise TypeError(
                f"The exception handler {handler!r} returned {type(result).__name__}, "
                "not a Response"
            )
        return result
