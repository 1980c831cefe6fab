"""The demo app under real servers: live events cross from a POST to an SSE client."""

import json
import threading

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
