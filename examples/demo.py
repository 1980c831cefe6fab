"""A small demo API: run it with ``scripts/demo`` and open http://127.0.0.1:8000/items."""

from __future__ import annotations

from typing import Annotated

import msgspec

from FasterAPI import Depends, Faster, HTTPException, Query


class ItemIn(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    price: Annotated[float, msgspec.Meta(ge=0)]
    tags: list[str] = []


class Item(ItemIn, kw_only=True):
    id: int


class Store:
    def __init__(self) -> None:
        self.items: dict[int, Item] = {}
        self.next_id = 1

    def add(self, data: ItemIn) -> Item:
        item = Item(id=self.next_id, **msgspec.structs.asdict(data))
        self.items[item.id] = item
        self.next_id += 1
        return item


store = Store()
app = Faster(title="FasterAPI demo", version="0.1.0")


def get_store() -> Store:
    return store


@app.get("/")
async def index() -> dict[str, str]:
    return {"message": "Hello from FasterAPI", "items": "/items"}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/items")
async def list_items(
    store: Annotated[Store, Depends(get_store)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Item]:
    return list(store.items.values())[offset : offset + limit]


@app.post("/items", status_code=201)
async def create_item(item: ItemIn, store: Annotated[Store, Depends(get_store)]) -> Item:
    return store.add(item)


@app.get("/items/{item_id}")
async def read_item(item_id: int, store: Annotated[Store, Depends(get_store)]) -> Item:
    try:
        return store.items[item_id]
    except KeyError:
        raise HTTPException(404, f"Item {item_id} not found") from None


@app.delete("/items/{item_id}", status_code=204)
async def delete_item(item_id: int, store: Annotated[Store, Depends(get_store)]) -> None:
    if store.items.pop(item_id, None) is None:
        raise HTTPException(404, f"Item {item_id} not found")
