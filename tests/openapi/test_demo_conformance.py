"""Property-based API test of the demo app (examples/demo): schemathesis, from the app's
own document, against the app served by uvicorn; no 500s, no undocumented answers."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from examples.demo.main import app
from servers import serve

# /events is an endless SSE stream and /ws/... a websocket: not request/response operations.
schema = schemathesis.openapi.from_dict(app.openapi()).exclude(path="/events")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    saved = dict(os.environ)
    os.environ["DEMO_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("DEMO_REDIS_URL", None)
    try:
        with serve("uvicorn-httptools", "examples.demo:app") as address:
            yield f"http://{address}"
    finally:
        os.environ.clear()
        os.environ.update(saved)


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_demo_conforms_to_its_document(case, demo_url):
    case.call_and_validate(base_url=demo_url, checks=CHECKS)
