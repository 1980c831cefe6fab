"""The demo app under real servers: live events cross from a POST to an SSE client."""

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from servers import serve


@pytest.mark.parametrize("server", ["granian-rsgi", "uvicorn-httptools"])
def test_demo_sse_feed_receives_created_items(server, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    with serve(server, "examples.demo:app") as base:
        url = f"http://{base}"
        events: list[tuple[str, dict]] = []
        subscribed = threading.Event()

        def listen():
            with httpx.Client(timeout=10) as client:
                with client.stream("GET", f"{url}/events") as response:
                    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
                    subscribed.set()
                    name = None
                    for line in response.iter_lines():
                        if line.startswith("event: "):
                            name = line[7:]
                        elif line.startswith("data: "):
                            events.append((name, json.loads(line[6:])))
                            return

        listener = threading.Thread(target=listen)
        listener.start()
        assert subscribed.wait(10)
        with httpx.Client(base_url=url, timeout=10) as client:
            token = client.post(
                "/token", data={"username": "demo", "password": "demo-password"}
            ).json()["access_token"]
            # The listener subscribes when its generator first runs; give it a moment.
            for _ in range(50):
                created = client.post(
                    "/items",
                    json={"name": "live", "price": 1},
                    headers={"authorization": f"Bearer {token}"},
                )
                assert created.status_code == 201
                listener.join(0.1)
                if events:
                    break
        listener.join(10)
        assert events and events[0][0] == "created"
        assert events[0][1]["name"] == "live"


def demo_token(client: httpx.Client) -> dict[str, str]:
    form = {"username": "demo", "password": "demo-password"}
    return {"authorization": f"Bearer {client.post('/token', data=form).json()['access_token']}"}


@contextlib.contextmanager
def ten_items(tmp_path, monkeypatch, name: str):
    """The demo on its own database with ten items of ``name``: a client, the demo user's
    auth header and the items' ids."""
    monkeypatch.setenv("DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    with serve("uvicorn-httptools", "examples.demo:app") as base:
        limits = httpx.Limits(max_connections=20)
        with httpx.Client(base_url=f"http://{base}", timeout=10, limits=limits) as client:
            auth = demo_token(client)
            item = {"name": name, "price": 1}
            ids = [client.post("/items", json=item, headers=auth).json()["id"] for _ in range(10)]
            yield client, auth, ids


def test_demo_concurrent_deletes_of_one_item_succeed_once(tmp_path, monkeypatch):
    with ten_items(tmp_path, monkeypatch, "once") as (client, auth, ids):
        with ThreadPoolExecutor(10) as pool:
            for item_id in ids:
                codes = sorted(
                    pool.map(
                        lambda _: client.delete(f"/items/{item_id}", headers=auth).status_code,
                        range(10),
                    )
                )
                assert codes == [204] + [404] * 9, (item_id, codes)


def test_demo_concurrent_updates_and_deletes_never_fail(tmp_path, monkeypatch):
    with ten_items(tmp_path, monkeypatch, "race") as (client, auth, ids):

        def change(item_id: int, attempt: int) -> int:
            if attempt == 5:
                return client.delete(f"/items/{item_id}", headers=auth).status_code
            body = {"name": f"v{attempt}", "price": attempt}
            return client.put(f"/items/{item_id}", json=body, headers=auth).status_code

        with ThreadPoolExecutor(10) as pool:
            for item_id in ids:
                codes = list(pool.map(lambda n: change(item_id, n), range(10)))
                assert codes[5] == 204
                assert set(codes) <= {200, 204, 404}, codes
                assert client.get(f"/items/{item_id}").status_code == 404


def test_demo_sse_feed_reports_create_update_delete_and_replays(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    with serve("uvicorn-httptools", "examples.demo:app") as base:
        url = f"http://{base}"
        with httpx.Client(base_url=url, timeout=10) as client:
            auth = demo_token(client)
            item = client.post("/items", json={"name": "a", "price": 1}, headers=auth).json()
            path = f"/items/{item['id']}"
            assert client.put(path, json={"name": "b", "price": 2}, headers=auth).status_code == 200
            assert client.delete(path, headers=auth).status_code == 204
            # Everything after the first event, replayed from the feed's history.
            events: list[tuple[str | None, dict]] = []
            with client.stream("GET", "/events", headers={"last-event-id": "0-0"}) as response:
                name = None
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        events.append((name, json.loads(line[6:])))
                        if len(events) == 3:
                            break
        assert events == [
            ("created", item),
            ("updated", {**item, "name": "b", "price": 2.0}),
            ("deleted", {"id": item["id"]}),
        ]
