"""Shared test configuration.

HTTP behaviour tests in the modules below run twice: once through the ASGI interface and
once through the app's native RSGI interface (the TestClient's ``interface`` default).
"""

import pytest

import FasterAPI.testclient

DUAL_PROTOCOL_MODULES = {
    "test_app",
    "test_app_errors",
    "test_body",
    "test_dependencies",
    "test_file_local_io",
    "test_fileresponse",
    "test_forms",
    "test_mount_middleware",
    "test_framing",
    "test_params",
    "test_param_constraints",
    "test_param_models",
    "test_request",
    "test_response",
    "test_response_model_options",
    "test_routing",
    "test_scope_keys",
    "test_sse",
    "test_staticfiles",
    "test_stream",
    "test_testclient",
    "test_threadpool",
}


@pytest.fixture(autouse=True)
def interface(request, monkeypatch):
    value = getattr(request, "param", "asgi")
    monkeypatch.setattr(FasterAPI.testclient, "DEFAULT_INTERFACE", value)
    return value


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__.rsplit(".", 1)[-1] in DUAL_PROTOCOL_MODULES:
        metafunc.parametrize("interface", ["asgi", "rsgi"], indirect=True)
