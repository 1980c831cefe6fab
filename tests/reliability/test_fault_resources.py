"""Faults at exact points, then the resource oracles: no descriptor, task or temp file left.

``tests/test_faults.py`` checks what the client and the log see for each fault; these run the
faults that hold resources (uploads spooled to disk, streams, yield dependencies,
background work) and check that everything they opened is released. Each request runs on
one event loop whose asyncio tasks are counted before and after.
"""

from __future__ import annotations

import asyncio
import os

import anyio
import pytest

from FasterAPI import (
    BackgroundTasks,
    Depends,
    Faster,
    File,
    Request,
    StreamingResponse,
    UploadFile,
)
from FasterAPI.testclient import TestClient

BOUNDARY = b"fault-boundary"
ON_DISK = b"z" * (2 * 1024 * 1024)  # past UploadFile's 1 MiB spool


def upload_body(count: int = 2, data: bytes = ON_DISK) -> bytes:
    parts = [
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="files"; '
        b'filename="f%d"\r\n\r\n' % i + data + b"\r\n"
        for i in range(count)
    ]
    return b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"


def scope(method: str = "POST", path: str = "/", body_type: bool = True) -> dict:
    headers = [(b"host", b"test")]
    if body_type:
        headers.append((b"content-type", b"multipart/form-data; boundary=" + BOUNDARY))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("test", 1),
        "server": ("test", 80),
        "state": {},
        "extensions": {},
    }


class Peer:
    """Hands out the body in ``chunk``-sized messages, then disconnects (or waits, or fails)."""

    def __init__(self, body=b"", chunk=256 * 1024, cut_after=None, send_error=None, sends=None):
        pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
        if cut_after is not None:
            pieces = pieces[:cut_after]
            self.inbox = [{"type": "http.request", "body": p, "more_body": True} for p in pieces]
        else:
            self.inbox = [
                {"type": "http.request", "body": p, "more_body": i < len(pieces) - 1}
                for i, p in enumerate(pieces)
            ]
        self.sent: list[dict] = []
        self.send_error = send_error
        self.sends_before_error = sends
        self.gone = anyio.Event()

    async def receive(self):
        if self.inbox:
            return self.inbox.pop(0)
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message):
        if self.send_error is not None and (
            self.sends_before_error is None or len(self.sent) >= self.sends_before_error
        ):
            self.gone.set()
            raise self.send_error
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.gone.set()

    @property
    def status(self):
        starts = [m["status"] for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) <= 1, f"http.response.start sent twice: {self.sent}"
        return starts[0] if starts else None


def run_counting_tasks(app, request_scope, peer, *, raises=None) -> int:
    """Run one request; return how many asyncio tasks it left behind on the loop."""

    async def go():
        before = len(asyncio.all_tasks())
        with anyio.fail_after(10):
            if raises is None:
                await app(request_scope, peer.receive, peer.send)
            else:
                with pytest.raises(raises):
                    await app(request_scope, peer.receive, peer.send)
        for _ in range(5):  # let cancelled tasks finish
            await asyncio.sleep(0)
        return len(asyncio.all_tasks()) - before

    return anyio.run(go)


def upload_app(events: list[str]) -> Faster:
    app = Faster(max_body_size=64 * 1024 * 1024)

    async def resource():
        try:
            yield "r"
        finally:
            events.append("teardown")

    async def broken_resource():
        yield "r"
        raise RuntimeError("teardown bug")

    def background_bug():
        raise RuntimeError("background bug")

    @app.post("/")
    async def take(files: list[UploadFile] = File(), dep: str = Depends(resource)):
        events.append(f"handler {len(files)}")
        return {"n": len(files)}

    @app.post("/raise")
    async def take_and_raise(files: list[UploadFile] = File()):
        raise RuntimeError("handler bug")

    @app.post("/teardown-error")
    async def teardown_error(files: list[UploadFile] = File(), dep: str = Depends(broken_resource)):
        return {"n": len(files)}

    @app.post("/background-error")
    async def background_error(tasks: BackgroundTasks, files: list[UploadFile] = File()):
        tasks.add_task(background_bug)
        return {"n": len(files)}

    @app.post("/stream-after-upload")
    async def stream_after(files: list[UploadFile] = File()):
        async def chunks():
            try:
                for _ in range(100):
                    yield b"x" * 1024
                    await anyio.sleep(0.01)
            finally:
                events.append("stream closed")

        return StreamingResponse(chunks())

    @app.post("/raw")
    async def raw(request: Request):
        form = await request.form()
        return {"n": len(form.getlist("files"))}

    return app


def test_fault_upload_completes_and_releases_spooled_files(resources):
    events: list[str] = []
    peer = Peer(upload_body())
    assert run_counting_tasks(upload_app(events), scope(), peer) == 0
    assert peer.status == 200
    assert events == ["handler 2", "teardown"]
    resources.assert_clean()


@pytest.mark.parametrize("cut_after", [1, 9, 12])
def test_fault_disconnect_mid_upload_releases_spooled_files(resources, cut_after):
    # 256 KiB messages: after 9 the first file is on disk; after 12 the second one is too.
    events: list[str] = []
    peer = Peer(upload_body(), cut_after=cut_after)
    peer.gone.set()
    assert run_counting_tasks(upload_app(events), scope(), peer) == 0
    assert peer.status == 400  # a broken body; dropped when the client is gone
    assert events == []  # neither the handler nor the dependency ran
    resources.assert_clean()


def test_fault_disconnect_mid_upload_through_request_form_releases_files(resources):
    peer = Peer(upload_body(), cut_after=12)
    peer.gone.set()
    assert run_counting_tasks(upload_app([]), scope(path="/raw"), peer) == 0
    assert peer.status == 400
    resources.assert_clean()


def test_fault_handler_error_after_upload_releases_files(resources):
    peer = Peer(upload_body())
    leftover = run_counting_tasks(upload_app([]), scope(path="/raise"), peer, raises=RuntimeError)
    assert leftover == 0
    assert peer.status == 500
    resources.assert_clean()


def test_fault_dependency_teardown_error_releases_files(resources):
    peer = Peer(upload_body())
    app = upload_app([])
    leftover = run_counting_tasks(app, scope(path="/teardown-error"), peer, raises=RuntimeError)
    assert leftover == 0
    assert peer.status == 500
    resources.assert_clean()


def test_fault_background_error_releases_files(resources):
    peer = Peer(upload_body())
    app = upload_app([])
    leftover = run_counting_tasks(app, scope(path="/background-error"), peer, raises=RuntimeError)
    assert leftover == 0
    assert peer.status == 200
    resources.assert_clean()


def test_fault_send_oserror_mid_stream_releases_files_and_generator(resources):
    events: list[str] = []
    peer = Peer(upload_body(), send_error=OSError("connection reset"), sends=3)
    app = upload_app(events)
    # A stream reads a failing send as the client gone (ASGI 2.4): it stops quietly.
    assert run_counting_tasks(app, scope(path="/stream-after-upload"), peer) == 0
    assert peer.status == 200
    assert events == ["stream closed"]
    resources.assert_clean()


def test_fault_client_leaves_mid_stream_releases_files_and_generator(resources):
    events: list[str] = []
    peer = Peer(upload_body())

    async def leave_soon():
        await anyio.sleep(0.1)
        peer.gone.set()

    app = upload_app(events)

    async def go():
        before = len(asyncio.all_tasks())
        async with anyio.create_task_group() as group:
            group.start_soon(leave_soon)
            with anyio.fail_after(5):
                await app(scope(path="/stream-after-upload"), peer.receive, peer.send)
        for _ in range(5):
            await asyncio.sleep(0)
        return len(asyncio.all_tasks()) - before

    assert anyio.run(go) == 0
    assert events == ["stream closed"]
    assert 1 < len(peer.sent) < 100  # it stopped early
    resources.assert_clean()


def test_fault_many_uploads_in_one_session_leave_nothing(resources):
    app = upload_app([])
    body = upload_body(count=3, data=b"q" * (1024 * 1024 + 1))
    headers = {"content-type": "multipart/form-data; boundary=" + BOUNDARY.decode()}
    with TestClient(app, raise_server_exceptions=False) as client:
        resources.watch(client)
        for path in ("/", "/raise", "/teardown-error", "/background-error", "/raw"):
            for _ in range(3):
                assert client.post(path, content=body, headers=headers).status_code in (200, 500)
        resources.assert_clean()


def test_fault_demo_csv_export_deletes_its_temporary_file(resources, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    import importlib

    import examples.demo.database
    import examples.demo.main

    importlib.reload(examples.demo.database)
    importlib.reload(examples.demo.main)
    with TestClient(examples.demo.main.app) as client:
        resources.watch(client)
        for _ in range(3):
            response = client.get("/items/export.csv")
            assert response.status_code == 200
        resources.assert_clean()
    assert os.listdir(resources.tmp_dir) == []
