"""Per-request work: read the sources a plan needs, resolve dependencies, collect errors."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from FasterAPI._compile import Field, Plan, build_plan
from FasterAPI._types import Receive, Scope, Send
from FasterAPI.background import BackgroundTasks
from FasterAPI.concurrency import run_in_threadpool
from FasterAPI.request import Request, read_body, remember_body
from FasterAPI.response import Response
from FasterAPI.security.scopes import SecurityScopes

if TYPE_CHECKING:
    from FasterAPI.websocket import WebSocket


class SubResponse(Response):
    """The ``Response`` a handler may take as a parameter to set status, headers and cookies."""

    def __init__(self) -> None:
        self.status_code = 0
        self.raw_headers = []
        self.background = None
        self.body = b""


class RequestContext:
    """State of one request while its plan runs; sources are parsed lazily, once."""

    __slots__ = (
        "_request",
        "app",
        "background",
        "body",
        "body_values",
        "cache",
        "connection",
        "errors",
        "max_body_size",
        "path_params",
        "receive",
        "scope",
        "send",
        "stack",
        "sub_response",
    )

    def __init__(
        self,
        app: Any,
        scope: Scope,
        receive: Receive,
        send: Send,
        path_params: dict[str, Any],
        max_body_size: int | None,
    ) -> None:
        self.app = app
        self.scope = scope
        self.receive = receive
        self.send = send
        self.path_params = path_params
        self.max_body_size = max_body_size
        self.errors: list[dict[str, Any]] = []
        self.cache: dict[Any, Any] = {}
        self.body_values: dict[str, Any] = {}
        self.stack: AsyncExitStack | None = None
        self.background: BackgroundTasks | None = None
        self.sub_response: SubResponse | None = None
        self.connection: WebSocket | None = None
        self._request: Request | None = None
        self.body: bytes | None = None

    @property
    def has_request(self) -> bool:
        return self._request is not None

    @property
    def request(self) -> Request:
        if self._request is None:
            self.scope["path_params"] = self.path_params
            request = Request(self.scope, self.receive, self.send, max_body_size=self.max_body_size)
            if self.body is not None:
                request._body = self.body
                request._stream_consumed = True
            self._request = request
        return self._request

    async def read_body(self) -> bytes:
        """The request body, read once (through the Request if one exists)."""
        if self._request is not None:
            return await self._request.body()
        if self.body is None:
            self.body = await read_body(self.receive, self.scope["headers"], self.max_body_size)
            remember_body(self.scope, self.receive, self.body)
        return self.body

    def special(self, kind: str, scopes: list[str]) -> Any:
        if kind == "request":
            return self.request
        if kind == "background":
            if self.background is None:
                self.background = BackgroundTasks()
            return self.background
        if kind == "response":
            if self.sub_response is None:
                self.sub_response = SubResponse()
            return self.sub_response
        if kind == "security_scopes":
            return SecurityScopes(scopes)
        if kind == "websocket":
            return self.connection
        return self.connection if self.connection is not None else self.request


async def solve(plan: Plan, ctx: RequestContext, scopes: list[str]) -> dict[str, Any] | None:
    """Keyword arguments for ``plan.call``, or None when some input was invalid."""
    kwargs: dict[str, Any] = {}
    overrides = ctx.app.dependency_overrides if ctx.app is not None else None
    for spec, sub_plan in plan.dependencies:
        call = spec.call
        if overrides:
            replacement = overrides.get(call)
            if replacement is not None:
                call = replacement
                sub_plan = ctx.app.override_plan(replacement, plan.path_types)
        chain = scopes + spec.scopes if spec.scopes else scopes
        key = (call, tuple(chain))
        if spec.use_cache and key in ctx.cache:
            value = ctx.cache[key]
        else:
            sub_kwargs = await solve(sub_plan, ctx, chain)
            if sub_kwargs is None or ctx.errors:
                continue
            value = await call_plan(sub_plan, call, sub_kwargs, ctx)
            if spec.use_cache:
                ctx.cache[key] = value
        if spec.name is not None:
            kwargs[spec.name] = value
    for model in plan.sources:
        converted, errors = model.convert(model.extract(ctx.scope, ctx.path_params))
        if errors:
            ctx.errors.extend(errors)
        else:
            kwargs.update(converted)
    for field in plan.body_fields:
        if field.name in ctx.body_values:
            kwargs[field.name] = ctx.body_values[field.name]
    for name, kind in plan.specials:
        kwargs[name] = ctx.special(kind, scopes)
    return None if ctx.errors else kwargs


async def call_plan(plan: Plan, call: Any, kwargs: dict[str, Any], ctx: RequestContext) -> Any:
    if plan.is_async:
        return await call(**kwargs)
    if plan.is_async_generator:
        stack = _stack(ctx)
        return await stack.enter_async_context(_managed(call, asynccontextmanager)(**kwargs))
    if plan.is_generator:
        manager = _managed(call, contextmanager)(**kwargs)
        value = await run_in_threadpool(manager.__enter__)

        async def exit_in_thread(
            kind: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> bool:
            return bool(await run_in_threadpool(manager.__exit__, kind, exc, tb))

        _stack(ctx).push_async_exit(exit_in_thread)
        return value
    return await run_in_threadpool(call, **kwargs)


_MANAGERS: dict[tuple[Any, Any], Any] = {}
_MANAGERS_LIMIT = 1024  # cleared whole when full


def _managed(call: Any, wrap: Any) -> Any:
    """``wrap(call)``, made once per dependency: the decorator copies the function's
    metadata (``functools.wraps``), about 1 us a request when made each time."""
    key = (call, wrap)
    try:
        return _MANAGERS[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable callable
        return wrap(call)
    if len(_MANAGERS) >= _MANAGERS_LIMIT:
        _MANAGERS.clear()
    factory = _MANAGERS[key] = wrap(call)
    return factory


def _stack(ctx: RequestContext) -> AsyncExitStack:
    if ctx.stack is None:
        ctx.stack = AsyncExitStack()
    return ctx.stack


def override_plan(
    cache: dict[Any, Plan], call: Any, path_types: dict[str, Any] | None = None
) -> Plan:
    """The plan of a dependency override, for a route with these path parameters."""
    key = (call, tuple(sorted((path_types or {}).items(), key=lambda item: item[0])))
    plan = cache.get(key)
    if plan is None:
        plan = cache[key] = build_plan(call, path_types=path_types)
    return plan


def overridden_body_fields(plan: Plan, overrides: Mapping[Any, Any], app: Any) -> list[Field]:
    """The body fields of ``plan``'s tree with the dependency overrides in place."""
    found = list(plan.body_fields)
    for spec, sub_plan in plan.dependencies:
        replacement = overrides.get(spec.call)
        if replacement is not None:
            sub_plan = app.override_plan(replacement, plan.path_types)
        found.extend(overridden_body_fields(sub_plan, overrides, app))
    return found


class _Step:
    __slots__ = ("deps", "plan", "scopes")

    def __init__(self, plan: Plan, deps: list[tuple[str, int]], scopes: list[str]) -> None:
        self.plan = plan
        self.deps = deps
        self.scopes = scopes


class FlatPlan:
    """A plan and its dependency tree as one list of steps, in the order they run.

    PERF: resolved once at start-up, so a request walks a list instead of recursing,
    and shared dependencies (same callable and scopes, ``use_cache``) are one step.
    The last step is the handler itself. Dependency overrides use ``solve`` instead.
    """

    def __init__(self, plan: Plan) -> None:
        self.steps: list[_Step] = []
        self._add(plan, [], {})

    def _add(self, plan: Plan, scopes: list[str], seen: dict[Any, int]) -> int:
        deps: list[tuple[str, int]] = []
        for spec, sub_plan in plan.dependencies:
            chain = scopes + spec.scopes if spec.scopes else scopes
            key = (spec.call, tuple(chain))
            index = seen.get(key) if spec.use_cache else None
            if index is None:
                index = self._add(sub_plan, chain, seen)
                if spec.use_cache:
                    seen[key] = index
            if spec.name is not None:
                deps.append((spec.name, index))
        self.steps.append(_Step(plan, deps, scopes))
        return len(self.steps) - 1

    async def solve(self, ctx: RequestContext) -> dict[str, Any] | None:
        """Keyword arguments for the handler, or None when some input was invalid."""
        steps = self.steps
        last = len(steps) - 1
        results: list[Any] = [None] * len(steps)
        errors = ctx.errors
        for index, step in enumerate(steps):
            # PERF: the `if`s skip empty loops; async calls are awaited without call_plan.
            kwargs: dict[str, Any] = {}
            if step.deps:
                for name, source in step.deps:
                    kwargs[name] = results[source]
            plan = step.plan
            if plan.sources:
                for model in plan.sources:
                    converted, found = model.convert(model.extract(ctx.scope, ctx.path_params))
                    if found:
                        errors.extend(found)
                    else:
                        kwargs.update(converted)
            if plan.body_fields:
                body_values = ctx.body_values
                for field in plan.body_fields:
                    if field.name in body_values:
                        kwargs[field.name] = body_values[field.name]
            if plan.specials:
                for name, kind in plan.specials:
                    kwargs[name] = ctx.special(kind, step.scopes)
            if index == last:
                return None if errors else kwargs
            if not errors:
                if plan.is_async:
                    results[index] = await plan.call(**kwargs)
                else:
                    results[index] = await call_plan(plan, plan.call, kwargs, ctx)
        return None
