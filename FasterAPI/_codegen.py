"""Per-route request handlers generated as Python source at start-up.

PERF: a route's flattened plan (``FlatPlan``) is turned into one straight-line coroutine:
extract and convert each step's parameters, call its dependencies in order, call the
handler, send a fast JSON/text body inline. No loops over steps, no per-request context
object for routes without a body. A two-level dependency route runs about 2x faster than
the generic path (``benchmarks/inprocess``). The generic path (``APIRoute.handle``) stays
the reference implementation: routes using features the generator does not cover (yield
dependencies, injected Response/BackgroundTasks/SecurityScopes, forms) and requests made
while ``dependency_overrides`` is set go through it.

Set ``FASTERAPI_NO_CODEGEN=1`` to switch generation off (for debugging).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from FasterAPI._compile import combine_sources
from FasterAPI._fast import FastKind
from FasterAPI._rsgi import str_headers
from FasterAPI._rsgi_scope import RSGI_BRIDGE
from FasterAPI._serialize import encode_json
from FasterAPI.concurrency import run_in_threadpool
from FasterAPI.exceptions import RequestValidationError
from FasterAPI.request import Request
from FasterAPI.response import RESPONSE_STARTED, Response

if TYPE_CHECKING:
    from FasterAPI.routing import APIRoute


Handler = Callable[[Any, Any, Any, Any, dict[str, Any]], Awaitable[None]]

_SUPPORTED_SPECIALS = frozenset({"request", "connection"})


def _eligible(route: APIRoute) -> bool:
    if os.environ.get("FASTERAPI_NO_CODEGEN"):
        return False
    body = route.body_plan
    if body is not None and body.is_form:
        return False
    for step in route.flat.steps:
        plan = step.plan
        if plan.is_generator or plan.is_async_generator:
            return False
        if any(kind not in _SUPPORTED_SPECIALS for _, kind in plan.specials):
            return False
    return True


def generate_handler(route: APIRoute) -> Handler | None:
    """A generated ``handle(app, scope, receive, send, path_params)``, or None."""
    if not _eligible(route):
        return None
    namespace: dict[str, Any] = {
        "RequestValidationError": RequestValidationError,
        "Request": Request,
        "Response": Response,
        "run_in_threadpool": run_in_threadpool,
        "encode_json": encode_json,
        "ROUTE": route,
        "GENERIC": route.handle_generic,
        "SEND_RESULT": route.send_result,
        "CONTENT_TYPE": route.fast_content_type,
        "STATUS": route.status_code,
        "MAX": route.max_body_size,
        "BODY": route.body_plan,
        "STARTED": RESPONSE_STARTED,
        "RSGI": RSGI_BRIDGE,
        # Granian adds the content-length of a response_bytes body itself.
        "RSGI_HEADERS": str_headers([route.fast_content_type]),
    }
    lines = _body_lines(route, namespace)
    source = "async def handle(app, scope, receive, send, path_params):\n" + "\n".join(
        f"    {line}" for line in lines
    )
    code = compile(source, f"<FasterAPI route {route.name} {route.path}>", "exec")
    exec(code, namespace)
    handler: Handler = namespace["handle"]
    handler.__source__ = source  # type: ignore[attr-defined]
    return handler


def _body_lines(route: APIRoute, ns: dict[str, Any]) -> list[str]:
    steps = route.flat.steps
    uses_request = any(step.plan.specials for step in steps)
    # Only parameters and a body can be invalid: without them no error bookkeeping.
    checked = route.body_plan is not None or any(step.plan.sources for step in steps)
    lines = [
        "if app is not None and app.dependency_overrides:",
        "    return await GENERIC(app, scope, receive, send, path_params)",
    ]
    if checked:
        lines.append("errors = None")
    if route.body_plan is not None and not uses_request:
        lines.append("body_values, errors = await BODY.read_direct(scope, receive, MAX)")
    elif route.body_plan is not None:
        lines += [
            "ctx = ROUTE.new_context(app, scope, receive, send, path_params)",
            "await BODY.read(ctx)",
            "body_values = ctx.body_values",
            "if ctx.errors:",
            "    errors = ctx.errors",
        ]
        if uses_request:
            lines.append("request = ctx.request")
    elif uses_request:
        lines += [
            "scope['path_params'] = path_params",
            "request = Request(scope, receive, send, max_body_size=MAX)",
        ]
    last = len(steps) - 1
    for index, step in enumerate(steps):
        plan = step.plan
        ns[f"C{index}"] = plan.call
        arguments: list[str] = []
        for number, model in enumerate(combine_sources(plan.sources, route.name)):
            name, value = f"M{index}_{number}", f"v{index}_{number}"
            ns[name] = model
            lines += [
                f"{value}, e = {name}.{'load_header' if model.header_single else 'load'}"
                "(scope, path_params)",
                "if e:",
                "    errors = e if errors is None else errors + e",
            ]
            if model.single is not None:
                arguments.append(f"{model.single[0]}={value}")
            else:
                arguments += [f"{field.name}={value}.{field.name}" for field in model.fields]
        arguments += [f"{name}=r{source}" for name, source in step.deps]
        arguments += [f"{f.name}=body_values[{f.name!r}]" for f in plan.body_fields]
        arguments += [f"{name}=request" for name, _ in plan.specials]
        call = f"C{index}({', '.join(arguments)})"
        call = (
            f"await {call}"
            if plan.is_async
            else f"await run_in_threadpool(C{index}, " + (", ".join(arguments) + ")")
        )
        if index == last:
            if checked:
                lines += [
                    "if errors is not None:",
                    f"    raise RequestValidationError({_failure(route, uses_request)})",
                ]
            lines += _call_and_send(route, call, uses_request, ns)
        elif checked:
            lines += ["if errors is None:", f"    r{index} = {call}"]
        else:
            lines.append(f"r{index} = {call}")
    return lines


def _failure(route: APIRoute, uses_request: bool) -> str:
    """The arguments of the RequestValidationError raised when some input is invalid."""
    if route.body_plan is None:
        return "errors"
    if uses_request:
        return "errors, body=await BODY.received(ctx)"
    return "errors, body=BODY.received_from(body_values)"


def _encode_line(route: APIRoute, ns: dict[str, Any]) -> str | None:
    """The statement turning ``result`` into ``body`` (None: not sent), for fast routes."""
    kind = route.fast_kind
    if kind is FastKind.JSON:
        ns["ENCODE"] = encode_json
        if route.output.model is None:
            return "body = None if isinstance(result, Response) else ENCODE(result)"
        ns["VALIDATE"] = route.output.validate
        return "body = None if isinstance(result, Response) else ENCODE(VALIDATE(result))"
    if kind is FastKind.TEXT:
        ns["CHARSET"] = route.response_class.charset
        return "body = result.encode(CHARSET) if type(result) is str else None"
    return None


def _call_and_send(route: APIRoute, call: str, uses_request: bool, ns: dict[str, Any]) -> list[str]:
    encode = _encode_line(route, ns)
    if encode is None:
        send = [f"result = {call}", "await SEND_RESULT(result, scope, receive, send, None)"]
    else:
        send = [
            f"result = {call}",
            encode,
            "if body is None:",
            "    await SEND_RESULT(result, scope, receive, send, None)",
            "else:",
            "    scope[STARTED] = True",
            "    rsgi = scope.get(RSGI)",
            "    if rsgi is not None and scope['method'] != 'HEAD':",
            "        rsgi.protocol.response_bytes(STATUS, RSGI_HEADERS, body)",
            "    else:",
            "        await send({'type': 'http.response.start', 'status': STATUS, 'headers':"
            " [CONTENT_TYPE, (b'content-length', str(len(body)).encode())]})",
            "        await send({'type': 'http.response.body',"
            " 'body': b'' if scope['method'] == 'HEAD' else body})",
        ]
    if not uses_request:
        return send
    return ["try:", *(f"    {line}" for line in send), "finally:", "    await request.close()"]
