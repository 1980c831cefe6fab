"""The fasterapi command: run/dev (real servers), routes, new, migrate-from-fastapi."""

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from FasterAPI.cli import main
from servers import TESTS, free_port

ROOT = TESTS.parent


def test_cli_routes_prints_the_table(capsys, monkeypatch):
    monkeypatch.chdir(TESTS)
    assert main(["routes", "serverapps.realtime:app"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["METHODS", "PATH", "NAME"]
    assert any(line.split()[:2] == ["GET", "/health"] for line in out)
    assert any(line.split()[:2] == ["WS", "/ws/{room}"] for line in out)


def test_cli_discovers_main_app(tmp_path, monkeypatch, capsys):
    (tmp_path / "main.py").write_text(
        "from FasterAPI import Faster\napp = Faster()\n"
        "@app.get('/x')\nasync def x():\n    return 1\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["routes"]) == 0
    assert "/x" in capsys.readouterr().out


def test_cli_missing_app_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["routes", "nosuchmodule:app"]) == 2
    assert capsys.readouterr().err == (
        "fasterapi: Cannot import 'nosuchmodule': no module named 'nosuchmodule'\n"
    )


@pytest.mark.parametrize(
    ("server", "interface"), [("granian", "rsgi"), ("granian", "asgi"), ("uvicorn", "asgi")]
)
def test_cli_run_serves_on_each_server(server, interface):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "FasterAPI",
            "run",
            "serverapps.realtime:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--server",
            server,
            "--interface",
            interface,
            "--log-level",
            "warning",
        ],
        cwd=TESTS,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        assert banner.strip() == (
            f"FasterAPI: serving serverapps.realtime:app on http://127.0.0.1:{port} "
            f"({server}, {interface}, 1 worker)"
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.json() == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(10)


def test_cli_uvicorn_refuses_rsgi(capsys, monkeypatch):
    monkeypatch.chdir(TESTS)
    code = main(["run", "serverapps.realtime:app", "--server", "uvicorn", "--interface", "rsgi"])
    assert code == 2
    assert "ASGI only" in capsys.readouterr().err


# -- serving a project of one's own, as a user would -------------------------------------

APP_V = """from FasterAPI import Faster

app = Faster()


@app.get("/version")
async def version():
    return {{"version": {version}}}
"""

PROXY_APP = """from FasterAPI import Faster, Request

app = Faster()


@app.get("/items/{item_id}", name="item")
async def item(item_id: int, request: Request):
    return {
        "client": request.client.host,
        "scheme": request.url.scheme,
        "url": str(request.url),
        "root_path": request.scope.get("root_path"),
        "other": str(request.url_for("item", item_id=7)),
    }
"""


def fasterapi(*args, cwd, timeout=20):
    """Run the command to its end (it must not start serving: if it does, its process
    group, server workers included, is killed after ``timeout`` seconds)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "FasterAPI", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def start(*args, cwd, stderr=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "FasterAPI", *args, "--log-level", "warning"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )


def stop(process):
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)  # the group this test started
        process.wait()


def poll(process, url, until, seconds=20, client=httpx):
    """GET ``url`` until ``until(response or error)`` holds; returns the last answer."""
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, "the server exited"
        try:
            answer = client.get(url, timeout=1)
        except httpx.TransportError as exc:
            answer = exc
        if until(answer):
            return answer
        assert time.monotonic() < deadline, f"still {answer!r}"
        time.sleep(0.1)


def answered(response):
    return isinstance(response, httpx.Response)


def test_cli_dev_serves_each_edit(tmp_path):
    main_py = tmp_path / "main.py"
    main_py.write_text(APP_V.format(version=1))
    port = free_port()
    url = f"http://127.0.0.1:{port}/version"
    process = start("dev", "--port", str(port), cwd=tmp_path)
    try:
        assert process.stdout.readline().strip() == (
            f"FasterAPI: serving main:app on http://127.0.0.1:{port} "
            "(granian, rsgi, 1 worker, reload)"
        )
        assert poll(process, url, answered).json() == {"version": 1}
        main_py.write_text(APP_V.format(version=2))
        poll(process, url, lambda r: answered(r) and r.json() == {"version": 2})
        # A broken edit stops the old code; the next good one is served.
        main_py.write_text(APP_V.format(version=2) + "def broken(:\n")
        poll(process, url, lambda r: not answered(r))
        main_py.write_text(APP_V.format(version=3))
        poll(process, url, lambda r: answered(r) and r.json() == {"version": 3})
    finally:
        stop(process)


def test_cli_run_serves_with_several_workers(tmp_path):
    (tmp_path / "main.py").write_text(APP_V.format(version=1))
    port = free_port()
    process = start(
        "run", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", cwd=tmp_path
    )
    try:
        assert process.stdout.readline().strip().endswith("(granian, rsgi, 2 workers)")
        url = f"http://127.0.0.1:{port}/version"
        assert poll(process, url, answered).json() == {"version": 1}
    finally:
        stop(process)


IN_USE = "fasterapi: cannot listen on 127.0.0.1:{port}: address already in use\n"


def test_cli_run_refuses_a_port_granian_serves(tmp_path):
    (tmp_path / "main.py").write_text(APP_V.format(version=1))
    port = free_port()
    first = start("run", "--host", "127.0.0.1", "--port", str(port), cwd=tmp_path)
    try:
        poll(first, f"http://127.0.0.1:{port}/version", answered)
        second = fasterapi("run", "--host", "127.0.0.1", "--port", str(port), cwd=tmp_path)
        assert (second.returncode, second.stderr) == (2, IN_USE.format(port=port))
    finally:
        stop(first)


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_cli_run_refuses_a_port_another_program_holds(tmp_path, server):
    (tmp_path / "main.py").write_text(APP_V.format(version=1))
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        args = ("run", "--server", server, "--host", "127.0.0.1", "--port", str(port))
        result = fasterapi(*args, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, IN_USE.format(port=port))


@pytest.mark.parametrize(
    ("server", "interface"), [("granian", "rsgi"), ("granian", "asgi"), ("uvicorn", "asgi")]
)
def test_cli_run_root_path_and_proxy_headers(tmp_path, server, interface):
    (tmp_path / "main.py").write_text(PROXY_APP)
    port = free_port()
    args = ["run", "--host", "127.0.0.1", "--port", str(port), "--root-path", "/api"]
    args += ["--server", server, "--interface", interface, "--forwarded-allow-ips", "127.0.0.1"]
    process = start(*args, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}/items/1"  # the proxy took /api off
    headers = {
        "host": "example.com",
        "x-forwarded-for": "198.51.100.7, 203.0.113.9",
        "x-forwarded-proto": "https",
    }
    try:
        poll(process, url, answered)
        proxied = httpx.get(url, headers=headers, timeout=5).json()
        assert proxied == {
            "client": "203.0.113.9",
            "scheme": "https",
            "url": "https://example.com/api/items/1",
            "root_path": "/api",
            "other": "https://example.com/api/items/7",
        }
        # The same headers from a peer that is not an allowed proxy change nothing.
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(transport=transport, timeout=5) as stranger:
            direct = stranger.get(url, headers=headers).json()
        assert direct["client"] == "127.0.0.2"
        assert direct["url"] == "http://example.com/api/items/1"
    finally:
        stop(process)


STREAM_APP = """import asyncio

from FasterAPI import EventSourceResponse, Faster

app = Faster()


@app.get("/health")
async def health():
    return {"ok": True}


@app.get("/events")
async def events():
    async def ticks():
        n = 0
        while True:
            n += 1
            yield {"n": n}
            await asyncio.sleep(0.1)

    return EventSourceResponse(ticks())
"""


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_cli_run_stops_after_the_grace_period_while_a_stream_is_open(tmp_path, server):
    (tmp_path / "main.py").write_text(STREAM_APP)
    port = free_port()
    args = ["run", "--host", "127.0.0.1", "--port", str(port), "--server", server]
    process = start(*args, "--timeout-graceful-shutdown", "1", cwd=tmp_path)
    try:
        poll(process, f"http://127.0.0.1:{port}/health", answered)
        with httpx.stream("GET", f"http://127.0.0.1:{port}/events", timeout=10) as events:
            lines = events.iter_lines()
            assert next(line for line in lines if line.startswith("data:")) == 'data: {"n":1}'
            process.terminate()
            # Without the grace period the server waits for the endless stream forever.
            process.wait(15)
            assert process.returncode is not None
    finally:
        stop(process)


BROKEN_MODULES = {
    "raises": ("import helper\nhelper.boom()\n", "RuntimeError: boom at import"),
    "syntax": ("def broken(:\n", "SyntaxError: invalid syntax"),
    "dependency": (
        "import nosuchdependency\n",
        "ModuleNotFoundError: No module named 'nosuchdependency'",
    ),
}


@pytest.mark.parametrize("broken", sorted(BROKEN_MODULES))
@pytest.mark.parametrize("command", [["routes"], ["run", "main:app"], ["dev"]])
def test_cli_module_that_fails_to_import_shows_its_own_frames(tmp_path, broken, command):
    source, last_line = BROKEN_MODULES[broken]
    (tmp_path / "helper.py").write_text("def boom():\n    raise RuntimeError('boom at import')\n")
    (tmp_path / "main.py").write_text(source)
    if command[0] != "routes":
        command = [*command, "--host", "127.0.0.1", "--port", str(free_port())]
    result = fasterapi(*command, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "fasterapi: error while importing main:app:"
    assert lines[-1] == last_line
    assert f'File "{tmp_path / "main.py"}", line ' in result.stderr
    assert "importlib" not in result.stderr and "FasterAPI" not in result.stderr


@pytest.mark.parametrize(
    ("app", "error"),
    [
        (":app", "invalid app ':app': expected module:attribute, such as main:app"),
        ("../x:app", "invalid app '../x:app': expected module:attribute, such as main:app"),
        ("main:", "invalid app 'main:': expected module:attribute, such as main:app"),
        ("nosuchmodule:app", "Cannot import 'nosuchmodule': no module named 'nosuchmodule'"),
        ("main:nosuch", "'main' has no attribute 'nosuch'"),
        (
            "main:number",
            "main:number is not an app but int 42; "
            "expected an ASGI app (a callable) or an RSGI app (with __rsgi__)",
        ),
    ],
)
@pytest.mark.parametrize("command", ["routes", "run", "dev"])
def test_cli_bad_app_is_one_line(tmp_path, app, error, command):
    (tmp_path / "main.py").write_text(APP_V.format(version=1) + "number = 42\n")
    args = [command, app]
    if command != "routes":
        args += ["--host", "127.0.0.1", "--port", str(free_port())]
    result = fasterapi(*args, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"fasterapi: {error}\n")


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("--workers", "0", "argument --workers: needs at least 1 worker, not 0"),
        ("--workers", "-1", "argument --workers: needs at least 1 worker, not -1"),
        ("--workers", "two", "argument --workers: not a number: 'two'"),
        ("--port", "99999", "argument --port: 99999 is not a port number (0 to 65535)"),
        ("--port", "-1", "argument --port: -1 is not a port number (0 to 65535)"),
        ("--port", "http", "argument --port: not a port number: 'http'"),
        (
            "--timeout-graceful-shutdown",
            "0",
            "argument --timeout-graceful-shutdown: must be 1 to 1800 seconds, not 0",
        ),
    ],
)
def test_cli_run_checks_numbers(tmp_path, option, value, error):
    (tmp_path / "main.py").write_text(APP_V.format(version=1))
    result = fasterapi("run", "--host", "127.0.0.1", f"{option}={value}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"fasterapi run: error: {error}"


def test_cli_routes_lists_what_the_app_serves(tmp_path, monkeypatch, capsys):
    (tmp_path / "main.py").write_text(
        "from FasterAPI import Faster\n"
        "app = Faster()\n"
        "app.mount('/sub', Faster(), name='sub')\n"
        "@app.websocket('/ws')\n"
        "async def ws(websocket):\n"
        "    pass\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "main", raising=False)  # another test's main.py
    assert main(["routes"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[1:5] == [
        ["GET", "/openapi.json", "openapi"],
        ["GET", "/docs", "swagger_ui_html"],
        ["GET", "/docs/oauth2-redirect", "swagger_ui_redirect"],
        ["GET", "/redoc", "redoc_html"],
    ]
    assert ["MOUNT", "/sub", "sub"] in rows
    assert ["WS", "/ws", "ws"] in rows


@pytest.mark.parametrize(
    "name", ["bad name", "bad name/x", "x/y", "/tmp/x", "..", "_x", ".x", "x-", ""]
)
def test_cli_new_refuses_a_name_that_is_not_a_plain_project_name(
    tmp_path, monkeypatch, capsys, name
):
    monkeypatch.chdir(tmp_path)
    assert main(["new", name]) == 2
    assert capsys.readouterr().err.startswith(f"fasterapi: invalid project name {name!r}: ")
    assert list(tmp_path.iterdir()) == []


def test_cli_new_refuses_a_directory_in_use(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "notes.txt").write_text("mine")
    assert main(["new", "shop"]) == 2
    assert capsys.readouterr().err == (
        "fasterapi: shop already exists and is not an empty directory\n"
    )
    assert [path.name for path in (tmp_path / "shop").iterdir()] == ["notes.txt"]


def test_cli_new_project_is_installable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "shop"]) == 0
    # What pip runs first for `pip install -e .`: setuptools reads pyproject.toml and
    # finds the project's modules (a flat layout with two modules made it give up).
    metadata = tmp_path / "metadata"
    metadata.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()"]
        + ["egg_info", "--egg-base", str(metadata)],
        cwd=tmp_path / "shop",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (metadata / "shop.egg-info" / "top_level.txt").read_text().split() == ["main"]


def test_cli_new_scaffolds_a_project_whose_tests_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "shop"]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "shop",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_cli_run_says_proxy_headers_skip_an_app_that_is_not_faster(tmp_path):
    (tmp_path / "main.py").write_text(
        APP_V.format(version=1)
        + "\n\ninner = app\n\n\nasync def app(scope, receive, send):  # noqa: F811\n"
        + "    await inner(scope, receive, send)\n"
    )
    port = free_port()
    process = start(
        "run", "--host", "127.0.0.1", "--port", str(port), cwd=tmp_path, stderr=subprocess.PIPE
    )
    try:
        url = f"http://127.0.0.1:{port}/version"
        assert poll(process, url, answered).json() == {"version": 1}
    finally:
        stop(process)
    assert "main:app is not a Faster app: X-Forwarded-For" in process.stderr.read()
