"""FasterAPI.status: the named HTTP status codes and WebSocket close codes."""

import http
import re

import FasterAPI
from FasterAPI import status


def test_status_every_http_name_is_its_code():
    names = [name for name in status.__all__ if name.startswith("HTTP_")]
    assert len(names) == len(set(names)) > 60
    for name in names:
        code = int(re.fullmatch(r"HTTP_(\d{3})_[A-Z0-9_]+", name).group(1))
        assert getattr(status, name) == code
        assert http.HTTPStatus(code)


def test_status_has_every_http_status_under_its_standard_name():
    for code in http.HTTPStatus:
        assert getattr(status, f"HTTP_{code.value}_{code.name}") == code.value


def test_status_keeps_both_names_of_renamed_codes():
    assert status.HTTP_413_REQUEST_ENTITY_TOO_LARGE == status.HTTP_413_CONTENT_TOO_LARGE == 413
    assert status.HTTP_414_REQUEST_URI_TOO_LONG == status.HTTP_414_URI_TOO_LONG == 414
    assert status.HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE == 416
    assert status.HTTP_416_RANGE_NOT_SATISFIABLE == 416
    assert status.HTTP_422_UNPROCESSABLE_ENTITY == status.HTTP_422_UNPROCESSABLE_CONTENT == 422


def test_status_websocket_close_codes():
    codes = {name: getattr(status, name) for name in status.__all__ if name.startswith("WS_")}
    assert codes["WS_1000_NORMAL_CLOSURE"] == 1000
    assert codes["WS_1008_POLICY_VIOLATION"] == 1008
    assert codes["WS_1015_TLS_HANDSHAKE"] == 1015
    assert sorted(codes.values()) == [*range(1000, 1004), *range(1005, 1016)]
    for name, code in codes.items():
        assert name.startswith(f"WS_{code}_")


def test_status_is_reachable_from_the_package():
    assert FasterAPI.status is status
    assert "status" in FasterAPI.__all__
