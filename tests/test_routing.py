import uuid

import pytest

from FasterAPI import (
    Depends,
    Faster,
    FasterRouter,
    HTTPException,
    Request,
    WebSocket,
    WebSocketDisconnect,
)
from FasterAPI.staticfiles import StaticFiles
from FasterAPI.testclient import TestClient


def make_app() -> Faster:
    app = Faster()

    @app.get("/users/me/posts")
    async def my_posts():
        return {"who": "me"}

    @app.get("/users/{uid}/posts")
    async def user_posts(uid: int):
        return {"who": uid}

    @app.get("/users/{name}/profile")
    async def profile(name: str):
        return {"name": name}

    @app.get("/files/{file_path:path}")
    async def files(file_path: str):
        return {"path": file_path}

    @app.get("/ints/{n:int}")
    async def ints(n):
        return {"n": n, "type": type(n).__name__}

    @app.get("/floats/{x:float}")
    async def floats(x: float):
        return {"x": x}

    @app.get("/uuids/{u:uuid}")
    async def uuids(u: uuid.UUID):
        return {"u": str(u)}

    @app.get("/reports/{name}.csv")
    async def report(name: str):
        return {"report": name}

    @app.post("/things")
    async def create_thing():
        return {"created": True}

    @app.put("/things")
    async def replace_thing():
        return {"replaced": True}

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app())


def test_routing_static_route_wins_over_parameter(client):
    assert client.get("/users/me/posts").json() == {"who": "me"}


def test_routing_parameter_route_after_backtracking(client):
    assert client.get("/users/42/posts").json() == {"who": 42}


def test_routing_sibling_routes_with_different_parameter_names(client):
    assert client.get("/users/alice/profile").json() == {"name": "alice"}
    assert client.get("/users/7/profile").json() == {"name": "7"}


def test_routing_path_converter_takes_the_rest(client):
    assert client.get("/files/a/b/c.txt").json() == {"path": "a/b/c.txt"}


def test_routing_int_converter_converts_and_rejects_non_digits(client):
    assert client.get("/ints/12").json() == {"n": 12, "type": "int"}
    assert client.get("/ints/abc").status_code == 404


def test_routing_float_and_uuid_converters(client):
    assert client.get("/floats/1.5").json() == {"x": 1.5}
    value = str(uuid.uuid4())
    assert client.get(f"/uuids/{value}").json() == {"u": value}
    assert client.get("/uuids/not-a-uuid").status_code == 404


def test_routing_segment_with_text_around_parameter(client):
    assert client.get("/reports/june.csv").json() == {"report": "june"}


def test_routing_unknown_path_is_404_json(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_routing_wrong_method_is_405_with_allow(client):
    response = client.delete("/things")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, PUT"
    assert response.json() == {"detail": "Method Not Allowed"}


def test_routing_405_allow_for_parameterised_route(client):
    response = client.post("/users/1/posts")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_routing_head_served_by_get_route_without_body(client):
    get = client.get("/users/me/posts")
    head = client.head("/users/me/posts")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == "application/json"


def test_routing_redirect_slashes_both_ways():
    app = Faster()

    @app.get("/a")
    async def a():
        return "a"

    @app.get("/b/")
    async def b():
        return "b"

    client = TestClient(app, follow_redirects=False)
    response = client.get("/a/?x=1")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/a?x=1"
    response = client.get("/b")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/b/"
    assert TestClient(app).get("/a/").json() == "a"


def test_routing_redirect_slashes_can_be_disabled():
    app = Faster(redirect_slashes=False)

    @app.get("/a")
    async def a():
        return "a"

    assert TestClient(app, follow_redirects=False).get("/a/").status_code == 404


def test_routing_api_route_with_several_methods():
    app = Faster()

    @app.api_route("/multi", methods=["GET", "POST"])
    async def multi(request: Request):
        return request.method

    client = TestClient(app)
    assert client.get("/multi").json() == "GET"
    assert client.post("/multi").json() == "POST"
    assert client.patch("/multi").status_code == 405


def test_routing_every_method_decorator():
    app = Faster()
    for method in ("get", "post", "put", "patch", "delete", "options", "trace"):

        async def endpoint(request: Request):
            return request.method

        getattr(app, method)("/m")(endpoint)

    client = TestClient(app)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"):
        assert client.request(method, "/m").json() == method


def test_routing_explicit_head_route_overrides_get():
    app = Faster()

    @app.get("/h")
    async def get_h():
        return "get"

    @app.head("/h")
    async def head_h():
        from FasterAPI import Response

        return Response(headers={"x-head": "yes"})

    response = TestClient(app).head("/h")
    assert response.headers["x-head"] == "yes"


def test_routing_unknown_keyword_in_decorator_is_a_type_error():
    app = Faster()
    with pytest.raises(TypeError):
        app.get("/x", respnse_model=dict)(lambda: None)


def test_routing_bad_path_and_converter_raise_at_definition():
    app = Faster()
    with pytest.raises(ValueError):
        app.get("no-slash")(lambda: None)
    with pytest.raises(ValueError):
        app.get("/x/{y:bogus}")(lambda: None)


def test_router_include_with_prefix_tags_and_dependencies():
    calls = []

    def router_dep():
        calls.append("router")

    def include_dep():
        calls.append("include")

    router = FasterRouter(prefix="/items", tags=["items"], dependencies=[Depends(router_dep)])

    @router.get("/{item_id}")
    async def read_item(item_id: int):
        return {"item_id": item_id}

    app = Faster()
    app.include_router(router, prefix="/v1", dependencies=[Depends(include_dep)], tags=["v1"])
    client = TestClient(app)
    assert client.get("/v1/items/3").json() == {"item_id": 3}
    assert calls == ["include", "router"]
    route = next(r for r in app.routes if getattr(r, "path", "") == "/v1/items/{item_id}")
    assert route.tags == ["v1", "items"]


def test_router_nested_include():
    inner = FasterRouter()

    @inner.get("/leaf")
    async def leaf():
        return "leaf"

    middle = FasterRouter(prefix="/middle")
    middle.include_router(inner, prefix="/inner")
    app = Faster()
    app.include_router(middle, prefix="/outer")
    assert TestClient(app).get("/outer/middle/inner/leaf").json() == "leaf"


def test_router_routes_added_after_first_request_are_served():
    app = Faster()

    @app.get("/one")
    async def one():
        return 1

    client = TestClient(app)
    assert client.get("/one").json() == 1

    @app.get("/two")
    async def two():
        return 2

    assert client.get("/two").json() == 2


def test_routing_url_path_for_and_request_url_for():
    app = Faster()

    @app.get("/items/{item_id}", name="item")
    async def item(item_id: int, request: Request):
        return {"url": str(request.url_for("item", item_id=item_id + 1))}

    assert app.url_path_for("item", item_id=5) == "/items/5"
    assert TestClient(app).get("/items/1").json() == {"url": "http://testserver/items/2"}
    with pytest.raises(LookupError):
        app.url_path_for("missing")


def test_mount_serves_asgi_app_under_prefix():
    async def raw_app(scope, receive, send):
        body = f"{scope['root_path']}|{scope['path']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    app = Faster()
    app.mount("/sub", raw_app)
    response = TestClient(app).get("/sub/x/y")
    assert response.text == "/sub|/sub/x/y"


def test_mount_of_faster_app_routes_inside():
    sub = Faster()

    @sub.get("/hello/{name}", name="hello")
    async def hello(name: str, request: Request):
        return {"hello": name, "url": str(request.url)}

    app = Faster()
    app.mount("/api", sub, name="api")
    response = TestClient(app).get("/api/hello/bob")
    assert response.json() == {"hello": "bob", "url": "http://testserver/api/hello/bob"}
    assert app.url_path_for("api:hello", name="x") == "/api/hello/x"
    assert TestClient(app).get("/api/nothing").status_code == 404


def test_mount_passes_websockets():
    sub = Faster()

    @sub.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("mounted")
        await websocket.close()

    app = Faster()
    app.mount("/sub", sub)
    with TestClient(app).websocket_connect("/sub/ws") as session:
        assert session.receive_text() == "mounted"


def test_mount_and_routes_that_both_match_are_decided_by_declaration_order(tmp_path):
    (tmp_path / "index.html").write_text("spa")
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "7").write_text("a file")

    async def first(scope, receive, send):
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4001, "reason": ""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first mount"})

    app = Faster()
    app.mount("/early", first)

    @app.get("/api/items/{item_id}")
    async def item(item_id: int):
        return {"item": item_id}

    @app.get("/api/health")
    async def health():
        return {"ok": True}

    @app.get("/early/{name}")
    async def shadowed(name: str):
        return {"route": name}

    @app.websocket("/early/ws")
    async def shadowed_ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("route")
        await websocket.close()

    @app.websocket("/live")
    async def live(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("live")
        await websocket.close()

    # A single-page app mounted at / after the API: the API's routes still answer.
    app.mount("/", StaticFiles(directory=tmp_path, html=True))
    client = TestClient(app)
    assert client.get("/api/items/7").json() == {"item": 7}
    assert client.get("/api/health").json() == {"ok": True}
    assert client.get("/").text == "spa"
    assert client.get("/items/7").text == "a file"
    # A route matching the path with another method does not stop the mount.
    assert client.post("/api/items/7").status_code == 405  # StaticFiles refuses POST
    # A mount declared before a route wins over it, for HTTP and websockets.
    assert client.get("/early/x").text == "first mount"
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect("/early/ws") as session:
            session.receive_text()
    assert closed.value.code == 4001
    with client.websocket_connect("/live") as session:
        assert session.receive_text() == "live"


def test_routing_matched_route_and_endpoint_are_in_the_scope():
    # Metrics and tracing middleware label requests by the route's template, as with
    # FastAPI: scope["route"].path, scope["endpoint"].
    app = Faster()
    seen: list[tuple[str | None, str | None]] = []

    @app.middleware("http")
    async def label(request: Request, call_next):
        response = await call_next(request)
        route = request.scope.get("route")
        endpoint = request.scope.get("endpoint")
        seen.append((route.path if route else None, endpoint.__name__ if endpoint else None))
        return response

    @app.get("/static")
    def static_route():
        return "s"

    @app.get("/items/{item_id}")
    def read_item(item_id: int):
        return item_id

    @app.websocket("/ws/{room}")
    async def chat(websocket: WebSocket, room: str):
        await websocket.accept()
        await websocket.send_text(websocket.scope["route"].path)
        await websocket.close()

    client = TestClient(app)
    assert client.get("/static").status_code == 200
    assert client.get("/items/3").status_code == 200
    assert client.get("/items/x").status_code == 422
    assert client.get("/nowhere").status_code == 404
    assert seen == [
        ("/static", "static_route"),
        ("/items/{item_id}", "read_item"),
        ("/items/{item_id}", "read_item"),
        (None, None),
    ]
    with client.websocket_connect("/ws/lobby") as session:
        assert session.receive_text() == "/ws/{room}"


def test_routing_http_exception_in_handler_uses_status_and_headers():
    app = Faster()

    @app.get("/teapot")
    async def teapot():
        raise HTTPException(418, "short and stout", headers={"x-tea": "earl grey"})

    response = TestClient(app).get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"detail": "short and stout"}
    assert response.headers["x-tea"] == "earl grey"


def test_routing_root_path_prefix_is_stripped_for_matching():
    app = Faster()

    @app.get("/ping")
    async def ping(request: Request):
        return {"url": str(request.url)}

    # root_path is an ASGI scope concept; RSGI apps get it from Faster(root_path=...).
    client = TestClient(app, root_path="/proxy", interface="asgi")
    assert client.get("/ping").json() == {"url": "http://testserver/proxy/ping"}


def test_url_path_for_mount_with_path_parameter():
    async def files(scope, receive, send):
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = Faster()
    app.mount("/static", files, name="static")
    assert app.url_path_for("static", path="/css/site.css") == "/static/css/site.css"


def test_app_root_path_setting_applies_behind_a_stripping_proxy():
    app = Faster(root_path="/api")

    @app.get("/ping", name="ping")
    async def ping(request: Request):
        return {"url": str(request.url), "for": str(request.url_for("ping"))}

    # The proxy strips /api; the app still builds public URLs with it.
    response = TestClient(app).get("/ping")
    assert response.json() == {
        "url": "http://testserver/api/ping",
        "for": "http://testserver/api/ping",
    }


def test_url_for_percent_encodes_path_parameter_values(tmp_path):
    app = Faster()

    @app.get("/items/{name}", name="item")
    async def item(name: str, request: Request) -> dict:
        return {"name": name, "url": str(request.url_for("item", name=name))}

    @app.get("/files/{rest:path}", name="file")
    async def file(rest: str) -> str:
        return rest

    app.mount("/static", StaticFiles(directory=tmp_path), name="static")
    client = TestClient(app)
    assert app.url_path_for("item", name="a b?c#d/e%") == "/items/a%20b%3Fc%23d%2Fe%25"
    assert app.url_path_for("file", rest="x/y z?") == "/files/x/y%20z%3F"
    assert app.url_path_for("static", path="/we ird?#.txt") == "/static/we%20ird%3F%23.txt"
    # The URL built for a value leads back to the same value.
    answer = client.get("/items/a%20b%3Fc%23d%25").json()
    assert answer == {"name": "a b?c#d%", "url": "http://testserver/items/a%20b%3Fc%23d%25"}
    assert client.get(app.url_path_for("file", rest="x/y z?")).json() == "x/y z?"


def test_include_router_keeps_a_route_s_own_response_class():
    from FasterAPI import HTMLResponse, JSONResponse

    router = FasterRouter(default_response_class=HTMLResponse)

    @router.get("/data", response_class=JSONResponse)
    async def data():
        return {"a": 1}

    @router.get("/page")
    async def page():
        return "<p>hi</p>"

    plain = FasterRouter()

    @plain.get("/json", response_class=JSONResponse)
    async def json_route():
        return {"b": 2}

    @plain.get("/default")
    async def default():
        return "<b>x</b>"

    app = Faster(default_response_class=HTMLResponse)
    app.include_router(router)
    app.include_router(plain, prefix="/plain")
    client = TestClient(app)
    assert client.get("/data").json() == {"a": 1}
    assert client.get("/page").headers["content-type"].startswith("text/html")
    assert client.get("/plain/json").json() == {"b": 2}
    default_answer = client.get("/plain/default")
    assert default_answer.headers["content-type"].startswith("text/html")
    assert default_answer.text == "<b>x</b>"


def test_url_for_numbers_read_back_as_the_same_value():
    app = Faster()

    @app.get("/f/{value:float}", name="f")
    async def f(value: float) -> float:
        return value

    @app.get("/i/{value:int}", name="i")
    async def i(value: int) -> int:
        return value

    client = TestClient(app)
    for number in (0.1234567, 1e-7, 2.0, 1e20):
        assert client.get(app.url_path_for("f", value=number)).json() == number
    assert app.url_path_for("f", value=1e-7) == "/f/0.0000001"
    assert app.url_path_for("i", value=True) == "/i/1"


def test_constraints_a_type_cannot_take_fail_at_definition():
    from typing import Annotated, Optional

    import msgspec

    from FasterAPI import Query

    app = Faster()
    for annotation in (
        Annotated[str, Query(ge=1)],
        Annotated[str, msgspec.Meta(ge=1), Query()],
        Annotated[Optional[int], Query(min_length=2)],
    ):
        with pytest.raises(TypeError, match="Can only set"):

            @app.get("/x")
            async def x(value: annotation = None):  # type: ignore[valid-type]
                return value
