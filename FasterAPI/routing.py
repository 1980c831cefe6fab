"""Routes, mounts and ``FasterRouter``: how handlers are declared, grouped and compiled."""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from FasterAPI import params
from FasterAPI._body import BodyPlan
from FasterAPI._codegen import generate_handler
from FasterAPI._compile import DependencySpec, Plan, build_plan, dependency_plans
from FasterAPI._fast import FastKind, fast_answer_kind
from FasterAPI._file import FileResponse
from FasterAPI._param_models import settle_extra_keys
from FasterAPI._rsgi_scope import RSGI_BRIDGE, complete_scope
from FasterAPI._serialize import (
    DEFAULT,
    ModelOptions,
    OutputPlan,
    encode_json,
    resolve_response_model,
)
from FasterAPI._solve import (
    FlatPlan,
    RequestContext,
    call_plan,
    overridden_body_fields,
    solve,
)
from FasterAPI._stream import StreamingResponse
from FasterAPI._tree import PathTemplate, parse_path
from FasterAPI._types import ASGIApp, Message, Receive, Scope, Send
from FasterAPI.background import BackgroundTasks
from FasterAPI.concurrency import run_in_threadpool
from FasterAPI.datastructures import quote_path
from FasterAPI.exceptions import (
    RequestValidationError,
    WebSocketDisconnect,
    WebSocketException,
)
from FasterAPI.request import DEFAULT_MAX_BODY_SIZE
from FasterAPI.response import (
    CLEANUP_AFTER_RESPONSE,
    RESPONSE_STARTED,
    JSONResponse,
    Response,
    status_allows_body,
)
from FasterAPI.websocket import WebSocket, WebSocketState

logger = logging.getLogger("FasterAPI")

F = TypeVar("F", bound=Callable[..., Any])

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


def _path_types(template: PathTemplate) -> dict[str, Any]:
    return {name: converter.python_type for name, converter in template.params.items()}


def _with_dependencies(plan: Plan, extra: list[tuple[DependencySpec, Plan]]) -> Plan:
    if not extra:
        return plan
    combined = Plan(**{**plan.__dict__, "dependencies": [*extra, *plan.dependencies]})
    return combined


_STARTS_FIRST = frozenset({Response.__call__, StreamingResponse.__call__})
# PERF: these set RESPONSE_STARTED themselves and read the lazy keys of an RSGI scope only
# as scope[key]: no send wrapper, no conversion up front.
_MARKS_ITS_START = frozenset({FileResponse.__call__})


async def send_response(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    """Send ``response``, marking the scope once ``http.response.start`` has gone out."""
    call = type(response).__call__
    if call in _STARTS_FIRST:
        # PERF: these send http.response.start before anything that can fail; no send
        # wrapper (an extra coroutine per message) is needed to know it went out.
        scope[RESPONSE_STARTED] = True
        await response(scope, receive, send)
        return
    if call in _MARKS_ITS_START:
        await response(scope, receive, send)
        return

    complete_scope(scope)  # a response class of the app's own may read any key

    async def tracking_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            scope[RESPONSE_STARTED] = True
        await send(message)

    await response(scope, receive, tracking_send)


def _default_status(response_class: type[Response]) -> int:
    """The status a response class answers with by default (307 for a redirect)."""
    try:
        parameter = inspect.signature(response_class).parameters.get("status_code")
    except (TypeError, ValueError):
        return 200
    if parameter is None or not isinstance(parameter.default, int):
        return 200
    return parameter.default


def _streams(result: Any) -> bool:
    """Does the response produce its body while sending (stream, file), not beforehand?"""
    return isinstance(result, Response) and type(result).__call__ is not Response.__call__


class APIRoute:
    """An HTTP route: path template, methods, the compiled plan and output settings."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        response_model: Any = DEFAULT,
        status_code: int | None = None,
        tags: Sequence[str] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        include_in_schema: bool = True,
        response_class: type[Response] = JSONResponse,
        name: str | None = None,
        openapi_extra: dict[str, Any] | None = None,
        response_model_include: set[str] | None = None,
        response_model_exclude: set[str] | None = None,
        response_model_exclude_none: bool = False,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_by_alias: bool = True,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        generate_unique_id_function: Callable[[APIRoute], str] | None = None,
    ) -> None:
        if not callable(endpoint):
            raise TypeError(f"Route endpoint must be callable, got {endpoint!r}")
        self.path = path
        self.template = parse_path(path)
        self.endpoint = endpoint
        self.methods = frozenset(m.upper() for m in (methods or ["GET"]))
        unknown = self.methods - set(HTTP_METHODS)
        if unknown:
            raise ValueError(f"Unknown HTTP methods {sorted(unknown)} for {path!r}")
        self.name: str = name or str(getattr(endpoint, "__name__", type(endpoint).__name__))
        self.tags = list(tags or [])
        self.dependencies = list(dependencies or [])
        self.summary = summary
        self.description = description
        self.response_description = response_description
        self.responses = dict(responses or {})
        self.deprecated = deprecated
        self.operation_id = operation_id
        self.include_in_schema = include_in_schema
        self.response_class = response_class
        # Chosen for this route (not a router's default): an including router keeps it.
        self.explicit_response_class = response_class is not JSONResponse
        self.openapi_extra = openapi_extra
        self.max_body_size = max_body_size
        # OpenAPI operationId (and Body_ component name) when no operation_id is given.
        self.generate_unique_id_function = generate_unique_id_function
        self.response_model = resolve_response_model(response_model, endpoint)
        # int(): an enum member (``HTTPStatus.CREATED``) may print as its name, not 201.
        self.status_code = (
            int(status_code) if status_code is not None else _default_status(response_class)
        )
        self._declared_response_model = response_model
        self._declared_status = status_code
        self._model_options = ModelOptions(
            response_model_include,
            response_model_exclude,
            response_model_exclude_none,
            response_model_exclude_unset,
            response_model_exclude_defaults,
            response_model_by_alias,
        )
        self.output = OutputPlan(
            self.response_model, response_class, self.status_code, self._model_options
        )
        path_types = _path_types(self.template)
        plan = build_plan(endpoint, path_types=path_types, owner=self.name)
        self.plan = _with_dependencies(plan, dependency_plans(self.dependencies, path_types))
        settle_extra_keys(self.plan)
        body_fields = self.plan.all_fields("body")
        self.body_plan = BodyPlan(body_fields, self.name) if body_fields else None
        self._own_body_key = tuple(id(field) for field in body_fields)
        self._override_body_plans: dict[tuple[int, ...], tuple[list[Any], BodyPlan]] = {}
        self.flat = FlatPlan(self.plan)
        if self.body_plan is not None and not self.body_plan.is_form:
            self.body_plan.keep_bytes(any(step.plan.sources for step in self.flat.steps))
        self.fast_kind, self.fast_content_type = fast_answer_kind(self.output, self.status_code)
        generated = generate_handler(self)
        if generated is not None:
            self.handle = generated  # type: ignore[method-assign,assignment]

    def copy_with(
        self,
        *,
        prefix: str = "",
        tags: Sequence[str] = (),
        dependencies: Sequence[params.Depends] = (),
        responses: dict[int | str, dict[str, Any]] | None = None,
        default_response_class: type[Response] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[APIRoute], str] | None = None,
    ) -> APIRoute:
        """This route as ``include_router`` adds it: prefixed, with extra tags/dependencies;
        ``deprecated`` and a hidden ``include_in_schema`` apply on top of the route's own."""
        response_class = self.response_class
        if (
            default_response_class is not None
            and response_class is JSONResponse
            and not self.explicit_response_class
        ):
            response_class = default_response_class
        copy = APIRoute(
            prefix + self.path,
            self.endpoint,
            methods=sorted(self.methods),
            response_model=self._declared_response_model,
            status_code=self._declared_status,
            tags=[*tags, *self.tags],
            dependencies=[*dependencies, *self.dependencies],
            summary=self.summary,
            description=self.description,
            response_description=self.response_description,
            responses={**(responses or {}), **self.responses},
            deprecated=self.deprecated or deprecated,
            operation_id=self.operation_id,
            include_in_schema=self.include_in_schema and include_in_schema,
            response_class=response_class,
            name=self.name,
            openapi_extra=self.openapi_extra,
            **self._model_options.route_keywords(),
            max_body_size=self.max_body_size,
            generate_unique_id_function=(
                self.generate_unique_id_function or generate_unique_id_function
            ),
        )
        copy.explicit_response_class = self.explicit_response_class
        return copy

    def new_context(
        self, app: Any, scope: Scope, receive: Receive, send: Send, path_params: dict[str, Any]
    ) -> RequestContext:
        return RequestContext(app, scope, receive, send, path_params, self.max_body_size)

    async def handle(
        self, app: Any, scope: Scope, receive: Receive, send: Send, path_params: dict[str, Any]
    ) -> None:
        """Serve one request (replaced per instance by a generated handler when possible)."""
        await self.handle_generic(app, scope, receive, send, path_params)

    async def handle_generic(
        self, app: Any, scope: Scope, receive: Receive, send: Send, path_params: dict[str, Any]
    ) -> None:
        """The reference request path: every feature, driven by the flattened plan."""
        ctx = RequestContext(app, scope, receive, send, path_params, self.max_body_size)
        overrides = app.dependency_overrides if app is not None else None
        body_plan = self.body_plan if not overrides else self._body_plan_with(overrides, app)
        try:
            if body_plan is not None:
                await body_plan.read(ctx)
            if overrides:
                kwargs = await solve(self.plan, ctx, [])
            else:
                kwargs = await self.flat.solve(ctx)
            if kwargs is None:
                body = None if body_plan is None else await body_plan.received(ctx)
                raise RequestValidationError(ctx.errors, body=body)
            plan = self.plan
            if plan.is_async:
                result = await plan.call(**kwargs)
            else:
                result = await run_in_threadpool(plan.call, **kwargs)
            stack = ctx.stack
            if stack is not None and not _streams(result):
                # A fixed body is complete now: close yield-dependencies before sending it,
                # so a failing commit becomes a 500 instead of a 2xx the data did not reach.
                ctx.stack = None
                await stack.aclose()
                stack = None
            if stack is None:
                await self.send_result(result, scope, receive, send, ctx)
            else:
                ctx.stack = None
                scope[CLEANUP_AFTER_RESPONSE] = True
                try:
                    await self.send_result(result, scope, receive, send, ctx)
                except BaseException as exc:
                    await stack.__aexit__(type(exc), exc, exc.__traceback__)
                    raise
                await stack.aclose()
        except BaseException as exc:
            # The handler (or its inputs) failed: yield-dependencies see the exception.
            stack = ctx.stack
            if stack is not None:
                ctx.stack = None
                await stack.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        finally:
            if ctx.has_request:
                await ctx.request.close()

    def _body_plan_with(self, overrides: dict[Any, Any], app: Any) -> BodyPlan | None:
        """The body plan when dependency overrides may read other body fields than the
        route's own dependencies."""
        fields = overridden_body_fields(self.plan, overrides, app)
        key = tuple(id(field) for field in fields)
        if self.body_plan is not None and key == self._own_body_key:
            return self.body_plan
        if not fields:
            return None
        found = self._override_body_plans.get(key)
        if found is None:
            if len(self._override_body_plans) >= 64:
                self._override_body_plans.clear()
            # The fields are kept with the plan, so their ids in the key stay theirs.
            found = self._override_body_plans[key] = (fields, BodyPlan(fields, self.name))
        return found[1]

    async def send_result(
        self,
        result: Any,
        scope: Scope,
        receive: Receive,
        send: Send,
        ctx: RequestContext | None,
    ) -> None:
        """Send what the handler returned, merging an injected Response and BackgroundTasks."""
        status = self.status_code
        extra_headers = None
        background = None
        if ctx is not None:
            sub = ctx.sub_response
            if sub is not None:
                status = sub.status_code or status
                extra_headers = sub.raw_headers
            background = ctx.background
        if isinstance(result, Response):
            if background is not None:
                result.background = (
                    background
                    if result.background is None
                    else BackgroundTasks([result.background, background])
                )
            await send_response(result, scope, receive, send)
            return
        body = self.fast_body(result, status)
        if body is None:
            response = self.output.render(result, status)
            if extra_headers:
                response.raw_headers.extend(extra_headers)
            response.background = background
            await send_response(response, scope, receive, send)
            return
        headers = [self.fast_content_type, (b"content-length", str(len(body)).encode())]
        if extra_headers:
            headers.extend(extra_headers)
        scope[RESPONSE_STARTED] = True
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
        if background is not None:
            await background()

    def fast_body(self, result: Any, status: int) -> bytes | None:
        """The encoded body when the route's fast path applies (JSON, or text from a str)."""
        kind = self.fast_kind
        if kind is FastKind.NONE or (status != self.status_code and not status_allows_body(status)):
            return None
        if kind is FastKind.JSON:
            output = self.output
            return encode_json(result if output.model is None else output.validate(result))
        if type(result) is str:
            return result.encode(self.response_class.charset)
        return None

    def __repr__(self) -> str:
        return f"APIRoute(path={self.path!r}, methods={sorted(self.methods)}, name={self.name!r})"


class WebSocketRoute:
    """A websocket route; parameters and dependencies are injected like for HTTP routes."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[params.Depends] | None = None,
    ) -> None:
        self.path = path
        self.template = parse_path(path)
        self.endpoint = endpoint
        self.name = name or getattr(endpoint, "__name__", type(endpoint).__name__)
        self.dependencies = list(dependencies or [])
        path_types = _path_types(self.template)
        plan = build_plan(endpoint, path_types=path_types, owner=self.name)
        self.plan = _with_dependencies(plan, dependency_plans(self.dependencies, path_types))
        settle_extra_keys(self.plan)

    def copy_with(
        self, *, prefix: str = "", dependencies: Sequence[params.Depends] = (), **_: Any
    ) -> WebSocketRoute:
        return WebSocketRoute(
            prefix + self.path,
            self.endpoint,
            name=self.name,
            dependencies=[*dependencies, *self.dependencies],
        )

    async def handle(
        self, app: Any, scope: Scope, receive: Receive, send: Send, path_params: dict[str, Any]
    ) -> None:
        ctx = RequestContext(app, scope, receive, send, path_params, None)
        scope["path_params"] = path_params
        websocket = WebSocket(scope, receive, send)
        ctx.connection = websocket
        try:
            kwargs = await solve(self.plan, ctx, [])
            if kwargs is None:
                await websocket.close(1008, "Invalid parameters")
                return
            await call_plan(self.plan, self.endpoint, kwargs, ctx)
        except WebSocketException as exc:
            # Raised on purpose, or a client's bad message (WebSocketInvalidMessage):
            # closed with its code, not a server error.
            logger.debug("Closing websocket %s with %d: %s", scope["path"], exc.code, exc.reason)
            await self._close_unless_gone(websocket, exc.code, exc.reason)
        except WebSocketDisconnect as exc:
            # The client left and the handler let it through: the connection is over.
            logger.debug("Websocket %s disconnected with %d", scope["path"], exc.code)
            if ctx.stack is not None:
                await ctx.stack.__aexit__(type(exc), exc, exc.__traceback__)
                ctx.stack = None
        except Exception as exc:
            if ctx.stack is not None:
                await ctx.stack.__aexit__(type(exc), exc, exc.__traceback__)
                ctx.stack = None
            await self._close_unless_gone(websocket, 1011)
            raise
        finally:
            if ctx.stack is not None:
                await ctx.stack.aclose()

    @staticmethod
    async def _close_unless_gone(websocket: WebSocket, code: int, reason: str = "") -> None:
        """Close ``websocket`` unless it is closed already or the client has left meanwhile."""
        if websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(WebSocketDisconnect):
                await websocket.close(code, reason)


class Mount:
    """Another ASGI app served under ``path`` (``root_path`` grows by the prefix)."""

    def __init__(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        path = path.rstrip("/")
        if path and not path.startswith("/"):
            raise ValueError(f"Mount paths must start with '/': {path!r}")
        self.path = path
        self.app = app
        self.name = name
        # The RSGI bridge lets an answer skip ``send``: only apps known to send through
        # the ``send`` they get (a Faster app removes it itself before its middleware)
        # may keep it; anything else may be middleware wrapping ``send``.
        self._keeps_rsgi_bridge = bool(getattr(app, "_passes_send_through", False))

    def matches(self, path: str) -> bool:
        prefix = self.path
        return path == prefix or path.startswith(prefix + "/") or not prefix

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        complete_scope(scope)
        child = dict(scope)
        if not self._keeps_rsgi_bridge:
            child.pop(RSGI_BRIDGE, None)
        child["root_path"] = scope.get("root_path", "") + self.path
        if not _path_carries_root(scope):
            # Our own view of the path lacks root_path: give the child the spec form.
            child["path"] = scope.get("root_path", "") + scope["path"]
        await self.app(child, receive, send)


def _path_carries_root(scope: Scope) -> bool:
    root = scope.get("root_path", "")
    return not root or scope["path"].startswith(root)


Route = APIRoute | WebSocketRoute | Mount


class FasterRouter:
    """A group of routes with a shared prefix, tags and dependencies; include it in an app.

    ``deprecated=True`` marks all its routes deprecated, ``include_in_schema=False`` hides
    them from the OpenAPI document (a route's own setting cannot undo either).
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        default_response_class: type[Response] = JSONResponse,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        generate_unique_id_function: Callable[[APIRoute], str] | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError("A router prefix must start with '/' and not end with '/'")
        self.prefix = prefix
        self.tags = list(tags or [])
        self.dependencies = list(dependencies or [])
        self.responses = dict(responses or {})
        self.default_response_class = default_response_class
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.max_body_size = max_body_size
        self.generate_unique_id_function = generate_unique_id_function
        self.routes: list[Route] = []
        self.routes_version = 0

    def _changed(self) -> None:
        self.routes_version += 1

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        response_model: Any = DEFAULT,
        status_code: int | None = None,
        tags: Sequence[str] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        include_in_schema: bool = True,
        response_class: type[Response] | None = None,
        name: str | None = None,
        openapi_extra: dict[str, Any] | None = None,
        response_model_include: set[str] | None = None,
        response_model_exclude: set[str] | None = None,
        response_model_exclude_none: bool = False,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_by_alias: bool = True,
        max_body_size: Any = DEFAULT,
        generate_unique_id_function: Callable[[APIRoute], str] | None = None,
    ) -> APIRoute:
        route = APIRoute(
            self.prefix + path,
            endpoint,
            methods=methods,
            response_model=response_model,
            status_code=status_code,
            tags=[*self.tags, *(tags or [])],
            dependencies=[*self.dependencies, *(dependencies or [])],
            summary=summary,
            description=description,
            response_description=response_description,
            responses={**self.responses, **(responses or {})},
            deprecated=deprecated or self.deprecated,
            operation_id=operation_id,
            include_in_schema=include_in_schema and self.include_in_schema,
            response_class=response_class or self.default_response_class,
            name=name,
            openapi_extra=openapi_extra,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_exclude_none=response_model_exclude_none,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_by_alias=response_model_by_alias,
            max_body_size=self.max_body_size if max_body_size is DEFAULT else max_body_size,
            generate_unique_id_function=(
                generate_unique_id_function or self.generate_unique_id_function
            ),
        )
        route.explicit_response_class = response_class is not None
        self.routes.append(route)
        self._changed()
        return route

    def api_route(
        self, path: str, *, methods: Sequence[str] | None = None, **options: Any
    ) -> Callable[[F], F]:
        """Register the decorated function; ``options`` are ``add_api_route``'s keywords."""

        def decorator(func: F) -> F:
            self.add_api_route(path, func, methods=methods, **options)
            return func

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["GET"], **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["POST"], **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["PUT"], **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["PATCH"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["DELETE"], **options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["HEAD"], **options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["OPTIONS"], **options)

    def trace(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["TRACE"], **options)

    def add_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[params.Depends] | None = None,
    ) -> WebSocketRoute:
        route = WebSocketRoute(
            self.prefix + path,
            endpoint,
            name=name,
            dependencies=[*self.dependencies, *(dependencies or [])],
        )
        self.routes.append(route)
        self._changed()
        return route

    def websocket(
        self,
        path: str,
        *,
        name: str | None = None,
        dependencies: Sequence[params.Depends] | None = None,
    ) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_api_websocket_route(path, func, name=name, dependencies=dependencies)
            return func

        return decorator

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        self.routes.append(Mount(self.prefix + path, app, name=name))
        self._changed()

    def include_router(
        self,
        router: FasterRouter,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        default_response_class: type[Response] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[APIRoute], str] | None = None,
    ) -> None:
        """Add copies of ``router``'s routes under ``prefix`` with extra tags/dependencies."""
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError("An include prefix must start with '/' and not end with '/'")
        if router is self:
            raise ValueError("A router cannot include itself")
        full_prefix = self.prefix + prefix
        extra_dependencies = [*self.dependencies, *(dependencies or [])]
        response_class = default_response_class or (
            router.default_response_class
            if router.default_response_class is not JSONResponse
            else self.default_response_class
        )
        for route in router.routes:
            if isinstance(route, Mount):
                self.routes.append(Mount(full_prefix + route.path, route.app, route.name))
            elif isinstance(route, WebSocketRoute):
                self.routes.append(
                    route.copy_with(prefix=full_prefix, dependencies=extra_dependencies)
                )
            else:
                self.routes.append(
                    route.copy_with(
                        prefix=full_prefix,
                        tags=[*self.tags, *(tags or [])],
                        dependencies=extra_dependencies,
                        responses={**self.responses, **(responses or {})},
                        default_response_class=(
                            response_class if response_class is not JSONResponse else None
                        ),
                        deprecated=deprecated or self.deprecated,
                        include_in_schema=include_in_schema and self.include_in_schema,
                        generate_unique_id_function=(
                            generate_unique_id_function or self.generate_unique_id_function
                        ),
                    )
                )
        self._changed()

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        for route in self.routes:
            if isinstance(route, Mount):
                if route.name == name and set(path_params) == {"path"}:
                    return f"{route.path}/{quote_path(str(path_params['path']).lstrip('/'))}"
                finder = getattr(route.app, "url_path_for", None)
                mount_prefix = f"{route.name}:" if route.name else ""
                if finder is not None and (not mount_prefix or name.startswith(mount_prefix)):
                    try:
                        return route.path + str(finder(name[len(mount_prefix) :], **path_params))
                    except LookupError:
                        continue
            elif route.name == name and set(route.template.params) == set(path_params):
                return route.template.format(path_params)
        raise LookupError(f"No route named {name!r} with parameters {sorted(path_params)}")
