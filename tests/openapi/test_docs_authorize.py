"""Swagger UI's "Authorize" button, in real headless Chromium, against a bearer-protected app."""

import json

import pytest

from openapi.chromium import find_chromium, open_page
from servers import serve

OPERATION = "#operations-default-secret_secret_get"
RESPONSE = f"document.querySelector('{OPERATION} .live-responses-table .response')?.innerText"


@pytest.fixture(scope="module")
def secured_url():
    with serve("uvicorn-h11", "openapi.secured:app") as address:
        yield f"http://{address}"


def test_swagger_authorize_button_sends_the_bearer_token(secured_url):
    executable = find_chromium()
    if executable is None:
        pytest.fail("Chromium is missing: run scripts/install-system-deps")
    with open_page(executable) as page:
        page.goto(f"{secured_url}/docs")
        page.wait_for("document.querySelector('.btn.authorize') !== null")
        # Without a token the protected route answers 401.
        page.click(f"{OPERATION} .opblock-summary-control")
        page.click(f"{OPERATION} .try-out__btn")
        page.click(f"{OPERATION} .execute")
        first = page.wait_for(RESPONSE)
        # The Authorize button opens the dialog listing the bearer scheme.
        page.click(".btn.authorize")
        schemes = page.wait_for("document.querySelector('.modal-ux .auth-container h4')?.innerText")
        page.click(".modal-ux .close-modal")
        # Authorize (as the dialog does on submit), then run the request again.
        page.evaluate("window.ui.preauthorizeApiKey('HTTPBearer', 'token-123')")
        page.wait_for("document.querySelector('.btn.authorize.locked') !== null")
        page.click(f"{OPERATION} .btn-clear")
        page.click(f"{OPERATION} .execute")
        second = page.wait_for(RESPONSE)
    assert first.split()[0] == "401", first
    assert "HTTPBearer" in schemes
    assert second.split()[0] == "200", second
    body = second[second.index("{") : second.rindex("}") + 1]
    assert json.loads(body) == {"token": "token-123"}
