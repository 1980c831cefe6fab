"""Jinja2 templates (``pip install 'FasterAPI[templates]'``).

    templates = Jinja2Templates(directory="templates")

    @app.get("/items/{item_id}", response_class=HTMLResponse)
    def item(request: Request, item_id: int):
        return templates.TemplateResponse(request, "item.html", {"id": item_id})

Every template sees ``request`` and ``url_for(name, **path_params)`` (the absolute URL of a
named route, or of a file in a named mount: ``url_for('static', path='/app.css')``).
Autoescaping is on. ``context_processors`` add variables computed from the request.

``enable_async=True`` builds the environment with Jinja2's ``enable_async``: templates may
then call async functions, and the response renders with ``render_async`` when it is sent,
on the event loop, so ``response.body`` is empty until then. Otherwise the template renders
at once, in ``TemplateResponse``.

The older ``TemplateResponse(name, {"request": request, ...})`` call is accepted too, and
so is ``TemplateResponse(name=..., context={"request": request, ...})``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, overload

try:
    import jinja2
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("Templates need Jinja2: pip install 'FasterAPI[templates]'") from exc

from FasterAPI._types import Receive, Scope, Send
from FasterAPI.background import BackgroundTask
from FasterAPI.datastructures import URL
from FasterAPI.request import Request
from FasterAPI.response import HTMLResponse, status_allows_body

__all__ = ["Jinja2Templates", "TemplateResponse"]

StrPath = str | os.PathLike[str]
ContextProcessor = Callable[[Request], Mapping[str, Any]]


@jinja2.pass_context
def url_for(context: Any, name: str, /, **path_params: Any) -> URL:
    """The ``url_for`` templates call: the request's ``url_for``."""
    request: Request = context["request"]
    return request.url_for(name, **path_params)


class TemplateResponse(HTMLResponse):
    """An HTML response rendered from ``template`` with ``context`` (both kept for tests)."""

    def __init__(
        self,
        template: jinja2.Template,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        is_async = template.environment.is_async
        self._pending = is_async and status_allows_body(status_code)
        content = "" if is_async else template.render(context)
        super().__init__(content, status_code, headers, media_type, background)

    async def render_now(self) -> None:
        """Render an async template (once); sending the response calls this."""
        if not self._pending:
            return
        self._pending = False
        self.body = (await self.template.render_async(self.context)).encode(self.charset)
        length = str(len(self.body)).encode()
        self.raw_headers = [
            (name, length if name == b"content-length" else value)
            for name, value in self.raw_headers
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.render_now()
        await super().__call__(scope, receive, send)


class Jinja2Templates:
    """Templates from ``directory`` (one or several) or a ready ``env``; see the module docs."""

    def __init__(
        self,
        directory: StrPath | Sequence[StrPath] | None = None,
        *,
        env: jinja2.Environment | None = None,
        context_processors: Sequence[ContextProcessor] | None = None,
        enable_async: bool = False,
        **env_options: Any,
    ) -> None:
        if (directory is None) == (env is None):
            raise ValueError("Give exactly one of directory or env")
        if env is None:
            env_options.setdefault("autoescape", True)
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(directory),  # type: ignore[arg-type]
                enable_async=enable_async,
                **env_options,
            )
        elif env_options or enable_async:
            raise ValueError("Configure a given env yourself (enable_async, autoescape, ...)")
        env.globals.setdefault("url_for", url_for)
        self.env = env
        self.context_processors = list(context_processors or [])

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    @overload
    def TemplateResponse(  # FastAPI's (Starlette's) name
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> TemplateResponse: ...

    @overload
    def TemplateResponse(
        self,
        request: str,
        name: Mapping[str, Any],
        context: None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> TemplateResponse: ...

    @overload
    def TemplateResponse(  # keywords only, the request in the context
        self,
        *,
        name: str,
        context: Mapping[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> TemplateResponse: ...

    def TemplateResponse(
        self,
        request: Request | str | None = None,
        name: str | Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> TemplateResponse:
        """Render template ``name`` with ``context`` plus ``request`` and the processors'."""
        if request is None:  # TemplateResponse(name=..., context={"request": request, ...})
            request = (context or {}).get("request")
            if not isinstance(request, Request):
                raise ValueError("TemplateResponse needs the request, or context['request']")
        if isinstance(request, str):  # the older (name, context) form
            if not isinstance(name, Mapping) or not isinstance(name.get("request"), Request):
                raise ValueError('TemplateResponse(name, context) needs context["request"]')
            return self.TemplateResponse(
                name["request"], request, name, status_code, headers, media_type, background
            )
        if not isinstance(name, str):
            raise TypeError("TemplateResponse(request, name, context): name must be a str")
        values: dict[str, Any] = {}
        for processor in self.context_processors:
            values.update(processor(request))
        values.update(context or {})
        values.setdefault("request", request)
        return TemplateResponse(
            self.get_template(name), values, status_code, headers, media_type, background
        )
