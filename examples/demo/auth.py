"""Password login issuing JWTs; ``CurrentUser`` protects routes."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from typing import Annotated, Any

from FasterAPI import Depends
from FasterAPI.response import JSONResponse
from FasterAPI.security import OAuth2PasswordRequestForm
from FasterAPI.security.jwt import JWTBearer, create_access_token
from FasterAPI.security.oauth2 import token_error_response, token_response

SECRET = os.environ.get("DEMO_SECRET") or secrets.token_urlsafe(48)
TOKEN_LIFETIME = timedelta(hours=1)
_SALT = b"fasterapi-demo"


def _hash(password: str) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), _SALT, 100_000)


USERS = {"demo": _hash(os.environ.get("DEMO_PASSWORD", "demo-password"))}

bearer = JWTBearer(SECRET, algorithms=["HS256"])


def current_user(claims: Annotated[dict[str, Any], Depends(bearer)]) -> str:
    return str(claims["sub"])


CurrentUser = Annotated[str, Depends(current_user)]


def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> JSONResponse:
    # Hashed for unknown names too: a faster answer would tell which names exist.
    given = _hash(form.password)
    expected = USERS.get(form.username)
    if expected is None or not hmac.compare_digest(expected, given):
        return token_error_response("invalid_grant", "Wrong username or password")
    token = create_access_token(form.username, SECRET, expires_delta=TOKEN_LIFETIME)
    return token_response(token, expires_in=int(TOKEN_LIFETIME.total_seconds()))
