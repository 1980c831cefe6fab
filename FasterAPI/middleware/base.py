"""Writing your own middleware: ``BaseHTTPMiddleware`` and ``FunctionMiddleware``.

Raw ASGI, as the original FasterAPI documents (HTTP only; websocket and lifespan scopes go
straight to the app)::

    class Timing(BaseHTTPMiddleware):
        async def dispatch(self, scope, receive, send):
            await self.app(scope, receive, send)

FastAPI's request/response style, which ``@app.middleware("http")`` uses through
``FunctionMiddleware(app, dispatch=func)``; a ``BaseHTTPMiddleware`` subclass whose
``dispatch`` takes ``(request, call_next)`` works the same way::

    async def add_header(request, call_next):
        response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        return response

``call_next`` runs the rest of the app in a task and returns as soon as the app has sent
its response headers; the returned response's status and headers can still be changed.
Its body is not buffered: each body message the app sends is passed on before the app's
``send`` returns, so streaming and SSE responses stay streaming (``response.body_iterator``
iterates the same body). If the app raises before responding, ``call_next`` raises. If
``dispatch`` returns another response, the app's task is cancelled. A body read in
``dispatch`` (``await request.body()``) is replayed to the app. Inside this middleware the
app is not offered ``http.response.pathsend``, since the body has to flow through here.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any

import anyio
import anyio.abc

from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send
from FasterAPI.request import Request
from FasterAPI.response import Response

__all__ = ["BaseHTTPMiddleware", "CallNext", "DispatchFunction", "FunctionMiddleware"]

CallNext = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, CallNext], Awaitable[Response]]

_PATHSEND = "http.response.pathsend"


def _takes_call_next(func: Callable[..., Any]) -> bool:
    """True for ``(request, call_next)`` dispatchers, False for ``(scope, receive, send)``."""
    positional = [
        p
        for p in inspect.signature(func).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) == 2


class BaseHTTPMiddleware:
    """Override ``dispatch``; see the module docstring for the two styles it accepts."""

    def __init__(self, app: ASGIApp, dispatch: Callable[..., Awaitable[Any]] | None = None) -> None:
        self.app = app
        self.dispatch_func: Callable[..., Awaitable[Any]] = (
            dispatch if dispatch is not None else self.dispatch
        )
        self._call_next_style = _takes_call_next(self.dispatch_func)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif self._call_next_style:
            await _serve_with_call_next(self.app, self.dispatch_func, scope, receive, send)
        else:
            await self.dispatch_func(scope, receive, send)

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class FunctionMiddleware(BaseHTTPMiddleware):
    """``async def dispatch(request, call_next) -> Response`` as middleware."""

    def __init__(self, app: ASGIApp, dispatch: DispatchFunction) -> None:
        if not callable(dispatch):
            raise TypeError("dispatch must be an async function (request, call_next)")
        super().__init__(app, dispatch)
        self._call_next_style = True


async def _serve_with_call_next(
    app: ASGIApp,
    dispatch: Callable[..., Awaitable[Any]],
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    extensions = scope.get("extensions")
    if extensions and _PATHSEND in extensions:
        scope["extensions"] = {k: v for k, v in extensions.items() if k != _PATHSEND}
    failure: BaseException | None = None
    async with anyio.create_task_group() as group:
        run = _AppRun(app, scope, receive, group)
        try:
            response = await dispatch(Request(scope, receive, send), run.call_next)
            if not isinstance(response, Response):
                raise TypeError(f"dispatch must return a Response, not {type(response).__name__}")
            await response(scope, receive, send)
            if not run.drained:
                group.cancel_scope.cancel()  # the app's response was not (fully) used
        except Exception as exc:
            # Caught here so it propagates as itself, not inside an ExceptionGroup.
            failure = exc
            group.cancel_scope.cancel()
    if failure is not None:
        try:
            raise failure
        finally:
            failure = None
    run.raise_failure()  # e.g. a background task that failed after the response


class _AppRun:
    """The inner app running in a task. Its messages go through a small queue: the start
    message is handed over at once, and each body message's ``send`` returns only once the
    middleware passed it on (no read-ahead, so nothing is buffered)."""

    def __init__(
        self, app: ASGIApp, scope: Scope, receive: Receive, group: anyio.abc.TaskGroup
    ) -> None:
        self.app = app
        self.scope = scope
        self.receive = receive
        self.group = group
        self.request: Request | None = None
        self.failure: Exception | None = None
        self.send_error: OSError | None = None
        self.drained = False
        self._called = False
        self._replayed = False
        self._finished = False
        # PERF: a deque and two events, not an anyio memory stream: each stream operation
        # is a checkpoint, and the extra event-loop turns cost more than the app itself.
        self._queue: deque[Message] = deque()
        self._ready = anyio.Event()
        self._ack: anyio.Event | None = None

    async def call_next(self, request: Request) -> Response:
        if self._called:
            raise RuntimeError("call_next() can only be called once per request")
        self._called = True
        self.request = request
        self.group.start_soon(self._run)
        message = await self._next()
        if message is None:
            self.drained = True
            self.raise_failure()
            raise RuntimeError("The app returned without sending a response")
        if message["type"] != "http.response.start":
            raise RuntimeError(f"Expected http.response.start, got {message['type']!r}")
        return _AppResponse(message["status"], list(message.get("headers") or ()), self)

    def raise_failure(self) -> None:
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._receive, self._send)
        except Exception as exc:
            self.failure = exc
        finally:
            self._finished = True
            self._ready.set()

    async def _receive(self) -> Message:
        if not self._replayed:
            body = getattr(self.request, "_body", None)
            if body is not None:
                self._replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            if getattr(self.request, "_stream_consumed", False):
                # The middleware streamed the body away: the app gets an empty one rather
                # than waiting for more from the server, which has nothing left to send.
                self._replayed = True
                return {"type": "http.request", "body": b"", "more_body": False}
        return await self.receive()

    async def _send(self, message: Message) -> None:
        self._queue.append(message)
        self._ready.set()
        if message["type"] == "http.response.start":
            return
        ack = self._ack = anyio.Event()
        await ack.wait()
        if self.send_error is not None:
            raise self.send_error

    async def _next(self) -> Message | None:
        """The app's next message, or None once it has returned."""
        while not self._queue:
            if self._finished:
                return None
            self._ready = anyio.Event()
            await self._ready.wait()
        return self._queue.popleft()

    def _acknowledge(self) -> None:
        ack, self._ack = self._ack, None
        if ack is not None:
            ack.set()

    async def messages(self) -> AsyncGenerator[Message, None]:
        """The app's messages after the start, up to the last body message. Each one is
        acknowledged when the consumer comes back for the next (or stops)."""
        while not self.drained:
            message = await self._next()
            if message is None:
                self.drained = True
                break
            try:
                yield message
            finally:
                self._acknowledge()
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.drained = True
        self.raise_failure()


class _AppResponse(Response):
    """The app's response as ``call_next`` returns it: status and headers are editable,
    the body streams from the app when the response is sent."""

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]], run: _AppRun):
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.background = None
        self.body = b""
        self._run = run

    @property
    def body_iterator(self) -> AsyncIterator[bytes]:
        """The body chunks, as the app sends them (consumes the body: send it yourself)."""
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        async with aclosing(self._run.messages()) as messages:
            async for message in messages:
                body = message.get("body", b"") if message["type"] == "http.response.body" else b""
                if body:
                    yield body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        run = self._run
        start = {"type": "http.response.start", "status": self.status_code}
        await send({**start, "headers": self.raw_headers})
        if run.drained:  # the body was already consumed through body_iterator
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        async with aclosing(run.messages()) as messages:
            async for message in messages:
                if run.send_error is None:
                    try:
                        await send(message)
                    except OSError as exc:  # the client left: tell the app, as a server would
                        run.send_error = exc
        if run.send_error is None and self.background is not None:
            await self.background()
