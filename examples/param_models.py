from typing import Annotated, Literal

import msgspec

from FasterAPI import Cookie, Faster, Header, Query

app = Faster()


class FilterParams(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(gt=0, le=100)] = 100
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = []


class CommonHeaders(msgspec.Struct):
    x_token: str
    save_data: bool = False


class Cookies(msgspec.Struct):
    session_id: str


@app.get("/items")
async def read_items(
    filters: Annotated[FilterParams, Query()],
    headers: Annotated[CommonHeaders, Header()],
    cookies: Annotated[Cookies, Cookie()],
) -> dict:
    return {"filters": filters, "headers": headers, "cookies": cookies}
