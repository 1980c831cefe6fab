"""CORSMiddleware: deny by default, origins and regex, preflight, Vary, errors, websockets."""

import pytest

from FasterAPI import Faster, HTTPException, PlainTextResponse, WebSocket
from FasterAPI.middleware.cors import CORSMiddleware
from FasterAPI.testclient import TestClient

ORIGIN = "https://app.example.com"


def make_app(**options):
    app = Faster()

    @app.get("/items")
    async def items():
        return {"items": [1, 2]}

    @app.post("/items")
    async def create():
        return {"ok": True}

    @app.get("/teapot")
    async def teapot():
        raise HTTPException(418, "short and stout")

    @app.get("/boom")
    async def boom():
        raise RuntimeError("kaput")

    @app.get("/own-cors")
    async def own_cors():
        return PlainTextResponse(
            "x", headers={"Access-Control-Allow-Origin": "*", "Vary": "Cookie"}
        )

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    app.add_middleware(CORSMiddleware, **options)
    return app


def preflight(client, origin=ORIGIN, method="POST", headers=None, path="/items"):
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=request_headers)


def test_cors_default_denies_every_origin():
    client = TestClient(make_app())
    response = client.get("/items", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"
    assert preflight(client, method="GET").status_code == 400


@pytest.mark.parametrize("interface", ["asgi", "rsgi"], indirect=True)
def test_cors_allowed_origin_gets_headers_and_vary():
    client = TestClient(make_app(allow_origins=[ORIGIN], expose_headers=["X-Total"]))
    response = client.get("/items", headers={"Origin": ORIGIN})
    assert response.json() == {"items": [1, 2]}
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-expose-headers"] == "X-Total"
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_cors_disallowed_origin_gets_no_cors_headers():
    client = TestClient(make_app(allow_origins=[ORIGIN], allow_credentials=True))
    response = client.get("/items", headers={"Origin": "https://evil.example.net"})
    assert response.status_code == 200
    assert not [name for name in response.headers if name.startswith("access-control-")]
    assert response.headers["vary"] == "Origin"


def test_cors_origin_comparison_ignores_case_and_config_trailing_slash():
    client = TestClient(make_app(allow_origins=["HTTPS://App.Example.com/"]))
    response = client.get("/items", headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_cors_request_without_origin_still_varies_on_origin():
    client = TestClient(make_app(allow_origins=[ORIGIN]))
    response = client.get("/items")
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_cors_vary_is_merged_and_app_cors_headers_are_replaced():
    client = TestClient(make_app(allow_origins=[ORIGIN]))
    response = client.get("/own-cors", headers={"Origin": ORIGIN})
    assert response.headers.get_list("access-control-allow-origin") == [ORIGIN]
    assert response.headers["vary"] == "Cookie, Origin"


def test_cors_wildcard_origin_sends_star_without_credentials():
    client = TestClient(make_app(allow_origins=["*"]))
    response = client.get("/items", headers={"Origin": "https://anything.test"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_cors_credentials_with_wildcard_origin_is_refused_at_startup():
    with pytest.raises(ValueError, match="allow_credentials"):
        CORSMiddleware(make_app(), allow_origins=["*"], allow_credentials=True)


@pytest.mark.parametrize(
    "options",
    [
        {"allow_origins": "https://a.example.com"},
        {"allow_methods": "GET"},
    ],
)
def test_cors_single_string_instead_of_list_is_a_type_error(options):
    with pytest.raises(TypeError):
        CORSMiddleware(make_app(), **options)


@pytest.mark.parametrize("origin", ["example.com", "https://example.com/path", "https://"])
def test_cors_malformed_configured_origin_is_refused(origin):
    with pytest.raises(ValueError):
        CORSMiddleware(make_app(), allow_origins=[origin])


def test_cors_credentials_echo_the_origin():
    client = TestClient(make_app(allow_origins=[ORIGIN], allow_credentials=True))
    response = client.get("/items", headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://api.example.com", True),
        ("https://a.b.example.com", True),
        ("https://evil.example.com.attacker.io", False),
        ("https://example.com", False),
        ("http://api.example.com", False),
        ("https://api.example.com:8443", False),
        ("xhttps://api.example.com", False),
    ],
)
def test_cors_origin_regex_must_match_the_whole_origin(origin, allowed):
    client = TestClient(make_app(allow_origin_regex=r"https://.*\.example\.com"))
    response = client.get("/items", headers={"Origin": origin})
    assert ("access-control-allow-origin" in response.headers) is allowed
    assert preflight(client, origin=origin, method="GET").status_code == (200 if allowed else 400)


@pytest.mark.parametrize("interface", ["asgi", "rsgi"], indirect=True)
def test_cors_preflight_is_answered_with_the_exact_allowed_lists():
    app = make_app(
        allow_origins=[ORIGIN],
        allow_methods=["GET", "post"],
        allow_headers=["Authorization", "X-Trace"],
        allow_credentials=True,
        max_age=120,
    )
    response = preflight(TestClient(app), headers="authorization, Content-Type")
    assert response.status_code == 200
    assert response.text == "OK"
    headers = response.headers
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-allow-methods"] == "GET, POST"
    assert headers["access-control-allow-headers"] == (
        "accept, accept-language, authorization, content-language, content-type, x-trace"
    )
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-max-age"] == "120"
    assert headers["vary"].startswith("Origin")


def test_cors_preflight_never_reaches_the_app():
    app = make_app(allow_origins=[ORIGIN], allow_methods=["POST"])
    # There is no OPTIONS route: the app would answer 405.
    assert preflight(TestClient(app)).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"origin": "https://evil.test"}, "Disallowed CORS origin"),
        ({"method": "DELETE"}, "Disallowed CORS method"),
        ({"headers": "X-Secret"}, "Disallowed CORS headers"),
        ({"method": "DELETE", "headers": "X-Secret"}, "Disallowed CORS method, headers"),
    ],
)
def test_cors_disallowed_preflight_is_a_400_with_a_reason(kwargs, reason):
    app = make_app(allow_origins=[ORIGIN], allow_methods=["GET", "POST"])
    response = preflight(TestClient(app), **kwargs)
    assert response.status_code == 400
    assert response.json() == {"detail": reason}
    assert response.headers["content-type"] == "application/json"


def test_cors_disallowed_origin_preflight_reveals_nothing():
    app = make_app(allow_origins=[ORIGIN], allow_methods=["GET", "POST"])
    response = preflight(TestClient(app), origin="https://evil.test")
    assert not [name for name in response.headers if name.startswith("access-control-")]


def test_cors_wildcard_methods_and_headers_echo_the_request():
    app = make_app(allow_origins=[ORIGIN], allow_methods=["*"], allow_headers=["*"])
    response = preflight(TestClient(app), method="PATCH", headers="X-One, x-two")
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "PATCH"
    assert response.headers["access-control-allow-headers"] == "x-one, x-two"


def test_cors_options_without_request_method_goes_to_the_app():
    client = TestClient(make_app(allow_origins=[ORIGIN]))
    response = client.options("/items", headers={"Origin": ORIGIN})
    assert response.status_code == 405
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_cors_headers_on_error_responses_for_allowed_origins():
    client = TestClient(make_app(allow_origins=[ORIGIN]))
    for path, status in (("/missing", 404), ("/teapot", 418)):
        response = client.get(path, headers={"Origin": ORIGIN})
        assert response.status_code == status
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert response.headers["vary"] == "Origin"


def test_cors_leaves_headers_for_the_500_of_an_unhandled_exception():
    app = make_app(allow_origins=[ORIGIN])
    seen = {}

    async def outer(scope, receive, send):
        try:
            await app(scope, receive, send)
        finally:
            seen.update(scope)

    client = TestClient(outer, raise_server_exceptions=False)
    response = client.get("/boom", headers={"Origin": ORIGIN})
    assert response.status_code == 500
    assert (b"access-control-allow-origin", ORIGIN.encode()) in seen["fasterapi.error_headers"]
    assert (b"vary", b"Origin") in seen["fasterapi.error_headers"]


def test_cors_headers_on_the_500_of_an_unhandled_exception():
    client = TestClient(make_app(allow_origins=[ORIGIN]), raise_server_exceptions=False)
    response = client.get("/boom", headers={"Origin": ORIGIN})
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_cors_passes_websockets_through_untouched():
    client = TestClient(make_app())  # deny-all must not affect websockets
    with client.websocket_connect("/ws", headers={"Origin": "https://evil.test"}) as session:
        assert session.receive_text() == "hello"
