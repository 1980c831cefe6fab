"""The shop mounted under /shop in another app, as behind a proxy prefix: its scope
carries root_path "/shop", so its docs must load /shop/openapi.json and /shop/... assets."""

from FasterAPI import Faster
from openapi.shop import app as shop

app = Faster(openapi_url=None)
app.mount("/shop", shop)
