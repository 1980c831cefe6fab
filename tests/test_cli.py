"""The fasterapi command: run/dev (real servers), routes, new, migrate-from-fastapi."""

import subprocess
import sys
import time

import httpx
import pytest

from FasterAPI.cli import main
from servers import TESTS, free_port


def test_cli_routes_prints_the_table(capsys, monkeypatch):
    monkeypatch.chdir(TESTS)
    assert main(["routes", "serverapps.realtime:app"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["METHODS", "PATH", "NAME"]
    assert any(line.split()[:2] == ["GET", "/health"] for line in out)
    assert any(line.split()[:2] == ["WEBSOCKETROUTE", "/ws/{room}"] for line in out)


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
    assert "Cannot import 'nosuchmodule'" in capsys.readouterr().err


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


def test_cli_new_scaffolds_a_project_whose_tests_pass(tmp_path):
    assert main(["new", str(tmp_path / "shop")]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "shop",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
