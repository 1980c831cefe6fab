"""Security schemes: OAuth2, HTTP Basic/Bearer/Digest, API keys and JWT.

Each scheme is a ``SecurityBase`` callable used as a dependency (``Depends(scheme)`` or
``Security(scheme, scopes=[...])``) and listed in OpenAPI ``securitySchemes``. Names are
imported on first use, so ``import FasterAPI`` stays cheap and never imports PyJWT;
``JWTBearer``, ``create_access_token`` and ``granted_scopes`` need
``pip install 'FasterAPI[jwt]'`` and are left out of ``__all__`` so that
``from FasterAPI.security import *`` works without PyJWT.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from FasterAPI.security.scopes import SecurityScopes, require_scopes

if TYPE_CHECKING:
    from FasterAPI.security.api_key import APIKeyCookie, APIKeyHeader, APIKeyQuery
    from FasterAPI.security.base import SecurityBase
    from FasterAPI.security.http import (
        HTTPAuthorizationCredentials,
        HTTPBasic,
        HTTPBasicCredentials,
        HTTPBearer,
        HTTPDigest,
    )
    from FasterAPI.security.jwt import JWTBearer as JWTBearer
    from FasterAPI.security.jwt import create_access_token as create_access_token
    from FasterAPI.security.jwt import granted_scopes as granted_scopes
    from FasterAPI.security.oauth2 import (
        OAuth2,
        OAuth2AuthorizationCodeBearer,
        OAuth2PasswordBearer,
        OAuth2PasswordRequestForm,
        OAuth2PasswordRequestFormStrict,
        OAuth2Token,
        OpenIdConnect,
        token_error_response,
        token_response,
    )

_LAZY = {
    "APIKeyCookie": "api_key",
    "APIKeyHeader": "api_key",
    "APIKeyQuery": "api_key",
    "HTTPAuthorizationCredentials": "http",
    "HTTPBasic": "http",
    "HTTPBasicCredentials": "http",
    "HTTPBearer": "http",
    "HTTPDigest": "http",
    "JWTBearer": "jwt",
    "OAuth2": "oauth2",
    "OAuth2AuthorizationCodeBearer": "oauth2",
    "OAuth2PasswordBearer": "oauth2",
    "OAuth2PasswordRequestForm": "oauth2",
    "OAuth2PasswordRequestFormStrict": "oauth2",
    "OAuth2Token": "oauth2",
    "OpenIdConnect": "oauth2",
    "SecurityBase": "base",
    "create_access_token": "jwt",
    "granted_scopes": "jwt",
    "token_error_response": "oauth2",
    "token_response": "oauth2",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OAuth2Token",
    "OpenIdConnect",
    "SecurityBase",
    "SecurityScopes",
    "require_scopes",
    "token_error_response",
    "token_response",
]
