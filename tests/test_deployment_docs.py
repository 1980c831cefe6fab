"""docs/deployment.md and the files in docs/deploy/: the Kubernetes manifests parse and
agree with each other and with the demo app, the commands in the guide parse, and, when
nginx or gunicorn is installed, the demo really runs behind them (SSE and websockets
through nginx, two uvicorn workers under gunicorn)."""

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from websockets.sync.client import connect as ws_connect

from FasterAPI.cli import build_parser
from servers import free_port, serve

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
DEPLOY = DOCS / "deploy"


def manifest(name):
    documents = [doc for doc in yaml.safe_load_all((DEPLOY / name).read_text()) if doc]
    assert len(documents) == 1
    return documents[0]


def test_deployment_docs_kubernetes_manifests_agree_with_each_other():
    deployment = manifest("deployment.yaml")
    service = manifest("service.yaml")
    hpa = manifest("hpa.yaml")
    assert (deployment["kind"], service["kind"], hpa["kind"]) == (
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
    )
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    (container,) = pod["spec"]["containers"]
    port_names = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in port_names
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert container["resources"]["requests"]["cpu"]  # the HPA's CPU target needs it
    # The container runs the CLI, on the port it declares.
    args = build_parser().parse_args(container["command"][1:])
    assert container["command"][0] == "fasterapi" and args.command == "run"
    assert args.port == port_names["http"] and args.workers >= 2
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] in port_names


def test_deployment_docs_probes_are_endpoints_of_the_demo(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.delenv("DEMO_REDIS_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    import importlib

    import examples.demo.database
    import examples.demo.live
    import examples.demo.main
    from FasterAPI.testclient import TestClient

    for module in (examples.demo.database, examples.demo.live, examples.demo.main):
        importlib.reload(module)
    container = manifest("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
    paths = {container[probe]["httpGet"]["path"] for probe in container if "Probe" in probe}
    assert paths == {"/health", "/ready"}
    with TestClient(examples.demo.main.app) as client:
        for path in paths:
            assert client.get(path).status_code == 200


def shell_commands(program):
    """The commands for ``program`` in the guide's sh blocks, without env assignments."""
    text = (DOCS / "deployment.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            words = shlex.split(command)
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words.pop(0)
            if words and words[0] == program:
                commands.append(words[1:])
    return commands


def test_deployment_docs_fasterapi_commands_parse():
    commands = shell_commands("fasterapi")
    assert len(commands) >= 2
    for words in commands:
        args = build_parser().parse_args(words)
        assert args.command == "run" and args.app == "examples.demo:app"


def test_deployment_docs_links_and_gunicorn_config_exist():
    text = (DOCS / "deployment.md").read_text()
    for link in re.findall(r"\]\((deploy/[^)]+)\)", text):
        assert (DOCS / link).is_file(), link
    (words,) = shell_commands("gunicorn")
    assert words[:2] == ["-c", "docs/deploy/gunicorn.conf.py"]
    settings: dict = {}
    exec((DEPLOY / "gunicorn.conf.py").read_text(), settings)
    assert settings["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert settings["workers"] >= 1 and settings["bind"]


# -- nginx and gunicorn, when installed ------------------------------------------------------


def nginx_config(tmp_path, app_port, port):
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path / kind};" for kind in ("proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"""
        pid {tmp_path / "nginx.pid"};
        error_log stderr warn;
        worker_processes 1;
        {"user root;" if os.geteuid() == 0 else ""}
        events {{ worker_connections 64; }}
        http {{
            access_log off;
            client_body_temp_path {tmp_path / "body"};
            {temp}
            include {tmp_path / "site.conf"};
        }}
    """
    (tmp_path / "nginx.conf").write_text(main)
    return tmp_path / "nginx.conf"


def nginx_binary():
    binary = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if binary is None:
        pytest.fail("nginx is not installed: run scripts/install-system-deps")
    return binary


def test_deployment_docs_nginx_config_passes_nginx_t(tmp_path):
    config = nginx_config(tmp_path, 8000, free_port())
    result = subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def wait_for_port(port, process, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "the process exited"
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listening on {port}"
            time.sleep(0.05)


def stop(process):
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group this test started
        process.wait()


def test_deployment_docs_nginx_passes_sse_and_websockets_through(tmp_path, monkeypatch):
    binary = nginx_binary()
    monkeypatch.setenv("DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.delenv("DEMO_REDIS_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with serve("granian-rsgi", "examples.demo:app") as app_address:
        port = free_port()
        config = nginx_config(tmp_path, int(app_address.rsplit(":", 1)[1]), port)
        command = [binary, "-p", str(tmp_path), "-c", str(config), "-g", "daemon off;"]
        nginx = subprocess.Popen(command, start_new_session=True)
        try:
            wait_for_port(port, nginx)
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=10, trust_env=False) as client:
                assert client.get("/health").json() == {"status": "ok"}
                form = {"username": "demo", "password": "demo-password"}
                token = client.post("/token", data=form).json()["access_token"]
                with client.stream("GET", "/events") as events:
                    lines = events.iter_lines()
                    assert next(lines) == ": subscribed"  # reached us unbuffered
                    created = client.post(
                        "/items",
                        json={"name": "via-nginx", "price": 1},
                        headers={"authorization": f"Bearer {token}"},
                    )
                    assert created.status_code == 201
                    data = next(line for line in lines if line.startswith("data: "))
                    assert json.loads(data[6:])["name"] == "via-nginx"
            url = f"ws://127.0.0.1:{port}/ws/chat/lobby?name=ann"
            with ws_connect(url, proxy=None, open_timeout=10) as websocket:
                joined = json.loads(websocket.recv(timeout=10))
                assert joined["text"] == "ann joined"
        finally:
            stop(nginx)


def test_deployment_docs_gunicorn_runs_uvicorn_workers(tmp_path):
    if not (_importable("gunicorn") and _importable("uvicorn_worker")):
        pytest.fail("gunicorn and uvicorn-worker are missing: install the test extra")
    port = free_port()
    env = {
        **os.environ,
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "PYTHONPATH": str(ROOT),
        "DEMO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
    }
    env.pop("DEMO_REDIS_URL", None)
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "gunicorn", "-c", "docs/deploy/gunicorn.conf.py"]
    command.append("examples.demo:app")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_for_port(port, process)
        pids = set()
        deadline = time.monotonic() + 20
        while len(pids) < 2:
            assert time.monotonic() < deadline, f"only workers {pids} answered"
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/ready", trust_env=False)
            except httpx.TransportError:
                continue
            assert response.status_code == 200
            pids.add(response.headers["x-worker-pid"])
    finally:
        stop(process)


def _importable(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None
