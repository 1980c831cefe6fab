"""Jinja2Templates and TemplateResponse through HTTP, sync and async rendering."""

import jinja2
import pytest

from FasterAPI import BackgroundTasks, Faster, Request
from FasterAPI.background import BackgroundTask
from FasterAPI.response import HTMLResponse
from FasterAPI.staticfiles import StaticFiles
from FasterAPI.templating import Jinja2Templates, TemplateResponse
from FasterAPI.testclient import TestClient


@pytest.fixture
def template_dir(tmp_path):
    (tmp_path / "base.html").write_text(
        "<title>{% block title %}{% endblock %}</title>{% block body %}{% endblock %}"
    )
    (tmp_path / "item.html").write_text(
        '{% extends "base.html" %}{% block title %}Item {{ id }}{% endblock %}'
        "{% block body %}<p>{{ name }}</p><a href=\"{{ url_for('read_item', item_id=id) }}\">"
        "self</a> <link href=\"{{ url_for('static', path='/app.css') }}\">"
        "{{ request.url.path }}{% endblock %}"
    )
    (tmp_path / "plain.txt").write_text("{{ greeting }}, {{ user }}")
    (tmp_path / "async.html").write_text("{{ await_me() }}")
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.css").write_text("body {}")
    return tmp_path


def build_app(templates, static_dir=None) -> Faster:
    app = Faster()
    if static_dir is not None:
        app.mount("/static", StaticFiles(directory=static_dir), name="static")

    @app.get("/items/{item_id}", response_class=HTMLResponse)
    def read_item(request: Request, item_id: int):
        return templates.TemplateResponse(
            request, "item.html", {"id": item_id, "name": "<b>Widget</b>"}
        )

    return app


def test_template_response_renders_with_url_for_and_escaping(template_dir):
    templates = Jinja2Templates(directory=template_dir)
    client = TestClient(build_app(templates, template_dir / "static"))
    response = client.get("/items/7")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == (
        "<title>Item 7</title><p>&lt;b&gt;Widget&lt;/b&gt;</p>"
        '<a href="http://testserver/items/7">self</a> '
        '<link href="http://testserver/static/app.css">/items/7'
    )
    assert client.get("/static/app.css").text == "body {}"


def test_template_response_keeps_template_and_context(template_dir):
    templates = Jinja2Templates(directory=str(template_dir))
    app = Faster()
    seen = {}

    @app.get("/")
    def index(request: Request):
        response = templates.TemplateResponse(
            request, "plain.txt", {"greeting": "Hi", "user": "ann"}
        )
        seen["response"] = response
        return response

    assert TestClient(app).get("/").text == "Hi, ann"
    response = seen["response"]
    assert isinstance(response, TemplateResponse)
    assert isinstance(response, HTMLResponse)
    assert response.template.name == "plain.txt"
    assert response.context["user"] == "ann"
    assert isinstance(response.context["request"], Request)


def test_template_response_status_headers_media_type_background(template_dir):
    templates = Jinja2Templates(directory=template_dir)
    app = Faster()
    done = []

    @app.get("/")
    def index(request: Request):
        return templates.TemplateResponse(
            request,
            "plain.txt",
            {"greeting": "Gone", "user": "x"},
            status_code=410,
            headers={"X-Reason": "moved"},
            media_type="text/plain",
            background=BackgroundTask(done.append, "sent"),
        )

    response = TestClient(app).get("/")
    assert response.status_code == 410
    assert response.headers["x-reason"] == "moved"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "Gone, x"
    assert done == ["sent"]


def test_template_response_legacy_name_context_form(template_dir):
    templates = Jinja2Templates(directory=template_dir)
    app = Faster()

    @app.get("/")
    def index(request: Request):
        return templates.TemplateResponse(
            "plain.txt", {"request": request, "greeting": "Yo", "user": "b"}
        )

    assert TestClient(app).get("/").text == "Yo, b"
    with pytest.raises(ValueError, match="request"):
        templates.TemplateResponse("plain.txt", {"greeting": "no request"})


def test_template_response_keywords_with_the_request_in_the_context(template_dir):
    templates = Jinja2Templates(directory=template_dir)
    app = Faster()

    @app.get("/")
    def index(request: Request):
        context = {"request": request, "greeting": "Hi", "user": "k"}
        return templates.TemplateResponse(name="plain.txt", context=context)

    assert TestClient(app).get("/").text == "Hi, k"
    with pytest.raises(ValueError, match="request"):
        templates.TemplateResponse(name="plain.txt", context={"greeting": "no request"})


def test_template_context_processors(template_dir):
    def user(request: Request):
        return {"user": request.headers.get("x-user", "guest"), "greeting": "Hello"}

    templates = Jinja2Templates(directory=template_dir, context_processors=[user])
    app = Faster()

    @app.get("/")
    def index(request: Request):
        return templates.TemplateResponse(request, "plain.txt")

    @app.get("/override")
    def override(request: Request):
        return templates.TemplateResponse(request, "plain.txt", {"greeting": "Bye"})

    client = TestClient(app)
    assert client.get("/", headers={"X-User": "zed"}).text == "Hello, zed"
    assert client.get("/override").text == "Bye, guest"


def test_template_async_rendering_awaits_async_functions(template_dir):
    templates = Jinja2Templates(directory=template_dir, enable_async=True)
    app = Faster()

    async def await_me():
        return "from a coroutine"

    @app.get("/")
    async def index(request: Request, tasks: BackgroundTasks):
        response = templates.TemplateResponse(request, "async.html", {"await_me": await_me})
        assert response.body == b""  # rendered when sent
        return response

    client = TestClient(app)
    response = client.get("/")
    assert response.text == "from a coroutine"
    assert response.headers["content-length"] == str(len("from a coroutine"))
    head = client.head("/")
    assert head.headers["content-length"] == str(len("from a coroutine"))
    assert head.content == b""


def test_template_async_with_no_body_status(template_dir):
    templates = Jinja2Templates(directory=template_dir, enable_async=True)
    app = Faster()

    @app.get("/")
    async def index(request: Request):
        return templates.TemplateResponse(request, "plain.txt", status_code=204)

    response = TestClient(app).get("/")
    assert response.status_code == 204
    assert response.content == b""


def test_templates_from_env(template_dir):
    env = jinja2.Environment(loader=jinja2.DictLoader({"hi.html": "hi {{ url_for('home') }}"}))
    templates = Jinja2Templates(env=env)
    app = Faster()

    @app.get("/", name="home")
    def home(request: Request):
        return templates.TemplateResponse(request, "hi.html")

    assert TestClient(app).get("/").text == "hi http://testserver/"
    assert templates.env is env


def test_templates_configuration_errors(template_dir):
    with pytest.raises(ValueError):
        Jinja2Templates()
    with pytest.raises(ValueError):
        Jinja2Templates(directory=template_dir, env=jinja2.Environment())
    with pytest.raises(ValueError):
        Jinja2Templates(env=jinja2.Environment(), enable_async=True)


def test_template_missing_is_an_error(template_dir):
    templates = Jinja2Templates(directory=template_dir)
    app = Faster()

    @app.get("/")
    def index(request: Request):
        return templates.TemplateResponse(request, "missing.html")

    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    with pytest.raises(jinja2.TemplateNotFound):
        TestClient(app).get("/")
