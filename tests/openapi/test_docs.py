"""Swagger UI and ReDoc: the pages, their offline assets, and a real headless Chromium."""

import os
import re
import tempfile
from pathlib import Path

import pytest

from FasterAPI import Depends, Faster, HTTPException
from FasterAPI.openapi import docs
from FasterAPI.openapi.docs import (
    REDOC_JS_CDN,
    SWAGGER_JS_CDN,
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from FasterAPI.testclient import TestClient
from openapi.chromium import find_chromium, open_page

ARTIFACTS = Path(os.environ.get("FASTERAPI_ARTIFACTS", Path(tempfile.gettempdir(), "fasterapi")))


def script_sources(page: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"', page)


def test_swagger_ui_page_uses_packaged_assets():
    client = TestClient(Faster(title="Shop"))
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "<title>Shop - Swagger UI</title>" in page
    assert script_sources(page) == ["/docs/static/swagger-ui-bundle.js"]
    assert '<link rel="stylesheet" type="text/css" href="/docs/static/swagger-ui.css">' in page
    assert '<link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png">' in page
    assert '"url":"/openapi.json"' in page
    assert 'new URL("/docs/oauth2-redirect", window.location.href)' in page
    assert "https://" not in page


def test_redoc_page_uses_packaged_assets():
    page = TestClient(Faster(title="Shop")).get("/redoc").text
    assert "<title>Shop - ReDoc</title>" in page
    assert '<redoc spec-url="/openapi.json"></redoc>' in page
    assert script_sources(page) == ["/docs/static/redoc.standalone.js"]
    assert "https://" not in page


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("favicon-32x32.png", "image/png"),
        ("redoc.standalone.js", "text/javascript; charset=utf-8"),
    ],
)
def test_assets_are_served_with_caching_headers(name, media_type):
    client = TestClient(Faster())
    response = client.get(f"/docs/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert int(response.headers["content-length"]) == len(response.content) > 0
    etag = response.headers["etag"]
    assert client.get(f"/docs/static/{name}", headers={"if-none-match": etag}).status_code == 304
    head = client.head(f"/docs/static/{name}")
    assert head.status_code == 200
    assert head.content == b""


def test_swagger_bundle_is_swagger_ui_5():
    body = TestClient(Faster()).get("/docs/static/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in body
    assert re.search(r'version:"5\.\d+\.\d+"', body) or "swagger-ui" in body


@pytest.mark.parametrize("name", ["nope.js", "..%2F..%2Fapps.py", "LICENSE", "%2Fetc%2Fpasswd"])
def test_unknown_assets_are_404(name):
    assert TestClient(Faster()).get(f"/docs/static/{name}").status_code == 404


def test_pages_and_assets_over_rsgi():
    client = TestClient(Faster(), interface="rsgi")
    assert client.get("/openapi.json").json()["openapi"] == "3.1.0"
    assert script_sources(client.get("/docs").text) == ["/docs/static/swagger-ui-bundle.js"]
    asset = client.get("/docs/static/redoc.standalone.js")
    assert asset.status_code == 200
    assert int(asset.headers["content-length"]) == len(asset.content) > 100_000


def test_oauth2_redirect_page_inlines_the_script():
    response = TestClient(Faster()).get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert "swaggerUIRedirectOauth2" in response.text
    assert "<script src=" not in response.text


def test_docs_disabled_one_by_one():
    client = TestClient(Faster(docs_url=None))
    assert client.get("/docs").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404
    page = client.get("/redoc").text
    assert script_sources(page) == ["/redoc/static/redoc.standalone.js"]
    assert client.get("/redoc/static/redoc.standalone.js").status_code == 200
    client = TestClient(Faster(redoc_url=None))
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs").status_code == 200
    client = TestClient(Faster(docs_url=None, redoc_url=None))
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs/static/swagger-ui.css").status_code == 404
    client = TestClient(Faster(swagger_ui_oauth2_redirect_url=None))
    assert client.get("/docs/oauth2-redirect").status_code == 404
    assert "oauth2RedirectUrl" not in client.get("/docs").text


def test_custom_urls_and_cdn_assets():
    app = Faster(
        docs_url="/api/docs",
        redoc_url="/api/redoc",
        openapi_url="/api/openapi.json",
        swagger_js_url=SWAGGER_JS_CDN,
        swagger_css_url="https://cdn.example/swagger.css",
        redoc_js_url=REDOC_JS_CDN,
    )
    client = TestClient(app)
    page = client.get("/api/docs").text
    assert script_sources(page) == [SWAGGER_JS_CDN]
    assert 'href="https://cdn.example/swagger.css"' in page
    assert 'href="/api/docs/static/favicon-32x32.png"' in page
    assert '"url":"/api/openapi.json"' in page
    assert script_sources(client.get("/api/redoc").text) == [REDOC_JS_CDN]


def test_swagger_ui_parameters_and_init_oauth():
    app = Faster(
        swagger_ui_parameters={"deepLinking": False, "syntaxHighlight": {"theme": "obsidian"}},
        swagger_ui_init_oauth={"clientId": "docs", "usePkceWithAuthorizationCodeGrant": True},
    )
    page = TestClient(app).get("/docs").text
    assert '"deepLinking":false' in page
    assert '"syntaxHighlight":{"theme":"obsidian"}' in page
    assert 'window.ui.initOAuth({"clientId":"docs","usePkceWithAuthorizationCodeGrant":true});' in (
        page
    )


def test_pages_behind_a_proxy_prefix_use_root_path():
    client = TestClient(Faster(), root_path="/api/v1")
    swagger = client.get("/docs").text
    assert '"url":"/api/v1/openapi.json"' in swagger
    assert script_sources(swagger) == ["/api/v1/docs/static/swagger-ui-bundle.js"]
    assert 'new URL("/api/v1/docs/oauth2-redirect"' in swagger
    redoc = client.get("/redoc").text
    assert '<redoc spec-url="/api/v1/openapi.json"></redoc>' in redoc
    assert client.get("/docs/static/swagger-ui.css").status_code == 200


def test_docs_routes_ignore_app_dependencies():
    def deny() -> None:
        raise HTTPException(401)

    app = Faster(dependencies=[Depends(deny)])

    @app.get("/x")
    def x() -> None: ...

    client = TestClient(app)
    assert client.get("/x").status_code == 401
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/static/swagger-ui.css"):
        assert client.get(path).status_code == 200, path


def test_user_route_registered_before_first_request_still_works():
    app = Faster()

    @app.get("/docs/custom")
    def custom() -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)
    assert client.get("/docs/custom").json() == {"ok": True}
    assert client.get("/docs").status_code == 200


def test_without_the_assets_package_pages_fall_back_to_the_cdn(monkeypatch):
    monkeypatch.setattr(docs, "_assets_dir", lambda: None)
    client = TestClient(Faster())
    assert script_sources(client.get("/docs").text) == [SWAGGER_JS_CDN]
    assert script_sources(client.get("/redoc").text) == [REDOC_JS_CDN]
    assert client.get("/docs/static/swagger-ui.css").status_code == 404


def test_page_functions_escape_their_inputs():
    page = get_swagger_ui_html(
        openapi_url='/o.json"><script>alert(1)</script>',
        title="</title><script>alert(2)</script>",
        swagger_ui_parameters={"x": "</script><script>alert(3)</script>"},
    ).body.decode()
    assert "<script>alert" not in page
    assert "&lt;/title&gt;" in page
    assert "\\u003c/script\\u003e" in page
    redoc = get_redoc_html(openapi_url='/o"x', title="T").body.decode()
    assert 'spec-url="/o&quot;x"' in redoc
    assert "fonts.googleapis.com" not in redoc
    assert (
        "fonts.googleapis.com"
        in get_redoc_html(openapi_url="/o", title="T", with_google_fonts=True).body.decode()
    )
    assert get_swagger_ui_oauth2_redirect_html().media_type == "text/html"


def test_page_functions_default_to_the_cdn_like_fastapi():
    page = get_swagger_ui_html(openapi_url="/openapi.json", title="T").body.decode()
    assert script_sources(page) == [SWAGGER_JS_CDN]


# -- a real browser --------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    executable = find_chromium()
    if executable is None:
        pytest.fail("Chromium is missing: run scripts/install-system-deps")
    return executable


def shop_operations() -> int:
    from openapi.shop import app

    return sum(len(operations) for operations in app.openapi()["paths"].values())


# ReDoc's "powered by" logo is hard-coded in redoc.standalone.js; offline it fails to
# load and ReDoc hides it (its onError handler), so the page is whole without it.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def assert_offline(page, base_url: str, allowed: tuple[str, ...] = ()) -> None:
    urls = page.requested_urls()
    local = (base_url, "data:", "blob:", "about:")
    outside = [u for u in urls if not u.startswith(local) and u not in allowed]
    assert outside == [], outside
    failed = [f for f in page.failed_requests() if f.get("type") != "Image" or not allowed]
    assert failed == [], failed
    assert page.console_errors() == []


@pytest.mark.parametrize("where", ["shop_url", "mounted_shop_url"])
def test_browser_renders_swagger_ui_offline(chromium, where, request):
    base_url = request.getfixturevalue(where)
    with open_page(chromium) as page:
        page.goto(f"{base_url}/docs")
        page.wait_for(f"document.querySelectorAll('.opblock').length === {shop_operations()}")
        paths = page.evaluate(
            "[...document.querySelectorAll('.opblock-summary [data-path]')]"
            ".map(e => e.getAttribute('data-path'))"
        )
        summaries = page.evaluate(
            "[...document.querySelectorAll('.opblock-summary-description')].map(e => e.textContent)"
        )
        title = page.evaluate("document.querySelector('.info .title')?.textContent")
        servers = page.evaluate(
            "[...document.querySelectorAll('.servers option')].map(e => e.value)"
        )
        # Try it out: GET /health from the page, through the documented server.
        operation = "#operations-default-health_health_get"
        page.click(f"{operation} .opblock-summary-control")
        page.click(f"{operation} .try-out__btn")
        page.click(f"{operation} .execute")
        answer = page.wait_for(
            f"document.querySelector('{operation} .live-responses-table .response')?.innerText"
        )
        page.screenshot(ARTIFACTS / f"swagger-ui-{where}.png")
        requested = page.requested_urls()
        assert_offline(page, base_url)
    assert {"/items", "/items/{item_id}", "/users/token", "/legacy/items", "/stats"} <= set(paths)
    assert {"List Items", "Log in", "Create Item"} <= set(summaries)
    assert title is not None and title.startswith("Shop")
    assert f"{base_url}/docs/static/swagger-ui-bundle.js" in requested
    assert f"{base_url}/openapi.json" in requested
    # Behind the prefix, "Try it out" sends requests to the prefixed server.
    assert servers == (["/shop"] if where == "mounted_shop_url" else [])
    words = answer.split()
    assert words[0] == "200" and "ok" in words, answer
    assert f"{base_url}/health" in requested


def test_browser_renders_redoc_offline(chromium, shop_url):
    with open_page(chromium) as page:
        page.goto(f"{shop_url}/redoc")
        sections = "document.querySelectorAll('[data-section-id^=\"operation/\"]').length"
        count = page.wait_for(f"{sections} === {shop_operations()} && {sections}")
        text = page.evaluate("document.body.innerText")
        page.screenshot(ARTIFACTS / "redoc.png")
        requested = page.requested_urls()
        assert_offline(page, shop_url, allowed=(REDOC_LOGO,))
    assert count == shop_operations()
    for summary in ("List Items", "Log in", "Upload Avatar", "Legacy Items"):
        assert summary in text
    assert f"{shop_url}/docs/static/redoc.standalone.js" in requested
