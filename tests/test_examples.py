"""The README's example and the demo app, run as users run them."""

import csv
import io
import os

import pytest

from examples.param_models import app as param_models_app
from examples.quickstart import app as quickstart_app
from FasterAPI.exceptions import WebSocketDisconnect
from FasterAPI.testclient import TestClient


def test_quickstart_example_answers():
    client = TestClient(quickstart_app)
    assert client.get("/items/3?limit=5").json() == {"item_id": 3, "limit": 5}
    assert client.get("/items/3?limit=0").status_code == 422
    created = client.post("/items", json={"name": "pen", "price": 1.5})
    assert created.status_code == 201
    assert created.json() == {"name": "pen", "price": 1.5}


def test_param_models_example_reads_each_field_from_its_source():
    client = TestClient(param_models_app)
    response = client.get(
        "/items?limit=5&tags=a&tags=b",
        headers={"x-token": "secret", "save-data": "on", "cookie": "session_id=s1"},
    )
    assert response.json() == {
        "filters": {"limit": 5, "offset": 0, "order_by": "created_at", "tags": ["a", "b"]},
        "headers": {"x_token": "secret", "save_data": True},
        "cookies": {"session_id": "s1"},
    }
    detail = client.get("/items?limit=0&tool=x", headers={"cookie": "session_id=s1"}).json()
    assert [(e["loc"], e["type"]) for e in detail["detail"]] == [
        (["query", "limit"], "greater_than_equal"),
        (["query", "tool"], "extra_forbidden"),
        (["header", "x_token"], "missing"),
    ]
    parameters = client.get("/openapi.json").json()["paths"]["/items"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in parameters] == [
        ("limit", "query"),
        ("offset", "query"),
        ("order_by", "query"),
        ("tags", "query"),
        ("x-token", "header"),
        ("save-data", "header"),
        ("session_id", "cookie"),
    ]


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.delenv("DEMO_REDIS_URL", raising=False)  # one process: all in memory
    monkeypatch.delenv("REDIS_URL", raising=False)
    import importlib

    import examples.demo.database
    import examples.demo.live
    import examples.demo.main

    importlib.reload(examples.demo.database)
    importlib.reload(examples.demo.live)
    importlib.reload(examples.demo.main)
    with TestClient(examples.demo.main.app) as client:
        yield client


def login(client, password="demo-password"):
    return client.post("/token", data={"username": "demo", "password": password})


def test_demo_login_issues_a_bearer_token(demo):
    assert login(demo, "wrong").status_code == 400
    response = login(demo)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["token_type"] == "bearer"


def test_demo_crud_round_trip_with_auth(demo):
    token = login(demo).json()["access_token"]
    auth = {"authorization": f"Bearer {token}"}
    assert demo.post("/items", json={"name": "lamp", "price": 12.5}).status_code == 401
    created = demo.post("/items", json={"name": "lamp", "price": 12.5}, headers=auth)
    assert created.status_code == 201
    item = created.json()
    assert item == {"id": item["id"], "name": "lamp", "price": 12.5, "owner": "demo"}
    assert demo.get(f"/items/{item['id']}").json() == item
    assert demo.get("/items?limit=10").json() == [item]
    assert demo.get("/items?limit=0").status_code == 422
    assert demo.post("/items", json={"name": "", "price": -1}, headers=auth).status_code == 422
    assert demo.delete(f"/items/{item['id']}", headers=auth).status_code == 204
    assert demo.get(f"/items/{item['id']}").status_code == 404


def test_demo_csv_download(demo):
    token = login(demo).json()["access_token"]
    demo.post(
        "/items", json={"name": "cup", "price": 2}, headers={"authorization": f"Bearer {token}"}
    )
    response = demo.get("/items/export.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="items.csv"'
    assert response.text.splitlines() == ["id,name,price,owner", "1,cup,2.0,demo"]
    # A name a spreadsheet would run as a formula is exported as text.
    formula = '=HYPERLINK("http://example.com","x")'
    demo.post(
        "/items", json={"name": formula, "price": 3}, headers={"authorization": f"Bearer {token}"}
    )
    rows = list(csv.reader(io.StringIO(demo.get("/items/export.csv").text)))
    assert rows[-1] == ["2", "'" + formula, "3.0", "demo"]


def chat_message(session):
    message = session.receive_json()
    assert message.pop("worker") == os.getpid()  # which worker published it
    return message


def test_demo_chat_room_broadcasts(demo):
    with demo.websocket_connect("/ws/chat/lobby?name=ann") as ann:
        assert chat_message(ann) == {"user": "system", "text": "ann joined"}
        with demo.websocket_connect("/ws/chat/lobby?name=bob") as bob:
            assert chat_message(ann) == {"user": "system", "text": "bob joined"}
            assert chat_message(bob) == {"user": "system", "text": "bob joined"}
            bob.send_text("hello")
            assert chat_message(ann) == {"user": "bob", "text": "hello"}
            assert chat_message(bob) == {"user": "bob", "text": "hello"}


def test_demo_chat_closes_with_1003_on_a_binary_message(demo, caplog):
    with demo.websocket_connect("/ws/chat/lobby?name=ann") as ann:
        assert chat_message(ann) == {"user": "system", "text": "ann joined"}
        ann.send_bytes(b"\x00binary")
        while (message := ann.receive())["type"] != "websocket.close":
            pass
        assert message["code"] == 1003
    assert [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")] == []
    with demo.websocket_connect("/ws/chat/lobby?name=bob") as bob:
        assert chat_message(bob) == {"user": "system", "text": "bob joined"}


def test_demo_ready_reports_redis_not_configured(demo):
    response = demo.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "redis": "not configured", "worker": os.getpid()}
    assert response.headers["x-worker-pid"] == str(os.getpid())


def test_demo_without_redis_has_no_rate_limit_or_cache(demo):
    response = demo.get("/items")
    assert "ratelimit-limit" not in response.headers
    assert "x-cache" not in response.headers


def test_demo_database_file_is_where_configured(demo, tmp_path):
    assert os.path.exists(tmp_path / "demo.db")


def bearer(token):
    return {"authorization": f"Bearer {token}"}


def token_for(user):
    from examples.demo import auth
    from FasterAPI.security.jwt import create_access_token

    return create_access_token(user, auth.SECRET, expires_delta=auth.TOKEN_LIFETIME)


def test_demo_item_ids_are_not_reused_after_a_delete(demo):
    auth = bearer(login(demo).json()["access_token"])
    first = demo.post("/items", json={"name": "old", "price": 1}, headers=auth).json()
    assert demo.delete(f"/items/{first['id']}", headers=auth).status_code == 204
    second = demo.post("/items", json={"name": "new", "price": 2}, headers=auth).json()
    assert second["id"] != first["id"]
    assert demo.get(f"/items/{first['id']}").status_code == 404


def test_demo_create_item_refuses_unknown_fields(demo):
    auth = bearer(login(demo).json()["access_token"])
    response = demo.post(
        "/items", json={"name": "lamp", "price": 1, "owner": "someone"}, headers=auth
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("extra_forbidden", ["body", "owner"])
    assert demo.get("/items").json() == []


def test_demo_update_item_by_its_owner_only(demo):
    auth = bearer(login(demo).json()["access_token"])
    item = demo.post("/items", json={"name": "lamp", "price": 1}, headers=auth).json()
    url = f"/items/{item['id']}"
    changed = demo.put(url, json={"name": "desk lamp", "price": 15.5}, headers=auth)
    assert changed.status_code == 200
    assert changed.json() == {**item, "name": "desk lamp", "price": 15.5}
    assert demo.get(url).json() == changed.json()
    assert demo.put(url, json={"name": "x", "price": 1}).status_code == 401
    other = demo.put(url, json={"name": "mine", "price": 0}, headers=bearer(token_for("eve")))
    assert other.status_code == 403
    assert other.json() == {"detail": "Only the owner may change an item"}
    invalid = demo.put(url, json={"name": "", "price": 1}, headers=auth)
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "name"]
    assert demo.put(url, json={"name": "x"}, headers=auth).status_code == 422
    missing = demo.put("/items/999", json={"name": "x", "price": 1}, headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Item 999 not found"}
    assert demo.get(url).json() == changed.json()


def test_demo_delete_of_another_users_item_is_forbidden(demo):
    auth = bearer(login(demo).json()["access_token"])
    item = demo.post("/items", json={"name": "lamp", "price": 1}, headers=auth).json()
    response = demo.delete(f"/items/{item['id']}", headers=bearer(token_for("eve")))
    assert response.status_code == 403
    assert response.json() == {"detail": "Only the owner may delete an item"}
    assert demo.get(f"/items/{item['id']}").json() == item


def test_demo_expired_token_is_refused(demo):
    from datetime import timedelta

    from examples.demo import auth
    from FasterAPI.security.jwt import create_access_token

    expired = create_access_token("demo", auth.SECRET, expires_delta=timedelta(seconds=-5))
    response = demo.post("/items", json={"name": "x", "price": 1}, headers=bearer(expired))
    assert response.status_code == 401
    assert response.json() == {"detail": "The token has expired"}
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_demo_login_checks_a_password_for_an_unknown_user_too(demo, monkeypatch):
    # Answering an unknown user without hashing would tell, by timing, which names exist.
    from examples.demo import auth

    hashed = []
    real_hash = auth._hash
    monkeypatch.setattr(auth, "_hash", lambda password: hashed.append(1) or real_hash(password))
    response = demo.post("/token", data={"username": "nobody", "password": "x"})
    assert response.status_code == 400
    assert hashed == [1]


def test_demo_chat_refuses_the_system_name_and_bad_names(demo):
    for query in ("name=system", "name=", "name=" + "n" * 51):
        with pytest.raises(WebSocketDisconnect) as closed:
            with demo.websocket_connect(f"/ws/chat/lobby?{query}"):
                pass
        assert closed.value.code == 1008, query
    with demo.websocket_connect("/ws/chat/lobby") as guest:
        assert chat_message(guest) == {"user": "system", "text": "anonymous joined"}


def test_demo_openapi_documents_every_item_route(demo):
    paths = demo.get("/openapi.json").json()["paths"]
    export = paths["/items/export.csv"]["get"]["responses"]["200"]
    assert list(export["content"]) == ["text/csv"]
    update = paths["/items/{item_id}"]["put"]
    assert update["security"] == [{"JWTBearer": []}]
    assert update["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemIn"
    }
    assert update["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Item"
    }
    assert {"401", "403", "404", "422"} <= set(update["responses"])
    schemas = demo.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ItemIn"]["additionalProperties"] is False
