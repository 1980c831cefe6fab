"""Per-request work: read the sources a plan needs, resolve dependencies, collect errors."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

import msgspec

from FasterAPI._compile import Field, Plan, build_plan
from FasterAPI._errors import from_message, missing
from FasterAPI._types import Receive, Scope, Send
from FasterAPI.background import BackgroundTasks
from FasterAPI.concurrency import run_in_threadpool
from FasterAPI.exceptions import HTTPException, RequestValidationError
from FasterAPI.request import Request
from FasterAPI.response import Response
from FasterAPI.security.scopes import SecurityScopes

if TYPE_CHECKING:
    from FasterAPI.websocket import WebSocket

_BYTE_POSITION = re.compile(r"\(byte (\d+)\)")


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
        "_cookies",
        "_headers",
        "_query",
        "_request",
        "app",
        "background",
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

    @property
    def has_request(self) -> bool:
        return self._request is not None

    @property
    def request(self) -> Request:
        if self._request is None:
            self._request = Request(
                self.scope, self.receive, self.send, max_body_size=self.max_body_size
            )
        return self._request

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
                sub_plan = ctx.app.override_plan(replacement)
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
        return await stack.enter_async_context(asynccontextmanager(call)(**kwargs))
    if plan.is_generator:
        manager = contextmanager(call)(**kwargs)
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


def _stack(ctx: RequestContext) -> AsyncExitStack:
    if ctx.stack is None:
        ctx.stack = AsyncExitStack()
    return ctx.stack


def override_plan(cache: dict[Any, Plan], call: Any) -> Plan:
    plan = cache.get(call)
    if plan is None:
        plan = cache[call] = build_plan(call)
    return plan


_JSON_TYPES = ("application/json",)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or media.endswith("+json")


class BodyPlan:
    """How a route reads its body: one JSON value, several embedded by name, or form fields."""

    def __init__(self, fields: list[Field], owner: str) -> None:
        unique: dict[str, Field] = {}
        for field in fields:
            unique.setdefault(field.name, field)
        self.fields = list(unique.values())
        self.required = any(field.required for field in self.fields)
        from FasterAPI.params import Form

        self.is_form = any(isinstance(field.marker, Form) for field in self.fields)
        first = self.fields[0]
        self.whole = (
            not self.is_form and len(self.fields) == 1 and not getattr(first.marker, "embed", False)
        )
        if self.is_form:
            from FasterAPI._form_body import FormBody

            self.form_body = FormBody(self.fields, owner)
        elif self.whole:
            self.decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(first.typed())
        else:
            model = msgspec.defstruct(
                f"{owner}_body",
                [(f.name, f.typed(), f.msgspec_field()) for f in self.fields],
                kw_only=True,
            )
            self.decoder = msgspec.json.Decoder(model)

    async def read(self, ctx: RequestContext) -> None:
        if self.is_form:
            await self.form_body.read(ctx)
            return
        request = ctx.request
        content_type = request.headers.get("content-type", "")
        body = await request.body()
        if not body:
            if self.required:
                ctx.errors.append(missing(["body"]))
            elif self.whole:
                ctx.body_values[self.fields[0].name] = _default_of(self.fields[0])
            else:
                for field in self.fields:
                    ctx.body_values[field.name] = _default_of(field)
            return
        if content_type and not _is_json(content_type):
            raise HTTPException(415, f"Unsupported media type {content_type!r}; send JSON")
        try:
            value = self.decoder.decode(body)
        except msgspec.ValidationError as exc:
            ctx.errors.append(from_message(str(exc), ["body"], _loose_json(body)))
            return
        except msgspec.DecodeError as exc:
            ctx.errors.append(_json_error(str(exc)))
            return
        except (ValueError, RecursionError) as exc:
            ctx.errors.append(_json_error(f"Invalid JSON: {exc}"))
            return
        if self.whole:
            ctx.body_values[self.fields[0].name] = value
        else:
            ctx.body_values.update(msgspec.structs.asdict(value))


def _default_of(field: Field) -> Any:
    if field.marker.default_factory is not None:
        return field.marker.default_factory()
    return field.marker.default


def _loose_json(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None


def _json_error(message: str) -> dict[str, Any]:
    position = _BYTE_POSITION.search(message)
    loc: list[Any] = ["body", int(position.group(1))] if position else ["body"]
    return {"type": "json_invalid", "loc": loc, "msg": f"JSON decode error: {message}", "input": {}}


def raise_if_errors(ctx: RequestContext) -> None:
    if ctx.errors:
        raise RequestValidationError(ctx.errors)
