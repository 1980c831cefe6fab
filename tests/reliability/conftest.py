"""Resource oracles for the reliability tests: after a test, nothing it opened is left open.

``resources`` snapshots the process's open file descriptors (``/proc/self/fd``) and the
files in a private temporary directory (``tempfile`` is pointed at it for the test), and,
for a ``TestClient`` registered with ``resources.watch(client)``, the asyncio tasks on the
client's event loop. ``resources.assert_clean()`` (call it while the client is still open)
and the fixture's teardown check that each is back to its baseline: an uploaded file never
closed, a task that outlived its request or a temporary file never deleted fails the test
that caused it.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: real-server and long-running reliability tests")


def open_fds() -> dict[int, str]:
    """Open descriptor -> what it points at (the listing's own descriptor is gone by then)."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
    return found


async def _task_count() -> int:
    return len(asyncio.all_tasks())


class Resources:
    def __init__(self, tmp_dir: str) -> None:
        self.tmp_dir = tmp_dir
        self.fds = open_fds()
        self.clients: list[tuple[object, int]] = []

    def watch(self, client):
        """Note ``client``'s asyncio task count now (it must be inside its ``with``)."""
        self.fds = open_fds()  # its event loop's own descriptors belong to the baseline
        self.clients.append((client, self.tasks(client)))
        return client

    @staticmethod
    def tasks(client) -> int:
        return client._portal.call(_task_count)

    def leaks(self) -> list[str]:
        found = []
        for client, baseline in self.clients:
            count = self.tasks(client)
            if count != baseline:
                found.append(f"{count - baseline} asyncio task(s) left on the client's loop")
        extra = set(open_fds().items()) - set(self.fds.items())
        if extra:
            found.append(f"{len(extra)} file descriptor(s) left open: {sorted(extra)}")
        left = os.listdir(self.tmp_dir)
        if left:
            found.append(f"temporary files left: {left}")
        return found

    def assert_clean(self, timeout: float = 2.0) -> None:
        # Work that finishes just after the response (a thread closing a file) gets a moment.
        deadline = time.monotonic() + timeout
        while (leaks := self.leaks()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert leaks == []
        self.clients.clear()


@pytest.fixture
def resources(tmp_path, monkeypatch):
    tmp_dir = tmp_path / "tmp"
    tmp_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_dir))
    tracker = Resources(str(tmp_dir))
    yield tracker
    tracker.clients.clear()  # their loops are closed by now; assert_clean checked them
    tracker.assert_clean()
