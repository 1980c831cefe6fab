"""Every ASGI scope key is there for code that reads the scope, whichever protocol served it.

On RSGI the costly keys are converted when first needed; middleware, mounted apps,
response classes and ``Request`` must still find them with ``get``, ``in`` and copies.
"""

from typing import Annotated

from FasterAPI import Faster, Header, Request
from FasterAPI.response import JSONResponse, Response
from FasterAPI.testclient import TestClient

KEYS = ("client", "server", "scheme", "http_version", "raw_path", "query_string", "headers")


def describe(scope) -> dict:
    """What code using dict methods (not ``scope[key]``) sees of the scope."""
    copied = dict(scope)
    return {
        "present": [key for key in KEYS if key in scope],
        "client": list(scope.get("client") or ()),
        "server": list(scope.get("server") or ()),
        "scheme": scope.get("scheme"),
        "http_version": scope.get("http_version"),
        "raw_path": (copied.get("raw_path") or b"").decode(),
        "query_string": (copied.get("query_string") or b"").decode(),
        "x_probe": [v.decode() for k, v in copied.get("headers", []) if k == b"x-probe"],
    }


EXPECTED = {
    "present": list(KEYS),
    "client": ["testclient", 50000],
    "server": ["testserver", 80],
    "scheme": "http",
    "http_version": "1.1",
    "raw_path": "/seen",
    "query_string": "q=1",
    "x_probe": ["1"],
}


class ScopeProbe:
    """Pure ASGI middleware answering with what it saw of the scope."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/seen":
            await JSONResponse(describe(scope))(scope, receive, send)
            return
        await self.app(scope, receive, send)


def test_scope_keys_middleware_sees_every_key():
    app = Faster()
    app.add_middleware(ScopeProbe)

    @app.get("/other")
    async def other(x_probe: Annotated[str, Header()]):
        return {"probe": x_probe}

    client = TestClient(app)
    assert client.get("/seen?q=1", headers={"x-probe": "1"}).json() == EXPECTED
    # The app behind the middleware still reads headers.
    assert client.get("/other", headers={"x-probe": "2"}).json() == {"probe": "2"}


def test_scope_keys_mounted_app_sees_every_key():
    async def sub_app(scope, receive, send):
        seen = describe(scope)
        seen["raw_path"] = "/seen"  # the mount's own prefix is not part of the check
        await JSONResponse(seen)(scope, receive, send)

    app = Faster()
    app.mount("/sub", sub_app)
    assert TestClient(app).get("/sub/x?q=1", headers={"x-probe": "1"}).json() == EXPECTED


def test_scope_keys_custom_response_class_sees_every_key():
    class ScopeEcho(Response):
        async def __call__(self, scope, receive, send):
            await JSONResponse(describe(scope))(scope, receive, send)

    app = Faster()

    @app.get("/seen")
    async def seen():
        return ScopeEcho()

    assert TestClient(app).get("/seen?q=1", headers={"x-probe": "1"}).json() == EXPECTED


def test_scope_keys_request_scope_is_complete():
    app = Faster()

    @app.get("/seen")
    async def seen(request: Request):
        return describe(request.scope)

    assert TestClient(app).get("/seen?q=1", headers={"x-probe": "1"}).json() == EXPECTED


def test_scope_keys_header_parameter_takes_the_first_value():
    app = Faster()

    @app.get("/token")
    async def token(x_token: Annotated[str, Header()]):
        return {"token": x_token}

    client = TestClient(app)
    both = client.get("/token", headers=[("x-token", "first"), ("x-token", "second")])
    assert both.json() == {"token": "first"}
    missing = client.get("/token")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["header", "x-token"]
