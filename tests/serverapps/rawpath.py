"""Apps served by real servers in the tests: request paths as sent (percent escapes), the
redirects built from them, and request headers whose value holds bytes 0x80-0xFF."""

from __future__ import annotations

from FasterAPI import Cookie, Faster, Header, Request, WebSocket
from FasterAPI.middleware.httpsredirect import HTTPSRedirectMiddleware
from FasterAPI.middleware.trustedhost import TrustedHostMiddleware


def build() -> Faster:
    app = Faster()

    @app.get("/items/{name}")
    async def item(name: str, request: Request) -> dict[str, str]:
        return {"name": name, "url": str(request.url), "path": request.url.path}

    @app.get("/plain")
    async def plain() -> str:
        """Reads no header at all."""
        return "plain"

    @app.get("/required")
    async def required(x_t: str = Header()) -> str:
        return x_t

    @app.get("/optional")
    async def optional(x_t: str = Header("default")) -> str:
        return x_t

    @app.get("/other")
    async def other(x_u: str = Header("none")) -> str:
        """Reads one header, not the one Granian cannot show."""
        return x_u

    @app.get("/all")
    async def all_headers(request: Request) -> dict[str, str]:
        return dict(request.headers)

    @app.get("/cookie")
    async def cookie(session: str = Cookie("none")) -> str:
        return session

    @app.get("/query")
    async def query(request: Request) -> dict[str, str]:
        return dict(request.query_params)

    @app.get("/where")
    async def where(request: Request) -> dict[str, str | None]:
        return {"host": request.headers.get("host"), "url": str(request.url)}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    return app


app = build()

# The same routes behind a middleware of the app's own (which sees every header).
layered = build()


@layered.middleware("http")
async def stamp(request: Request, call_next):  # type: ignore[no-untyped-def]
    response = await call_next(request)
    response.headers["x-stamped"] = "yes"
    return response


redirecting = build()
redirecting.add_middleware(HTTPSRedirectMiddleware)

to_www = build()
to_www.add_middleware(TrustedHostMiddleware, allowed_hosts=["www.example.com"])
