"""A small DevTools-protocol driver for Debian's headless Chromium (installed by
scripts/install-system-deps; nothing is downloaded).

Host names other than 127.0.0.1 do not resolve in this browser, so a page that works
here loaded everything from the local server; every URL it requested is recorded too.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--window-size=1280,1600",
    # The outside world is closed: only 127.0.0.1 resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--remote-debugging-port=0",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    """One browser tab, driven over its DevTools websocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0)))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", url=url)

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll ``expression`` until it is truthy; its last value is in the error otherwise."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"{expression!r} stayed {value!r} for {timeout} s")

    def click(self, selector: str, timeout: float = 30.0) -> None:
        """Click the first element matching ``selector`` once it exists."""
        target = json.dumps(selector)
        self.wait_for(
            f"(e => e ? (e.click(), true) : false)(document.querySelector({target}))", timeout
        )

    def requested_urls(self) -> list[str]:
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event["method"] == "Network.requestWillBeSent"
        ]

    def failed_requests(self) -> list[dict[str, Any]]:
        return [e["params"] for e in self.events if e["method"] == "Network.loadingFailed"]

    def console_errors(self) -> list[str]:
        errors = []
        for event in self.events:
            if event["method"] == "Runtime.exceptionThrown":
                errors.append(str(event["params"]["exceptionDetails"].get("text")))
        return errors

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], timeout: float) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(marker.read_text().splitlines()[0])
        time.sleep(0.05)
    raise TimeoutError(f"chromium did not open its DevTools port within {timeout} s")


@contextlib.contextmanager
def open_page(executable: str, timeout: float = 30.0) -> Iterator[Page]:
    """Start a fresh Chromium profile and yield its first tab with Network/Runtime events on."""
    with tempfile.TemporaryDirectory(
        prefix="fasterapi-chromium-", ignore_cleanup_errors=True
    ) as folder:
        profile = Path(folder, "profile")
        log_path = Path(folder, "chromium.log")
        log = log_path.open("wb")
        command = [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"]
        # A session of its own, so its helper processes are ended with it.
        process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        try:
            try:
                port = _devtools_port(profile, process, timeout)
            except (RuntimeError, TimeoutError) as exc:
                output = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{exc}; chromium said:\n{output}") from exc
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                targets = json.load(r)
            url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            with connect(url, max_size=None, open_timeout=timeout) as socket:
                page = Page(socket)
                page.send("Page.enable")
                page.send("Network.enable")
                page.send("Runtime.enable")
                yield page
        finally:
            _stop(process)
            log.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End Chromium and its helpers: the process group led by the process we started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # Helpers may outlive the browser process for a moment.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
