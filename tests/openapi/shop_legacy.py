"""A second ``Item`` Struct, in another module: the document must keep both apart."""

import msgspec


class Item(msgspec.Struct):
    sku: str
    discontinued: bool = True
