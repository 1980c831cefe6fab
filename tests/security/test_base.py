"""The shared contract: SecurityBase attributes, challenges, and lazy imports."""

import subprocess
import sys

import pytest

from FasterAPI.security import (
    APIKeyHeader,
    HTTPBasic,
    HTTPBearer,
    OAuth2PasswordBearer,
    SecurityBase,
    SecurityScopes,
)
from FasterAPI.security.base import challenge, split_authorization


def test_security_base_scheme_names_default_to_class_name():
    schemes = [HTTPBasic(), HTTPBearer(), APIKeyHeader(name="k"), OAuth2PasswordBearer("t")]
    assert all(isinstance(scheme, SecurityBase) for scheme in schemes)
    assert [s.scheme_name for s in schemes] == [
        "HTTPBasic",
        "HTTPBearer",
        "APIKeyHeader",
        "OAuth2PasswordBearer",
    ]
    assert HTTPBasic(scheme_name="basicAuth").scheme_name == "basicAuth"


def test_security_base_openapi_schemes():
    assert HTTPBasic(description="Staff").openapi_scheme == {
        "type": "http",
        "scheme": "basic",
        "description": "Staff",
    }
    assert HTTPBearer(bearerFormat="JWT").openapi_scheme == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    refresh = OAuth2PasswordBearer("/token", refreshUrl="/refresh")
    assert refresh.openapi_scheme["flows"]["password"] == {
        "tokenUrl": "/token",
        "refreshUrl": "/refresh",
        "scopes": {},
    }


def test_challenge_quotes_and_skips_empty_params():
    assert challenge("Bearer") == "Bearer"
    assert challenge("Bearer", realm=None, scope="") == "Bearer"
    assert challenge("Basic", realm='a "b" \\c') == 'Basic realm="a \\"b\\" \\\\c"'
    with pytest.raises(ValueError):
        challenge("Basic", realm="line\r\nbreak")


def test_split_authorization():
    assert split_authorization(None) == ("", "")
    assert split_authorization("  Bearer   abc  ") == ("Bearer", "abc")
    assert split_authorization("Bearer") == ("Bearer", "")


def test_security_scopes_missing():
    scopes = SecurityScopes(["a", "b", "a"])
    assert scopes.scopes == ["a", "b"]
    assert scopes.missing(["b"]) == ["a"]
    assert scopes.missing(["a", "b", "c"]) == []


def test_import_fasterapi_does_not_import_optional_extras():
    code = (
        "import sys, FasterAPI, FasterAPI.security, FasterAPI.offload\n"
        "from FasterAPI.security import HTTPBasic, OAuth2PasswordBearer\n"
        "loaded = [m for m in ('jwt', 'jinja2', 'sqlalchemy', 'structlog') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
