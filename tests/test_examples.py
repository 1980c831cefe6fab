"""The README's examples and the demo app, run as users would run them."""

from examples.demo import app as demo_app
from examples.quickstart import app as quickstart_app
from FasterAPI.testclient import TestClient


def test_quickstart_example_answers():
    client = TestClient(quickstart_app)
    assert client.get("/items/3?limit=5").json() == {"item_id": 3, "limit": 5}
    assert client.get("/items/3?limit=0").status_code == 422
    created = client.post("/items", json={"name": "pen", "price": 1.5})
    assert created.status_code == 201
    assert created.json() == {"name": "pen", "price": 1.5}


def test_demo_crud_round_trip():
    client = TestClient(demo_app)
    assert client.get("/health").json() == {"status": "ok"}
    created = client.post("/items", json={"name": "lamp", "price": 12.5, "tags": ["home"]})
    assert created.status_code == 201
    item = created.json()
    assert item["name"] == "lamp"
    assert client.get(f"/items/{item['id']}").json() == item
    assert item in client.get("/items").json()
    assert client.delete(f"/items/{item['id']}").status_code == 204
    assert client.get(f"/items/{item['id']}").status_code == 404
    assert client.post("/items", json={"name": "", "price": -1}).status_code == 422
