"""Swagger UI and ReDoc pages whose JavaScript and CSS the app serves itself (offline).

The assets come from the ``drf-spectacular-sidecar`` package (the ``docs`` extra), which
ships the Swagger UI ``dist`` files and ReDoc's standalone bundle and is released as
those projects release. Only its files are read: the package is located, never imported
(its ``__init__`` imports Django). The app serves them under ``<docs_url>/static/``; when
the package is missing the pages fall back to the CDN URLs below. ``swagger_js_url``,
``swagger_css_url``, ``swagger_favicon_url``, ``redoc_js_url`` and ``redoc_favicon_url``
on ``Faster`` override either.

The page functions have FastAPI's signatures, for custom docs routes::

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="Shop API")
"""

from __future__ import annotations

import functools
import html
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from FasterAPI.exceptions import HTTPException
from FasterAPI.request import Request
from FasterAPI.response import HTMLResponse, JSONResponse, Response
from FasterAPI.routing import APIRoute

if TYPE_CHECKING:
    from FasterAPI.app import Faster

__all__ = [
    "ASSETS_PACKAGE",
    "REDOC_JS_CDN",
    "SWAGGER_CSS_CDN",
    "SWAGGER_FAVICON_CDN",
    "SWAGGER_JS_CDN",
    "SWAGGER_UI_DEFAULT_PARAMETERS",
    "asset_path",
    "docs_routes",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
]

ASSETS_PACKAGE = "drf_spectacular_sidecar"
SWAGGER_JS_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
SWAGGER_FAVICON_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/favicon-32x32.png"
SWAGGER_REDIRECT_JS_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/oauth2-redirect.js"
REDOC_JS_CDN = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"

SWAGGER_UI_DEFAULT_PARAMETERS: dict[str, Any] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
}

# Served name -> (path inside the package's static folder, media type).
_ASSETS: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger-ui-dist/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui-bundle.js.map": ("swagger-ui-dist/swagger-ui-bundle.js.map", "application/json"),
    "swagger-ui.css": ("swagger-ui-dist/swagger-ui.css", "text/css"),
    "swagger-ui.css.map": ("swagger-ui-dist/swagger-ui.css.map", "application/json"),
    "favicon-32x32.png": ("swagger-ui-dist/favicon-32x32.png", "image/png"),
    "oauth2-redirect.js": ("swagger-ui-dist/oauth2-redirect.js", "text/javascript"),
    "redoc.standalone.js": ("redoc/bundles/redoc.standalone.js", "text/javascript"),
    "redoc.standalone.js.map": ("redoc/bundles/redoc.standalone.js.map", "application/json"),
}


@functools.lru_cache(maxsize=1)
def _assets_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec(ASSETS_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "static" / ASSETS_PACKAGE
        if (folder / _ASSETS["swagger-ui-bundle.js"][0]).is_file():
            return folder
    return None


def asset_path(name: str) -> Path | None:
    """The installed file behind a served asset name (None: unknown name or no package)."""
    folder = _assets_dir()
    entry = _ASSETS.get(name)
    if folder is None or entry is None:
        return None
    path = folder / entry[0]
    return path if path.is_file() else None


def _script_json(value: Any) -> str:
    """JSON that is safe inside an inline ``<script>`` (no ``</script>`` can appear)."""
    text = msgspec.json.encode(value).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str = SWAGGER_JS_CDN,
    swagger_css_url: str = SWAGGER_CSS_CDN,
    swagger_favicon_url: str = SWAGGER_FAVICON_CDN,
    oauth2_redirect_url: str | None = None,
    init_oauth: dict[str, Any] | None = None,
    swagger_ui_parameters: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The Swagger UI page for the document at ``openapi_url``."""
    config = {"url": openapi_url, **SWAGGER_UI_DEFAULT_PARAMETERS, **(swagger_ui_parameters or {})}
    lines = [f"const config = {_script_json(config)};"]
    if oauth2_redirect_url:
        # The authorisation server needs an absolute redirect URI.
        lines.append(
            "config.oauth2RedirectUrl = new URL("
            f"{_script_json(oauth2_redirect_url)}, window.location.href).href;"
        )
    lines.append(
        "config.presets = "
        "[SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];"
    )
    lines.append("window.ui = SwaggerUIBundle(config);")
    if init_oauth:
        lines.append(f"window.ui.initOAuth({_script_json(init_oauth)});")
    script = "\n".join(lines)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" type="image/png" href="{_attr(swagger_favicon_url)}">
<link rel="stylesheet" type="text/css" href="{_attr(swagger_css_url)}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{_attr(swagger_js_url)}"></script>
<script>
{script}
</script>
</body>
</html>
"""
    return HTMLResponse(page)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str = REDOC_JS_CDN,
    redoc_favicon_url: str = SWAGGER_FAVICON_CDN,
    with_google_fonts: bool = False,
) -> HTMLResponse:
    """The ReDoc page for ``openapi_url`` (Google Fonts only on request: they need the web)."""
    fonts = (
        '<link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|'
        'Roboto:300,400,700" rel="stylesheet">\n'
        if with_google_fonts
        else ""
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" type="image/png" href="{_attr(redoc_favicon_url)}">
{fonts}<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>ReDoc needs JavaScript to show the API documentation.</noscript>
<redoc spec-url="{_attr(openapi_url)}"></redoc>
<script src="{_attr(redoc_js_url)}"></script>
</body>
</html>
"""
    return HTMLResponse(page)


@functools.lru_cache(maxsize=1)
def _redirect_script() -> str | None:
    path = asset_path("oauth2-redirect.js")
    if path is None:
        return None
    script = path.read_text(encoding="utf-8")
    return None if "</script" in script.lower() else script


def get_swagger_ui_oauth2_redirect_html() -> HTMLResponse:
    """The page an OAuth2 server redirects to; it hands the result back to Swagger UI."""
    script = _redirect_script()
    tag = (
        f"<script>\n{script}\n</script>"
        if script is not None
        else f'<script src="{SWAGGER_REDIRECT_JS_CDN}"></script>'
    )
    page = f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<title>Swagger UI: OAuth2 Redirect</title>
</head>
<body>
{tag}
</body>
</html>
"""
    return HTMLResponse(page)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def static_prefix(app: Faster) -> str | None:
    """Where the app serves the docs assets: ``<docs_url or redoc_url>/static``."""
    page = app.docs_url or app.redoc_url
    if app.openapi_url is None or not page:
        return None
    return page.rstrip("/") + "/static"


def docs_routes(app: Faster) -> list[APIRoute]:
    """The routes serving ``app``'s document, docs pages and their assets (hidden from it).

    ``openapi_url=None`` disables all of them; ``docs_url=None``/``redoc_url=None`` one page.
    Pages and the document honour the request's ``root_path`` (a proxy prefix).
    """
    openapi_url = app.openapi_url
    if openapi_url is None:
        return []
    static = static_prefix(app)
    local = static is not None and _assets_dir() is not None

    def asset(request: Request, configured: str | None, name: str, cdn: str) -> str:
        if configured:
            return configured
        return f"{_root(request)}{static}/{name}" if local else cdn

    async def openapi(request: Request) -> Response:
        document = app.openapi()
        root_path = _root(request)
        if root_path and app.root_path_in_servers and not document.get("servers"):
            document = {**document, "servers": [{"url": root_path}]}
        return JSONResponse(document)

    routes = [_route(openapi_url, openapi, "openapi")]
    redirect_url = app.swagger_ui_oauth2_redirect_url
    if app.docs_url:

        async def swagger_ui_html(request: Request) -> Response:
            root = _root(request)
            return get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=asset(
                    request, app.swagger_js_url, "swagger-ui-bundle.js", SWAGGER_JS_CDN
                ),
                swagger_css_url=asset(
                    request, app.swagger_css_url, "swagger-ui.css", SWAGGER_CSS_CDN
                ),
                swagger_favicon_url=asset(
                    request, app.swagger_favicon_url, "favicon-32x32.png", SWAGGER_FAVICON_CDN
                ),
                oauth2_redirect_url=root + redirect_url if redirect_url else None,
                init_oauth=app.swagger_ui_init_oauth,
                swagger_ui_parameters=app.swagger_ui_parameters,
            )

        routes.append(_route(app.docs_url, swagger_ui_html, "swagger_ui_html"))
        if redirect_url:

            async def swagger_ui_redirect() -> Response:
                return get_swagger_ui_oauth2_redirect_html()

            routes.append(_route(redirect_url, swagger_ui_redirect, "swagger_ui_redirect"))
    if app.redoc_url:

        async def redoc_html(request: Request) -> Response:
            return get_redoc_html(
                openapi_url=_root(request) + openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=asset(request, app.redoc_js_url, "redoc.standalone.js", REDOC_JS_CDN),
                redoc_favicon_url=asset(
                    request, app.redoc_favicon_url, "favicon-32x32.png", SWAGGER_FAVICON_CDN
                ),
            )

        routes.append(_route(app.redoc_url, redoc_html, "redoc_html"))
    if local:
        routes.append(_route(f"{static}/{{name}}", docs_asset, "docs_asset"))
    return routes


def _route(path: str, endpoint: Any, name: str) -> APIRoute:
    return APIRoute(path, endpoint, methods=["GET"], include_in_schema=False, name=name)


async def docs_asset(name: str) -> Response:
    """A Swagger UI / ReDoc file from the assets package (ETag, Range and HEAD included)."""
    from FasterAPI._file import FileResponse

    path = asset_path(name)
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, media_type=_ASSETS[name][1])
