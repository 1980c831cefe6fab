from typing import Annotated

import msgspec

from FasterAPI import Faster, Query

app = Faster()


class Item(msgspec.Struct):
    name: str
    price: float


@app.get("/items/{item_id}")
async def read_item(item_id: int, limit: Annotated[int, Query(ge=1)] = 10) -> dict:
    return {"item_id": item_id, "limit": limit}


@app.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item
