"""Property-based API test: schemathesis fuzzes the shop app, served by uvicorn, from its
own document; no request may give a 500 or an answer the document does not describe."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from openapi.shop import app

schema = schemathesis.openapi.from_dict(app.openapi())

# What the document promises about answers. (Whether the server accepts every request the
# document allows is the decoders' business: msgspec rejects 3.0 for an int, which JSON
# Schema's "integer" allows.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_shop_conforms_to_its_document(case, shop_url):
    case.call_and_validate(base_url=shop_url, checks=CHECKS)
