"""The shop app served by uvicorn on 127.0.0.1 for the browser and fuzz tests."""

import pytest

from servers import serve


@pytest.fixture(scope="session")
def shop_url():
    with serve("uvicorn-h11", "openapi.shop:app") as address:
        yield f"http://{address}"


@pytest.fixture(scope="session")
def mounted_shop_url():
    """The shop under the /shop prefix (its root_path)."""
    with serve("uvicorn-h11", "openapi.shop_mounted:app") as address:
        yield f"http://{address}/shop"
