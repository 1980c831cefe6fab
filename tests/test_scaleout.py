"""The demo app as a scaled-out deployment: two Granian worker processes on 127.0.0.1 and
one real redis-server, driven over HTTP, SSE and websockets like clients would.

It proves that state is shared through Redis, not kept per process: a rate limit counted
across workers, a response cached by one worker served as a HIT by the other, an SSE
client on one worker receiving an event published by a request on the other, chat
messages crossing between workers; then that killing Redis degrades every one of those
to per-process behaviour with no 5xx, and that all of them recover when Redis is back,
with the SSE and websocket clients connected since before the outage still subscribed.

Workers are told apart by the demo's ``X-Worker-Pid`` header (chat messages carry the
publishing worker's pid). A request reaches a given worker by opening new connections
until the kernel hands one to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from servers import free_port

pytest_plugins = ["redis_server"]

ROOT = Path(__file__).parent.parent
LIMIT = 10  # requests per minute per client, across all workers
WORKERS = 2
statuses: list[int] = []  # of every response, checked for 5xx at the end


def new_client_address() -> str:
    """A loopback address of its own (Linux routes all of 127.0.0.0/8 to lo)."""
    number = uuid.uuid4().int
    return f"127.{number % 250 + 1}.{number // 250 % 250}.{number // 62500 % 250 + 1}"


class Demo:
    def __init__(self, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.ws_base = f"ws://127.0.0.1:{port}"

    def request(
        self, method: str, path: str, client: str | None = None, **options
    ) -> httpx.Response:
        """One request on a new connection, so any worker may get it, from the loopback
        address ``client`` (the rate limit counts per address): by default a new one."""
        transport = httpx.HTTPTransport(local_address=client or new_client_address())
        with httpx.Client(transport=transport, timeout=10, trust_env=False) as session:
            response = session.request(method, self.base + path, **options)
        statuses.append(response.status_code)
        return response

    def on_worker(self, wanted, method: str, path: str, **options) -> httpx.Response:
        """Repeat the request until a worker for which ``wanted(pid)`` serves it."""
        for _ in range(100):
            response = self.request(method, path, **options)
            if wanted(pid_of(response)):
                return response
        raise AssertionError(f"no suitable worker served {method} {path}")

    def workers(self) -> set[int]:
        seen: set[int] = set()
        deadline = time.monotonic() + 20
        while len(seen) < WORKERS:
            assert time.monotonic() < deadline, f"only workers {seen} answered"
            try:
                seen.add(pid_of(self.request("GET", "/health")))
            except httpx.TransportError:
                time.sleep(0.1)
        return seen


def pid_of(response: httpx.Response) -> int:
    return int(response.headers["x-worker-pid"])


@pytest.fixture
def redis(own_redis):
    return own_redis  # a server of this test's own: it stops and restarts it


@pytest.fixture
def demo(redis, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DEMO_REDIS_URL": redis.url,
        "DEMO_SECRET": "scale-out-test-secret-" + "x" * 32,
        "DEMO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "DEMO_RATE_LIMIT": str(LIMIT),
        "DEMO_CACHE_TTL": "60",
    }
    env.pop("REDIS_URL", None)
    log = (tmp_path / "server.log").open("w+")
    command = [sys.executable, "-m", "FasterAPI", "run", "examples.demo:app"]
    command += ["--workers", str(WORKERS), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"the server exited: {read_log(log)}"
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        statuses.clear()
        yield Demo(port)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this test started
            process.wait()
        server_log = read_log(log)
        log.close()
    assert "Traceback" not in server_log, server_log


def read_log(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()


class EventStream:
    """An SSE client on a thread, on a plain socket so that ``close`` wakes the reader at
    once: ``events`` gets ``(event, data, id)`` tuples."""

    def __init__(self, demo: Demo, headers: dict[str, str] | None = None) -> None:
        self.events: queue.Queue[tuple[str | None, dict, str | None]] = queue.Queue()
        self.ready = threading.Event()
        self.closing = False
        self.error: Exception | None = None
        self.sock = socket.create_connection(("127.0.0.1", demo.port), timeout=60)
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        request = f"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n"
        self.sock.sendall(request.encode())
        self.file = self.sock.makefile("rb")
        head = []
        while (line := self.file.readline()) not in (b"\r\n", b""):
            head.append(line.decode("latin-1").strip())
        assert head and head[0].startswith("HTTP/1.1 200"), head
        fields = dict(line.lower().split(": ", 1) for line in head[1:])
        assert fields["content-type"].startswith("text/event-stream")
        assert fields.get("transfer-encoding") == "chunked", fields
        statuses.append(200)
        self.pid = int(fields["x-worker-pid"])
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "the event stream did not subscribe"

    def _lines(self):
        buffer = b""
        while True:
            size = int(self.file.readline().split(b";")[0], 16)
            if size == 0:
                return
            buffer += self.file.read(size)
            self.file.readline()  # the CRLF after the chunk
            *lines, buffer = buffer.split(b"\n")
            yield from (line.decode() for line in lines)

    def _read(self) -> None:
        name = event_id = data = None
        try:
            for line in self._lines():
                if line == ": subscribed":
                    self.ready.set()
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                elif not line and data is not None:
                    self.events.put((name, data, event_id))
                    name = event_id = data = None
        except (OSError, ValueError) as exc:
            if not self.closing:
                self.error = exc

    def wait_for(self, name: str, timeout: float = 10) -> tuple[str | None, dict, str | None]:
        """The event about the item called ``name`` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no event for {name!r} ({self.error!r})"
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if event[1].get("name") == name:
                return event

    def close(self) -> None:
        self.closing = True
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader
        self.thread.join(5)
        self.file.close()
        self.sock.close()


def login(demo: Demo) -> dict[str, str]:
    form = {"username": "demo", "password": "demo-password"}
    token = demo.request("POST", "/token", data=form).json()["access_token"]
    return {"authorization": f"Bearer {token}"}


def create_item(demo: Demo, auth, prefix: str, wanted) -> tuple[str, int]:
    """Create an item through a worker chosen by ``wanted(pid)``: its name and the pid."""
    for _ in range(100):
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"  # tells this attempt's event apart
        response = demo.request("POST", "/items", json={"name": name, "price": 1}, headers=auth)
        assert response.status_code == 201
        if wanted(pid_of(response)):
            return name, pid_of(response)
    raise AssertionError("no suitable worker served POST /items")


def count_allowed(demo: Demo, client: str, requests: int) -> tuple[Counter, Counter]:
    """Allowed and refused requests per worker for one client address."""
    allowed: Counter = Counter()
    refused: Counter = Counter()
    for _ in range(requests):
        response = demo.request("GET", "/items?limit=1", client=client)
        assert response.status_code in (200, 429), response.status_code
        (allowed if response.status_code == 200 else refused)[pid_of(response)] += 1
    return allowed, refused


def check_cache_is_shared(demo: Demo, query: str) -> None:
    first = demo.request("GET", f"/items?{query}")
    assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
    other = demo.on_worker(lambda pid: pid != pid_of(first), "GET", f"/items?{query}")
    assert other.headers["x-cache"] == "HIT", "computed on one worker, a HIT on the other"
    assert other.json() == first.json()


class ChatMember:
    def __init__(self, demo: Demo, name: str, room: str) -> None:
        self.name = name
        self.exit = contextlib.ExitStack()
        url = f"{demo.ws_base}/ws/chat/{room}?name={name}"
        self.socket = self.exit.enter_context(ws_connect(url, proxy=None, open_timeout=10))
        joined = self.next(lambda m: m["text"] == f"{name} joined")
        self.worker = joined["worker"]

    def next(self, wanted, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if wanted(message):
                return message

    def say(self, text: str) -> None:
        self.socket.send(text)

    def close(self) -> None:
        self.exit.close()


def join_on_other_worker(demo: Demo, name: str, room: str, other_than: int) -> ChatMember:
    for _ in range(50):
        member = ChatMember(demo, name, room)
        if member.worker != other_than:
            return member
        member.close()
    raise AssertionError("every chat connection went to the same worker")


def heard(member: ChatMember, speaker: str, text: str) -> dict:
    return member.next(lambda m: m["user"] == speaker and m["text"] == text)


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_scaleout_demo_shares_state_through_redis_and_survives_its_outage(demo, redis):
    started = time.monotonic()
    pids = demo.workers()
    assert len(pids) == WORKERS
    ready = demo.request("GET", "/ready").json()
    assert ready["status"] == "ready" and ready["redis"] == "up"
    auth = login(demo)  # DEMO_SECRET is shared: the token works on every worker

    # A rate limit of LIMIT/min is enforced across the workers in total.
    before = time.monotonic()
    client = new_client_address()
    allowed, refused = count_allowed(demo, client, 3 * LIMIT)
    assert len(allowed + refused) == WORKERS, "both workers took part"
    refill = int((time.monotonic() - before) // (60 / LIMIT))  # GCRA: one more per interval
    assert LIMIT <= sum(allowed.values()) <= LIMIT + refill
    assert refused
    # A header the client makes up does not start a fresh count.
    dodge = {"x-api-key": uuid.uuid4().hex, "authorization": "Bearer made-up"}
    assert demo.request("GET", "/items?limit=1", client=client, headers=dodge).status_code == 429

    # A response computed on one worker is a HIT on the other.
    check_cache_is_shared(demo, "limit=7")

    # An SSE client on worker A gets an event published by a request on worker B.
    stream = EventStream(demo)
    from_b, b = create_item(demo, auth, "from-b", lambda pid: pid != stream.pid)
    event, data, first_id = stream.wait_for(from_b)
    assert event == "created" and data["name"] == from_b and first_id

    # Last-Event-ID: a reconnecting client first gets what it missed, from the stream.
    missed, _ = create_item(demo, auth, "missed", lambda pid: True)
    stream.wait_for(missed)
    again = EventStream(demo, headers={"last-event-id": first_id})
    assert again.wait_for(missed)[1]["name"] == missed
    again.close()

    # Chat room messages cross workers, both ways.
    room = "room-" + uuid.uuid4().hex[:6]
    ann = ChatMember(demo, "ann", room)
    bob = join_on_other_worker(demo, "bob", room, other_than=ann.worker)
    bob.say("hi from bob")
    assert heard(ann, "bob", "hi from bob")["worker"] == bob.worker
    ann.say("hi from ann")
    assert heard(bob, "ann", "hi from ann")["worker"] == ann.worker

    # -- Redis dies: every feature degrades to its per-process form, nothing fails ------
    redis.stop()
    down = lambda: demo.request("GET", "/ready").json()["redis"] == "down"  # noqa: E731
    wait_until(lambda: down() and down(), 10, "/ready to report Redis down")

    allowed, refused = count_allowed(demo, new_client_address(), 4 * LIMIT)
    assert all(count <= LIMIT for count in allowed.values()), "at most the limit per worker"
    assert len(allowed) == WORKERS and sum(allowed.values()) > LIMIT, "counted per worker"
    assert refused, "still limited, per worker, not open to all"

    cached = demo.request("GET", "/items?limit=7")
    assert cached.status_code == 200 and cached.headers["x-cache"] == "BYPASS"

    # Published on the SSE client's own worker: delivered there, without Redis.
    local, _ = create_item(demo, auth, "local", lambda pid: pid == stream.pid)
    assert stream.wait_for(local)[1]["name"] == local

    ann.say("during the outage")
    assert heard(ann, "ann", "during the outage")["worker"] == ann.worker

    # -- Redis is back: shared behaviour returns, old subscribers included --------------
    redis.start()
    up = lambda: demo.request("GET", "/ready").json()["redis"] == "up"  # noqa: E731
    wait_until(lambda: all(up() for _ in range(6)), 15, "/ready to report Redis up")

    deadline = time.monotonic() + 10
    while True:  # a worker's first command after the restart may still fail over
        recovered, _ = create_item(demo, auth, "recovered", lambda pid: pid != stream.pid)
        try:
            stream.wait_for(recovered, timeout=1)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "the SSE client lost its subscription"

    for attempt in range(20):  # the same chat members, still in their room
        bob.say(f"back {attempt}")
        try:
            heard(ann, "bob", f"back {attempt}")
            break
        except TimeoutError:
            assert attempt < 19, "chat messages no longer cross workers"

    time.sleep(1.1)  # the rate limiter's and cache's Redis links retry after 1 s
    allowed, refused = count_allowed(demo, new_client_address(), 3 * LIMIT)
    assert len(allowed + refused) == WORKERS
    assert LIMIT <= sum(allowed.values()) <= LIMIT + 1
    check_cache_is_shared(demo, "limit=8")

    stream.close()
    ann.close()
    bob.close()
    assert b in pids
    assert not [status for status in statuses if status >= 500], statuses
    assert time.monotonic() - started < 60
