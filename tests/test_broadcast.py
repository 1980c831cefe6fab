"""Broadcast in memory and on a real redis-server: delivery, JSON semantics, history and
Last-Event-ID replay, slow subscribers, Redis restarts and stalls, the SSE stream and the
websocket room helpers."""

import asyncio
import time

import anyio
import msgspec
import pytest

from FasterAPI import Faster, WebSocket
from FasterAPI.broadcast import (
    Broadcast,
    Event,
    MemoryBroadcastBackend,
    RedisBroadcastBackend,
    SlowSubscriber,
    event_id_key,
)
from FasterAPI.sse import ServerSentEvent
from FasterAPI.sse_broadcast import channel_events, channel_stream
from FasterAPI.testclient import TestClient
from FasterAPI.websocket_room import Room

pytest_plugins = ["redis_server"]

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


class Point(msgspec.Struct):
    x: int
    y: int


async def next_event(subscription, timeout=2.0):
    with anyio.fail_after(timeout):
        return await subscription.get()


async def nothing_arrives(subscription, wait=0.2):
    with anyio.move_on_after(wait):
        event = await subscription.get()
        raise AssertionError(f"unexpected {event}")


# -- in memory ---------------------------------------------------------------------------


async def test_broadcast_memory_delivers_to_every_subscriber_of_the_channel_only():
    broadcast = Broadcast()
    async with broadcast.subscribe("a") as one, broadcast.subscribe("a") as two:
        async with broadcast.subscribe("b") as other:
            await broadcast.publish("a", {"n": 1})
            assert await next_event(one) == Event("a", {"n": 1}, None)
            assert await next_event(two) == Event("a", {"n": 1}, None)
            await nothing_arrives(other)


async def test_broadcast_messages_arrive_as_decoded_json_in_every_backend():
    broadcast = Broadcast()
    async with broadcast.subscribe("points") as subscription:
        await broadcast.publish("points", Point(1, 2))
        await broadcast.publish("points", [1, "two", None])
        assert (await next_event(subscription)).data == {"x": 1, "y": 2}
        assert (await next_event(subscription)).data == [1, "two", None]


async def test_broadcast_publish_refuses_what_json_cannot_carry():
    broadcast = Broadcast()
    with pytest.raises(TypeError, match="JSON"):
        await broadcast.publish("a", object())
    with pytest.raises(ValueError):
        await broadcast.publish("", 1)
    with pytest.raises(ValueError):
        broadcast.subscribe("")


def test_broadcast_invalid_options_are_refused():
    with pytest.raises(ValueError):
        Broadcast(history=-1)
    with pytest.raises(ValueError):
        Broadcast(max_queue=0)
    with pytest.raises(TypeError):
        Broadcast(backend=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="history"):
        Broadcast(MemoryBroadcastBackend(), history=3)


async def test_broadcast_async_for_without_async_with_subscribes_and_leaves():
    broadcast = Broadcast()
    received = []

    async def listen():
        async for event in broadcast.subscribe("a"):
            received.append(event.data)
            if len(received) == 2:
                break

    async with anyio.create_task_group() as group:
        group.start_soon(listen)
        while "a" not in broadcast._subscribers:
            await anyio.sleep(0.001)
        await broadcast.publish("a", 1)
        await broadcast.publish("a", 2)
    assert received == [1, 2]


async def test_broadcast_slow_subscriber_is_dropped_not_the_others():
    broadcast = Broadcast(max_queue=2)
    async with broadcast.subscribe("a") as slow:
        for n in range(3):
            await broadcast.publish("a", n)
        with pytest.raises(SlowSubscriber):
            await next_event(slow)


async def test_broadcast_aclose_ends_subscriptions_and_can_start_again():
    broadcast = Broadcast()
    async with broadcast.subscribe("a") as subscription:
        await broadcast.aclose()
        with pytest.raises(StopAsyncIteration):
            await next_event(subscription)
    async with broadcast.subscribe("a") as subscription:
        await broadcast.publish("a", "again")
        assert (await next_event(subscription)).data == "again"


async def test_broadcast_aclose_ends_an_async_for_loop_cleanly():
    broadcast = Broadcast()
    received = []

    async def listen():
        async for event in broadcast.subscribe("a"):
            received.append(event.data)

    async with anyio.create_task_group() as group:
        group.start_soon(listen)
        while "a" not in broadcast._subscribers:
            await anyio.sleep(0.001)
        await broadcast.publish("a", 1)
        await anyio.sleep(0.01)
        await broadcast.aclose()
    assert received == [1]


async def test_broadcast_memory_history_keeps_the_last_events_with_ordered_ids():
    broadcast = Broadcast(history=3)
    async with broadcast.subscribe("a") as subscription:
        for n in range(5):
            await broadcast.publish("a", n)
        ids = [(await next_event(subscription)).id for _ in range(5)]
    assert ids == sorted(ids, key=event_id_key) and len(set(ids)) == 5
    assert [event.data for event in await broadcast.replay("a", "0-0")] == [2, 3, 4]
    assert [event.data for event in await broadcast.replay("a", ids[3])] == [4]
    assert await broadcast.replay("a", "not-an-id") == []
    assert await broadcast.replay("other", "0-0") == []


async def test_broadcast_memory_replays_everything_to_an_id_from_before_a_restart():
    before = Broadcast(history=5)
    await before.publish("feed", "old")
    (seen,) = await before.replay("feed", "0-0")
    await anyio.sleep(0.002)  # a later start, as after a restart
    after = Broadcast(history=5)  # the restarted process: its sequence starts again
    await after.publish("feed", "new-1")
    await after.publish("feed", "new-2")
    replayed = await after.replay("feed", seen.id)
    assert [event.data for event in replayed] == ["new-1", "new-2"]
    assert all(event_id_key(event.id) > event_id_key(seen.id) for event in replayed)
    assert await after.replay("feed", replayed[0].id) == replayed[1:]


def test_event_id_key_orders_stream_ids():
    assert event_id_key("10-2") < event_id_key("10-10") < event_id_key("11-0")
    assert event_id_key("12") == (12, 0)
    for bad in ("", "-1", "a-1", "1-b", "1-2-3", "9" * 50):
        assert event_id_key(bad) is None


async def collect(stream, count, timeout=2.0):
    items = []
    with anyio.fail_after(timeout):
        async for item in stream:
            items.append(item)
            if len(items) == count:
                break
    return items


async def test_channel_stream_replays_after_last_event_id_then_goes_live_without_repeats():
    broadcast = Broadcast(history=10)
    for n in range(3):
        await broadcast.publish("feed", {"n": n})
    first = (await broadcast.replay("feed", "0-0"))[0].id
    stream = channel_stream(broadcast, "feed", last_event_id=first, retry=1500)
    hello = await stream.__anext__()
    assert hello == ServerSentEvent(comment="subscribed", retry=1500)
    await broadcast.publish("feed", {"n": 3})
    events = await collect(stream, 3)
    await stream.aclose()
    assert [event.data for event in events] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert all(event.id for event in events)


async def test_channel_stream_render_shapes_events_and_keeps_the_id():
    broadcast = Broadcast(history=10)
    render = lambda data: ServerSentEvent(data=data["item"], event=data["kind"])  # noqa: E731
    stream = channel_stream(broadcast, "feed", render=render)
    await stream.__anext__()
    await broadcast.publish("feed", {"kind": "created", "item": {"id": 7}})
    (event,) = await collect(stream, 1)
    await stream.aclose()
    assert event.event == "created" and event.data == {"id": 7}
    assert event.id is not None and event.id.endswith("-1") and event_id_key(event.id)
    assert not broadcast._subscribers  # closing the stream unsubscribed it


def test_channel_events_is_an_event_stream_response():
    response = channel_events(Broadcast(), "feed", ping_interval=5)
    assert response.media_type == "text/event-stream"
    assert response.ping_interval == 5


def chat_app(broadcast):
    app = Faster()

    @app.websocket("/ws/{name}")
    async def chat(websocket: WebSocket, name: str) -> None:
        await websocket.accept()
        room = Room(broadcast, "room")
        async with room.join(websocket):
            await room.publish({"joined": name})
            async for text in websocket.iter_text():
                await room.publish({name: text})

    return app


def test_room_members_receive_each_others_messages_in_memory():
    # One event loop for both connections, as in a server process.
    with TestClient(chat_app(Broadcast())) as client, client.websocket_connect("/ws/ann") as ann:
        assert ann.receive_json() == {"joined": "ann"}
        with client.websocket_connect("/ws/bob") as bob:
            assert bob.receive_json() == {"joined": "bob"}
            assert ann.receive_json() == {"joined": "bob"}
            bob.send_text("hi")
            assert ann.receive_json() == {"bob": "hi"}
            assert bob.receive_json() == {"bob": "hi"}


def test_room_refuses_an_unknown_mode():
    with pytest.raises(ValueError):
        Room(Broadcast(), "room", mode="xml")  # type: ignore[arg-type]


# -- Redis ---------------------------------------------------------------------------------


async def test_broadcast_redis_crosses_between_instances_in_order(redis_url):
    # Two Broadcasts with their own connections stand for two worker processes.
    one, two = Broadcast(redis_url), Broadcast(redis_url)
    try:
        async with one.subscribe("a") as subscription:
            for n in range(20):
                await two.publish("a", {"n": n})
            received = [(await next_event(subscription)).data["n"] for _ in range(20)]
            assert received == list(range(20))
            await nothing_arrives(subscription)  # each message once
            assert await one.ping() and await two.ping()
    finally:
        await one.aclose()
        await two.aclose()


async def test_broadcast_redis_history_is_a_bounded_stream_replayed_by_id(redis_url):
    one, two = Broadcast(redis_url, history=3), Broadcast(redis_url, history=3)
    try:
        async with one.subscribe("a") as subscription:
            for n in range(5):
                await two.publish("a", n)
            events = [await next_event(subscription) for _ in range(5)]
        assert [event.data for event in events] == list(range(5))
        assert [event.id for event in await one.replay("a", "0-0")] == [e.id for e in events[2:]]
        assert [event.data for event in await one.replay("a", events[3].id)] == [4]
        assert await one.replay("a", "garbage") == []
    finally:
        await one.aclose()
        await two.aclose()


async def test_broadcast_redis_last_event_id_replays_what_another_worker_published(redis_url):
    one, two = Broadcast(redis_url, history=10), Broadcast(redis_url, history=10)
    try:
        for n in range(3):
            await two.publish("feed", n)
        first = (await two.replay("feed", "0-0"))[0].id
        stream = channel_stream(one, "feed", last_event_id=first)
        await stream.__anext__()  # subscribed
        await two.publish("feed", 3)
        events = await collect(stream, 3)
        await stream.aclose()
        assert [event.data for event in events] == [1, 2, 3]
    finally:
        await one.aclose()
        await two.aclose()


async def test_broadcast_redis_subscribers_survive_a_redis_restart(own_redis):
    def backend():
        return RedisBroadcastBackend(own_redis.url, reconnect_delay=(0.02, 0.2), timeout=0.5)

    one, two = Broadcast(backend()), Broadcast(backend())
    try:
        async with one.subscribe("a") as subscription:
            await two.publish("a", "before")
            assert (await next_event(subscription)).data == "before"
            own_redis.stop()
            # Meanwhile publishing never raises, and reaches this process's subscribers.
            await one.publish("a", "local")
            assert (await next_event(subscription)).data == "local"
            assert not await one.ping()
            own_redis.start()
            deadline = time.monotonic() + 10
            while True:  # the first command on a dead pooled connection may fail once
                await two.publish("a", "after")
                with anyio.move_on_after(0.3):
                    assert (await subscription.get()).data == "after"
                    break
                assert time.monotonic() < deadline, "no delivery after Redis came back"
            assert await one.ping()
    finally:
        await one.aclose()
        await two.aclose()


async def test_broadcast_redis_stalled_server_costs_a_bounded_wait(own_redis):
    one = Broadcast(RedisBroadcastBackend(own_redis.url, timeout=0.2))
    try:
        async with one.subscribe("a") as subscription:
            own_redis.pause()
            started = time.monotonic()
            await one.publish("a", "local")  # times out, then delivered here only
            assert time.monotonic() - started < 1.0
            assert (await next_event(subscription)).data == "local"
            own_redis.resume()
    finally:
        own_redis.resume()
        await one.aclose()


async def test_broadcast_redis_listener_notices_a_silent_server_by_ping(own_redis):
    backend = RedisBroadcastBackend(
        own_redis.url, timeout=0.2, health_interval=0.2, reconnect_delay=(0.02, 0.1)
    )
    one = Broadcast(backend)
    try:
        async with one.subscribe("a") as subscription:
            assert backend.connected
            own_redis.pause()  # the socket stays open; only PINGs go unanswered
            with anyio.fail_after(3):
                while backend.connected:
                    await anyio.sleep(0.05)
            own_redis.resume()
            with anyio.fail_after(5):
                while not backend.connected:
                    await anyio.sleep(0.05)
            other = Broadcast(own_redis.url)
            await other.publish("a", "after the stall")
            assert (await next_event(subscription)).data == "after the stall"
            await other.aclose()
    finally:
        own_redis.resume()
        await one.aclose()


async def test_broadcast_redis_unsubscribes_when_the_last_subscriber_leaves(redis_url):
    broadcast = Broadcast(redis_url)
    try:
        async with broadcast.subscribe("a"):
            pass
        async with broadcast.subscribe("b") as subscription:
            await broadcast.publish("b", "x")
            await next_event(subscription)
            channels = await broadcast.backend.link.call(lambda c: c.pubsub_channels())
        assert channels and all(b":a" not in channel for channel in channels)
    finally:
        await broadcast.aclose()


def test_room_messages_cross_between_two_apps_sharing_redis(redis_url):
    with (
        TestClient(chat_app(Broadcast(redis_url))) as first,
        TestClient(chat_app(Broadcast(redis_url))) as second,
        first.websocket_connect("/ws/ann") as ann,
    ):
        assert ann.receive_json() == {"joined": "ann"}
        with second.websocket_connect("/ws/bob") as bob:
            assert bob.receive_json() == {"joined": "bob"}
            assert ann.receive_json() == {"joined": "bob"}
            bob.send_text("hi")
            assert ann.receive_json() == {"bob": "hi"}
            ann.send_text("hello")
            assert bob.receive_json() == {"bob": "hi"}
            assert bob.receive_json() == {"ann": "hello"}


async def test_broadcast_backend_accepts_a_redis_client(redis_url):
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    broadcast = Broadcast(client)
    try:
        async with broadcast.subscribe("a") as subscription:
            await broadcast.publish("a", 1)
            assert (await next_event(subscription)).data == 1
    finally:
        await broadcast.aclose()
        await client.aclose()
    assert asyncio.get_running_loop()
