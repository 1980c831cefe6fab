"""Faster: the application object, an ASGI 3 app with FastAPI's configuration surface."""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

import anyio

from FasterAPI import params
from FasterAPI._compile import Plan
from FasterAPI._dispatch import RouteTable
from FasterAPI._exception_handling import (
    ExceptionHandler,
    ExceptionHandlers,
    HandlerKey,
    server_error_response,
)
from FasterAPI._forwarded import ForwardedHeaders
from FasterAPI._framing import (
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_REQUEST_HEADERS,
    headers_too_large,
    incomplete_body,
    reject_ambiguous_framing,
)
from FasterAPI._rsgi import HTTPBridge, LoopLifespan, WebSocketBridge
from FasterAPI._rsgi_scope import RSGI_BRIDGE, RSGIScope, complete_scope, http_scope
from FasterAPI._solve import override_plan
from FasterAPI._types import ASGIApp, Receive, Scope, Send
from FasterAPI.concurrency import run_in_threadpool
from FasterAPI.datastructures import URL, State, quote_path, route_path, url_path
from FasterAPI.exceptions import HTTPException
from FasterAPI.middleware import Middleware
from FasterAPI.middleware.errors import ServerErrorMiddleware
from FasterAPI.request import DEFAULT_MAX_BODY_SIZE, ClientDisconnect, Request
from FasterAPI.response import RESPONSE_STARTED, JSONResponse, RedirectResponse, Response
from FasterAPI.routing import APIRoute, FasterRouter

logger = logging.getLogger("FasterAPI")

_INNER = "fasterapi.inner"
"""Scope key: set when the user middleware stack has run and the request reached the app."""

F = TypeVar("F", bound=Callable[..., Any])
Lifespan = Callable[["Faster"], AbstractAsyncContextManager[Mapping[str, Any] | None]]


class Faster(FasterRouter):
    """The application. Register routes with the decorators, serve it with any ASGI server."""

    _passes_send_through = True  # mounted, it drops the RSGI bridge before its middleware

    def __init__(
        self,
        *,
        title: str = "FasterAPI",
        version: str = "0.1.0",
        description: str = "",
        summary: str | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, Any]] | None = None,
        root_path: str = "",
        # -- OpenAPI and docs pages (FasterAPI.openapi) --
        terms_of_service: str | None = None,
        contact: dict[str, Any] | None = None,
        license_info: dict[str, Any] | None = None,
        root_path_in_servers: bool = True,
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        swagger_ui_parameters: dict[str, Any] | None = None,
        swagger_js_url: str | None = None,
        swagger_css_url: str | None = None,
        swagger_favicon_url: str | None = None,
        redoc_js_url: str | None = None,
        redoc_favicon_url: str | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[APIRoute], str] | None = None,
        # -- end OpenAPI --
        lifespan: Lifespan | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        exception_handlers: Mapping[HandlerKey, ExceptionHandler] | None = None,
        middleware: Sequence[Middleware] | None = None,
        default_response_class: type[Response] = JSONResponse,
        redirect_slashes: bool = True,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        max_request_headers: int | None = DEFAULT_MAX_REQUEST_HEADERS,
        max_header_bytes: int | None = DEFAULT_MAX_HEADER_BYTES,
        debug: bool = False,
        startup_timeout: float | None = None,
    ) -> None:
        super().__init__(
            dependencies=dependencies,
            responses=responses,
            default_response_class=default_response_class,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            max_body_size=max_body_size,
            generate_unique_id_function=generate_unique_id_function,
        )
        self.title = title
        self.version = version
        self.description = description
        self.summary = summary
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.openapi_tags = openapi_tags
        self.servers = servers or []
        self.root_path = root_path
        # -- OpenAPI: see FasterAPI.openapi; None asset URLs mean the packaged files --
        self.terms_of_service = terms_of_service
        self.contact = contact
        self.license_info = license_info
        self.root_path_in_servers = root_path_in_servers
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        self.swagger_ui_parameters = swagger_ui_parameters
        self.swagger_js_url = swagger_js_url
        self.swagger_css_url = swagger_css_url
        self.swagger_favicon_url = swagger_favicon_url
        self.redoc_js_url = redoc_js_url
        self.redoc_favicon_url = redoc_favicon_url
        self.openapi_schema: dict[str, Any] | None = None
        self._openapi_built: tuple[dict[str, Any], int] | None = None
        # -- end OpenAPI --
        self.redirect_slashes = redirect_slashes
        self.max_request_headers = max_request_headers
        self.max_header_bytes = max_header_bytes
        self.debug = debug
        self.startup_timeout = startup_timeout
        self.state = State()
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.exception_handlers = ExceptionHandlers(exception_handlers)
        self.user_middleware: list[Middleware] = list(middleware or [])
        self.on_startup_hooks: list[Callable[[], Any]] = list(on_startup or [])
        self.on_shutdown_hooks: list[Callable[[], Any]] = list(on_shutdown or [])
        self.lifespan_context = lifespan
        self._override_plans: dict[Any, Plan] = {}
        self._table: RouteTable | None = None
        self._table_version = -1
        self._built = False
        self._middleware: ASGIApp | None = None
        self._lifespan_state: dict[str, Any] | None = None
        self._rsgi_lifespan: LoopLifespan | None = None
        # Set by ``fasterapi run`` on servers that do not apply proxy headers themselves.
        self._forwarded_headers: ForwardedHeaders | None = None

    # -- configuration -------------------------------------------------------------------

    @property
    def router(self) -> FasterRouter:
        return self

    def add_middleware(self, cls: Any, *args: Any, **kwargs: Any) -> None:
        """Wrap the app in ``cls``; the last one added is the outermost."""
        if self._built:
            raise RuntimeError("Cannot add middleware after the application has started")
        self.user_middleware.insert(0, Middleware(cls, *args, **kwargs))

    def middleware(self, kind: str) -> Callable[[F], F]:
        """``@app.middleware("http")`` for ``async def mw(request, call_next)`` functions."""
        if kind != "http":
            raise ValueError('Only "http" function middleware is supported')

        def decorator(func: F) -> F:
            from FasterAPI.middleware.base import FunctionMiddleware

            self.add_middleware(FunctionMiddleware, dispatch=func)
            return func

        return decorator

    def add_exception_handler(self, key: HandlerKey, handler: ExceptionHandler) -> None:
        self.exception_handlers.add(key, handler)

    def exception_handler(self, key: HandlerKey) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_exception_handler(key, func)
            return func

        return decorator

    def on_startup(self, func: F) -> F:
        self.on_startup_hooks.append(func)
        return func

    def on_shutdown(self, func: F) -> F:
        self.on_shutdown_hooks.append(func)
        return func

    def on_event(self, event: str) -> Callable[[F], F]:
        if event not in ("startup", "shutdown"):
            raise ValueError("on_event takes 'startup' or 'shutdown'")
        return self.on_startup if event == "startup" else self.on_shutdown

    def override_plan(
        self, call: Callable[..., Any], path_types: dict[str, Any] | None = None
    ) -> Plan:
        return override_plan(self._override_plans, call, path_types)

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._built:
            self._build_stack()
        if self._forwarded_headers is not None and scope.get(_INNER) is not self:
            self._forwarded_headers.apply(scope)
        middleware = self._middleware
        if middleware is not None and scope.get(_INNER) is not self:
            # With user middleware the stack runs first; its innermost app is this app
            # again, recognised by the marker.
            scope["app"] = self
            try:
                complete_scope(scope)
            except HTTPException as exc:
                # A header Granian cannot show: 400 before any middleware sees the request
                # without it (a session or auth cookie would otherwise just look absent).
                await self._handle_exception(exc, scope, receive, send, True)
                return
            scope[_INNER] = self
            # Middleware may wrap send: answers must go through it.
            scope.pop(RSGI_BRIDGE, None)
            if self._lifespan_state is not None:
                # Before the middleware, which may create scope["state"] itself.
                scope["state"] = {**self._lifespan_state, **scope.get("state", {})}
            await middleware(scope, receive, send)
            return
        scope["app"] = self
        if self.root_path and not scope.get("root_path"):
            scope["root_path"] = self.root_path
        if scope["type"] != "http":
            await self._serve_other(scope, receive, send)
            return
        # PERF: HTTP dispatch is inline here rather than one coroutine further down.
        if self._lifespan_state is not None and "state" not in scope:
            scope["state"] = dict(self._lifespan_state)
        table = self._table
        if table is None or self._table_version != self.routes_version:
            table = self._routes_table()
        path = scope["path"]
        if scope.get("root_path"):
            path = route_path(scope)
        try:
            if type(scope) is RSGIScope and scope.rsgi is not None:
                scope.check_framing(self.max_request_headers, self.max_header_bytes)
            else:
                headers = scope["headers"]
                # PERF: one pass over the header block, inline: size cap, ambiguous framing.
                size = 0
                for name, value in headers:
                    size += len(name) + len(value)
                    if name == b"transfer-encoding":
                        reject_ambiguous_framing(headers)
                if size > (self.max_header_bytes or size) or len(headers) > (
                    self.max_request_headers or len(headers)
                ):
                    raise headers_too_large(len(headers), size)
            methods = table.static.get(path)
            route = methods.get(scope["method"]) if methods is not None else None
            if route is not None and not table.mounts:
                # For middleware and handlers that label requests by route (metrics, traces).
                scope["route"] = route
                scope["endpoint"] = route.endpoint
                await route.handle(self, scope, receive, send, {})
                return
            mount = table.find_mount(path) if table.mounts else None
            path_params: dict[str, Any] = {}
            allowed: set[str] = set()
            if route is None:
                route, path_params, allowed = table.find_http(scope["method"], path)
            if mount is not None and table.mount_wins(mount, route):
                await mount.handle(scope, receive, send)
                return
            if route is None:
                await self._no_route(table, scope, receive, send, path, allowed)
                return
            # For exception handlers and middleware, which read the scope, not the route.
            scope["path_params"] = path_params
            scope["route"] = route
            scope["endpoint"] = route.endpoint
            await route.handle(self, scope, receive, send, path_params)
        except Exception as exc:
            await self._handle_exception(exc, scope, receive, send, middleware is None)

    # -- RSGI (Granian) ------------------------------------------------------------------

    def __rsgi__(self, scope: Any, protocol: Any) -> Coroutine[Any, Any, None]:
        """Granian's RSGI entry point: it awaits what this returns.

        PERF: a plain function handing back the ASGI call's coroutine, so an HTTP request
        runs one coroutine frame fewer than an ``async def`` wrapper would.
        """
        state = self._rsgi_lifespan.state if self._rsgi_lifespan is not None else None
        if scope.proto == "http":
            bridge = HTTPBridge(protocol, scope)
            # The bridge goes in the scope; removed again when middleware runs.
            return self(http_scope(scope, state, "http", bridge), bridge.receive, bridge.send)
        return self._serve_rsgi_websocket(scope, protocol, state)

    async def _serve_rsgi_websocket(
        self, scope: Any, protocol: Any, state: dict[str, Any] | None
    ) -> None:
        websocket = WebSocketBridge(protocol)
        asgi_scope = http_scope(scope, state, "websocket")
        try:
            asgi_scope.complete()
        except HTTPException as exc:  # a header Granian cannot show: refuse the handshake
            protocol.close(exc.status_code)
            return
        try:
            await self(asgi_scope, websocket.receive, websocket.send)
        finally:
            websocket.finish()

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._rsgi_lifespan = LoopLifespan(self, loop)
        self._rsgi_lifespan.startup()

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._rsgi_lifespan is not None:
            self._rsgi_lifespan.shutdown()

    def _build_stack(self) -> None:
        """Add the docs routes and wrap the app in user middleware (once, at the first call)."""
        self._built = True
        self._add_docs_routes()
        if not self.user_middleware:
            return
        app: ASGIApp = self
        for middleware in reversed(self.user_middleware):
            app = middleware.wrap(app)
        self._middleware = ServerErrorMiddleware(
            app, self._send_server_error, self._answer_middleware_http_exception
        )

    def _routes_table(self) -> RouteTable:
        table = self._table
        if table is None or self._table_version != self.routes_version:
            table = self._table = RouteTable(self.routes)
            self._table_version = self.routes_version
        return table

    async def _serve_other(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await self._serve_websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._serve_lifespan(scope, receive, send)

    async def _no_route(
        self,
        table: RouteTable,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: str,
        allowed: set[str],
    ) -> None:
        if allowed:
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if table.has_path(other):
                complete_scope(scope)
                url = URL(scope=scope)
                # The request's own encoding (``%3F`` stays ``%3F``), the slash toggled.
                target = url_path(scope)
                if other.endswith("/"):
                    target += "/"
                elif target.endswith("/"):
                    target = target[:-1]
                elif target[-3:].upper() == "%2F":  # the final "/" was sent as %2F
                    target = target[:-3]
                else:  # pragma: no cover - a path ending in "/" is encoded ending so
                    target = quote_path(scope.get("root_path", "") + other)
                location = str(url.replace(path=target))
                await RedirectResponse(location, status_code=307)(scope, receive, send)
                return
        raise HTTPException(404)

    async def _handle_exception(
        self, exc: Exception, scope: Scope, receive: Receive, send: Send, inline_errors: bool
    ) -> None:
        if isinstance(exc, ClientDisconnect):
            logger.info("Client disconnected during %s %s", scope.get("method"), scope.get("path"))
            if not scope.get(RESPONSE_STARTED):
                await self._answer_incomplete_body(scope, receive, send, inline_errors)
            return
        if scope.get(RESPONSE_STARTED):
            logger.error(
                "Exception after the response started in %s %s",
                scope.get("method"),
                scope.get("path"),
                exc_info=exc,
            )
            raise exc
        handler = self.exception_handlers.find(exc)
        if handler is None:
            if inline_errors:
                scope[RESPONSE_STARTED] = True
                await self._send_server_error(exc, scope, receive, send)
            raise exc
        try:
            response = await self.exception_handlers.call(handler, Request(scope, receive), exc)
        except Exception as handler_error:
            if inline_errors:
                scope[RESPONSE_STARTED] = True
                await self._send_server_error(handler_error, scope, receive, send)
            raise
        scope[RESPONSE_STARTED] = True
        await response(scope, receive, send)

    async def _answer_incomplete_body(
        self, scope: Scope, receive: Receive, send: Send, inline_errors: bool
    ) -> None:
        """400 for a body that ended early. Servers report a broken body (bad chunked
        framing, a half-closed connection) as a disconnect; when the client has really
        gone the answer is dropped, or sending it fails, which is expected."""
        try:
            await self._handle_exception(incomplete_body(), scope, receive, send, inline_errors)
        except Exception as exc:
            logger.debug("No answer for an incomplete body: %r", exc)

    async def _answer_middleware_http_exception(
        self, exc: HTTPException, scope: Scope, receive: Receive, send: Send
    ) -> None:
        await self._handle_exception(exc, scope, receive, send, True)

    async def _send_server_error(
        self, exc: BaseException, scope: Scope, receive: Receive, send: Send
    ) -> None:
        logger.error(
            "Unhandled exception in %s %s", scope.get("method"), scope.get("path"), exc_info=exc
        )
        handler = self.exception_handlers.server_error_handler()
        response: Response
        if handler is None or self.debug:
            response = server_error_response(exc, self.debug)
        else:
            try:
                response = await self.exception_handlers.call(handler, Request(scope, receive), exc)
            except Exception:
                logger.exception("The 500 exception handler failed")
                response = server_error_response(exc, False)
        await response(scope, receive, send)

    async def _serve_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        table = self._routes_table()
        path = route_path(scope)
        mount = table.find_mount(path) if table.mounts else None
        route, path_params = table.find_websocket(path)
        if mount is not None and table.mount_wins(mount, route):
            await mount.handle(scope, receive, send)
            return
        if route is None:
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        try:
            await route.handle(self, scope, receive, send, path_params)
        except Exception as exc:
            logger.error("Unhandled exception in websocket %s", path, exc_info=exc)
            raise

    # -- lifespan ------------------------------------------------------------------------

    async def _serve_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        timeout = self.startup_timeout
        try:
            deadline = math.inf if timeout is None else anyio.current_time() + timeout
            with anyio.CancelScope(deadline=deadline) as guard:
                async with self._lifespan(scope):
                    guard.deadline = math.inf
                    await send({"type": "lifespan.startup.complete"})
                    started = True
                    await receive()
            if guard.cancelled_caught and not started:
                raise TimeoutError(f"Application startup took longer than {timeout} s")
        except BaseException as exc:
            logger.error("Lifespan %s failed", "shutdown" if started else "startup", exc_info=exc)
            failure = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
            await send({"type": failure, "message": repr(exc)})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    @asynccontextmanager
    async def _lifespan(self, scope: Scope) -> AsyncIterator[None]:
        for hook in self.on_startup_hooks:
            await _call_hook(hook)
        if self.lifespan_context is None:
            try:
                yield
            finally:
                await self._run_shutdown_hooks()
            return
        try:
            async with self.lifespan_context(self) as state:
                if state:
                    if "state" in scope:
                        scope["state"].update(state)
                    else:
                        self._lifespan_state = dict(state)
                yield
        finally:
            await self._run_shutdown_hooks()

    async def _run_shutdown_hooks(self) -> None:
        failure: BaseException | None = None
        for hook in self.on_shutdown_hooks:
            try:
                await _call_hook(hook)
            except Exception as exc:
                logger.error("Shutdown hook %r failed", hook, exc_info=exc)
                failure = failure or exc
        if failure is not None:
            raise failure

    # -- OpenAPI (FasterAPI.openapi) ------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document: built on first use, rebuilt when the routes change.

        Override it like FastAPI's (``app.openapi = custom_openapi``); a document assigned
        to ``app.openapi_schema`` is served as it is.
        """
        schema = self.openapi_schema
        built = self._openapi_built
        if schema is None or (
            built is not None and built[0] is schema and built[1] != self.routes_version
        ):
            from FasterAPI.openapi.schema import get_openapi

            schema = self.openapi_schema = get_openapi(
                title=self.title,
                version=self.version,
                summary=self.summary,
                description=self.description,
                routes=self.routes,
                tags=self.openapi_tags,
                servers=self.servers,
                terms_of_service=self.terms_of_service,
                contact=self.contact,
                license_info=self.license_info,
            )
            self._openapi_built = (schema, self.routes_version)
        return schema

    def _add_docs_routes(self) -> None:
        """/openapi.json, /docs, /docs/oauth2-redirect, /redoc and their assets, first."""
        from FasterAPI.openapi.docs import docs_routes

        routes = docs_routes(self)
        if routes:
            self.routes[:0] = routes
            self._changed()

    # -- end OpenAPI ---------------------------------------------------------------------

    # -- lookups -------------------------------------------------------------------------

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        return super().url_path_for(name, **path_params)


async def _call_hook(hook: Callable[[], Any]) -> None:
    if inspect.iscoroutinefunction(hook):
        await hook()
    else:
        result = await run_in_threadpool(hook)
        if inspect.isawaitable(result):
            await result
