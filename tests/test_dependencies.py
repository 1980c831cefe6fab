"""Depends/Security: sub-dependencies, caching, yield teardown, overrides, levels."""

import threading
from typing import Annotated

import pytest

from FasterAPI import (
    BackgroundTasks,
    Depends,
    Faster,
    FasterRouter,
    Header,
    HTTPException,
    Request,
    Response,
    Security,
    SecurityScopes,
)
from FasterAPI.testclient import TestClient


def test_depends_sub_dependencies_and_header():
    app = Faster()

    def token(x_token: str = Header()):
        return x_token

    async def user(tok: str = Depends(token)):
        return {"user": tok.upper()}

    @app.get("/me")
    async def me(current: dict = Depends(user)):
        return current

    client = TestClient(app)
    assert client.get("/me", headers={"x-token": "abc"}).json() == {"user": "ABC"}
    response = client.get("/me")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "x-token"]


def test_depends_result_cached_per_request_unless_disabled():
    app = Faster()
    calls = {"n": 0}

    def counter():
        calls["n"] += 1
        return calls["n"]

    def first(value: int = Depends(counter)):
        return value

    def second(value: int = Depends(counter)):
        return value

    def uncached(value: int = Depends(counter, use_cache=False)):
        return value

    @app.get("/cached")
    async def cached(a: int = Depends(first), b: int = Depends(second)):
        return [a, b]

    @app.get("/uncached")
    async def not_cached(a: int = Depends(first), b: int = Depends(uncached)):
        return [a, b]

    client = TestClient(app)
    assert client.get("/cached").json() == [1, 1]
    assert client.get("/uncached").json() == [2, 3]


def test_depends_class_callable_instance_and_bare_depends():
    app = Faster()

    class Pagination:
        def __init__(self, skip: int = 0, limit: int = 10):
            self.skip = skip
            self.limit = limit

    class Multiplier:
        def __init__(self, factor: int):
            self.factor = factor

        def __call__(self, value: int) -> int:
            return value * self.factor

    @app.get("/page")
    async def page(p: Pagination = Depends()):
        return {"skip": p.skip, "limit": p.limit}

    @app.get("/annotated")
    async def annotated(p: Annotated[Pagination, Depends()]):
        return p.limit

    @app.get("/times")
    async def times(result: int = Depends(Multiplier(3))):
        return result

    client = TestClient(app)
    assert client.get("/page?skip=5").json() == {"skip": 5, "limit": 10}
    assert client.get("/annotated?limit=2").json() == 2
    assert client.get("/times?value=4").json() == 12


def test_depends_sync_dependency_runs_in_worker_thread():
    app = Faster()
    seen = {}

    def sync_dep():
        seen["dep"] = threading.get_ident()
        return 1

    @app.get("/t")
    async def endpoint(value: int = Depends(sync_dep)):
        seen["loop"] = threading.get_ident()
        return value

    TestClient(app).get("/t")
    assert seen["dep"] != seen["loop"]


def test_depends_yield_teardown_order():
    app = Faster()
    events = []

    async def outer():
        events.append("outer setup")
        yield "outer"
        events.append("outer teardown")

    def inner(o: str = Depends(outer)):
        events.append("inner setup")
        yield o + "+inner"
        events.append("inner teardown")

    @app.get("/y")
    async def endpoint(value: str = Depends(inner)):
        events.append("handler")
        return value

    assert TestClient(app).get("/y").json() == "outer+inner"
    assert events == ["outer setup", "inner setup", "handler", "inner teardown", "outer teardown"]


def test_depends_yield_sees_handler_exception_for_rollback():
    app = Faster()
    events = []

    async def session():
        try:
            yield "db"
            events.append("commit")
        except HTTPException as exc:
            events.append(f"rollback {exc.status_code}")
            raise

    def sync_session():
        try:
            yield "sync-db"
            events.append("sync commit")
        except ValueError:
            events.append("sync rollback")
            raise

    @app.get("/fail")
    async def fail(db: str = Depends(session)):
        raise HTTPException(409, "conflict")

    @app.get("/ok")
    async def ok(db: str = Depends(session)):
        return db

    @app.get("/sync-fail")
    def sync_fail(db: str = Depends(sync_session)):
        raise ValueError("boom")

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/fail")
    assert response.status_code == 409
    assert client.get("/ok").json() == "db"
    assert client.get("/sync-fail").status_code == 500
    assert events == ["rollback 409", "commit", "sync rollback"]


def test_depends_yield_teardown_runs_before_fixed_response_and_after_stream():
    from FasterAPI import StreamingResponse

    app = Faster()
    events = []

    async def session():
        yield "s"
        events.append("teardown")

    async def body():
        events.append("streaming")
        yield b"x"

    @app.get("/fixed")
    async def fixed(s: str = Depends(session)):
        return {"s": s}

    @app.get("/stream")
    async def stream(s: str = Depends(session)):
        return StreamingResponse(body())

    async def call(path):
        sent = []

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            sent.append(message["type"])
            events.append(message["type"])

        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
        await app(scope, receive, send)

    import anyio

    anyio.run(call, "/fixed")
    assert events == ["teardown", "http.response.start", "http.response.body"]
    events.clear()
    anyio.run(call, "/stream")
    assert events[0] == "http.response.start"
    assert events[-1] == "teardown"


def test_depends_yield_failing_commit_is_a_500_not_a_2xx():
    app = Faster()

    async def session():
        yield "s"
        raise RuntimeError("commit failed")

    @app.post("/save")
    async def save(s: str = Depends(session)):
        return {"saved": True}

    response = TestClient(app, raise_server_exceptions=False).post("/save")
    assert response.status_code == 500


def test_depends_yield_swallowing_exception_still_reports_error():
    app = Faster()

    async def careless():
        try:
            yield
        except Exception:
            pass

    @app.get("/x")
    async def endpoint(_: None = Depends(careless)):
        raise HTTPException(400, "bad")

    assert TestClient(app).get("/x").status_code == 400


def test_depends_http_exception_from_dependency():
    app = Faster()

    def guard(x_key: str | None = Header(default=None)):
        if x_key != "secret":
            raise HTTPException(403, "forbidden")

    @app.get("/guarded", dependencies=[Depends(guard)])
    async def guarded():
        return "in"

    client = TestClient(app)
    assert client.get("/guarded").status_code == 403
    assert client.get("/guarded", headers={"x-key": "secret"}).json() == "in"


def test_depends_app_router_route_levels_in_order():
    calls = []

    def make(name):
        def dep():
            calls.append(name)

        return dep

    app = Faster(dependencies=[Depends(make("app"))])
    router = FasterRouter(dependencies=[Depends(make("router"))])

    @router.get("/levels", dependencies=[Depends(make("route"))])
    async def levels():
        calls.append("handler")
        return "ok"

    app.include_router(router)
    TestClient(app).get("/levels")
    assert calls == ["app", "router", "route", "handler"]


def test_depends_overrides_replace_dependency():
    app = Faster()

    def real_db(dsn: str = "real"):
        return dsn

    @app.get("/db")
    async def db(value: str = Depends(real_db)):
        return value

    client = TestClient(app)
    assert client.get("/db").json() == "real"
    app.dependency_overrides[real_db] = lambda: "fake"
    assert client.get("/db").json() == "fake"

    def override_with_params(flag: int):
        return f"flag={flag}"

    app.dependency_overrides[real_db] = override_with_params
    assert client.get("/db?flag=2").json() == "flag=2"
    app.dependency_overrides.clear()
    assert client.get("/db").json() == "real"


def test_security_scopes_collected_along_chain():
    app = Faster()

    def current_user(security_scopes: SecurityScopes):
        return security_scopes.scopes

    def admin(scopes: list = Security(current_user, scopes=["admin"])):
        return scopes

    @app.get("/items")
    async def items(scopes: list = Security(admin, scopes=["items:read"])):
        return scopes

    assert TestClient(app).get("/items").json() == ["items:read", "admin"]


def test_special_parameters_request_background_response():
    app = Faster()
    done = []

    @app.get("/special")
    async def special(request: Request, response: Response, tasks: BackgroundTasks):
        response.status_code = 202
        response.headers["x-extra"] = "1"
        response.set_cookie("seen", "yes")
        tasks.add_task(done.append, request.url.path)
        return {"ok": True}

    client = TestClient(app)
    result = client.get("/special")
    assert result.status_code == 202
    assert result.headers["x-extra"] == "1"
    assert result.headers["set-cookie"] == "seen=yes; Path=/; SameSite=Lax"
    assert result.json() == {"ok": True}
    assert done == ["/special"]


def test_depends_without_callable_in_route_dependencies_is_rejected():
    app = Faster()
    with pytest.raises(TypeError):
        app.get("/x", dependencies=[Depends()])(lambda: None)


def test_dependency_override_reads_the_route_path_parameters():
    app = Faster()

    def get_item(item_id: int) -> dict:
        return {"real": item_id}

    @app.get("/items/{item_id}")
    async def item(value: dict = Depends(get_item)) -> dict:
        return value

    @app.get("/users/{user_id}/items/{item_id}")
    async def user_item(user_id: str, value: dict = Depends(get_item)) -> dict:
        return {"user": user_id, **value}

    client = TestClient(app)
    app.dependency_overrides[get_item] = lambda item_id: {"fake": item_id}
    # An unannotated path parameter is the text of the path segment, as for a handler.
    assert client.get("/items/3").json() == {"fake": "3"}
    assert client.get("/users/u/items/4").json() == {"user": "u", "fake": "4"}

    def typed_override(item_id: int, q: int = 0) -> dict:
        return {"fake": item_id, "q": q}

    app.dependency_overrides[get_item] = typed_override
    assert client.get("/items/5?q=2").json() == {"fake": 5, "q": 2}
    assert client.get("/items/5?q=x").status_code == 422
    app.dependency_overrides.clear()
    assert client.get("/items/6").json() == {"real": 6}


def test_dependency_override_reads_body_fields_the_route_did_not_have():
    import msgspec

    class Note(msgspec.Struct):
        text: str

    app = Faster()

    def current_note() -> str:
        return "stored"

    def note_from_body(note: Note) -> str:
        return note.text

    @app.post("/notes")
    async def notes(note: str = Depends(current_note)) -> dict:
        return {"note": note}

    @app.post("/echo")
    async def echo(note: str = Depends(note_from_body)) -> dict:
        return {"note": note}

    client = TestClient(app)
    app.dependency_overrides[current_note] = note_from_body
    assert client.post("/notes", json={"text": "sent"}).json() == {"note": "sent"}
    missing = client.post("/notes")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body"]
    assert client.post("/notes", json={"text": 1}).status_code == 422
    # An override that needs no body lifts the route's own body requirement.
    app.dependency_overrides[note_from_body] = current_note
    assert client.post("/echo").json() == {"note": "stored"}
    app.dependency_overrides.clear()
    assert client.post("/notes").json() == {"note": "stored"}
    assert client.post("/echo").status_code == 422


def test_partials_of_async_functions_and_generators_are_awaited():
    import functools

    app = Faster()
    closed: list[str] = []

    async def scaled(factor: int, q: int = 1) -> int:
        return factor * q

    async def resource(name: str):
        yield name
        closed.append(name)

    def sync_resource(name: str):
        yield name.upper()
        closed.append(name.upper())

    async def handler(
        prefix: str,
        a=Depends(functools.partial(scaled, 3)),
        b=Depends(functools.partial(resource, "db")),
        c=Depends(functools.partial(sync_resource, "fs")),
    ) -> dict:
        return {"text": prefix + str(a), "b": b, "c": c}

    app.add_api_route("/p", functools.partial(handler, "n="), methods=["GET"])
    client = TestClient(app)
    assert client.get("/p?q=2").json() == {"text": "n=6", "b": "db", "c": "FS"}
    assert sorted(closed) == ["FS", "db"]
