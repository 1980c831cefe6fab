"""HTTP authentication (RFC 7617 Basic, RFC 6750 Bearer, Digest) from the ``Authorization`` header.

    security = HTTPBasic(realm="admin")

    @app.get("/admin")
    def admin(credentials: HTTPBasicCredentials = Depends(security)):
        ...

Missing credentials, another scheme, malformed base64 or a Basic value without ``:`` give
401 with a ``WWW-Authenticate`` challenge, or ``None`` when ``auto_error=False``. Scheme
names match case-insensitively (``bearer``, ``BASIC``). Checking the password is the
application's job: compare with ``secrets.compare_digest`` to avoid timing leaks.
"""

from __future__ import annotations

import base64
import binascii

import msgspec

from FasterAPI.request import Request
from FasterAPI.security.base import (
    NOT_AUTHENTICATED,
    SecurityBase,
    bearer_challenge,
    challenge,
    note_credential,
    split_authorization,
    unauthorized,
)
from FasterAPI.security.scopes import SecurityScopes

__all__ = [
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
]

INVALID_CREDENTIALS = "Invalid authentication credentials"


class HTTPBasicCredentials(msgspec.Struct, frozen=True):
    username: str
    password: str


class HTTPAuthorizationCredentials(msgspec.Struct, frozen=True):
    """The scheme (as sent) and the credentials after it."""

    scheme: str
    credentials: str


class HTTPBase(SecurityBase):
    """Any ``Authorization: <scheme> <credentials>`` scheme; returns the raw pair."""

    def __init__(
        self,
        *,
        scheme: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
        realm: str | None = None,
    ) -> None:
        super().__init__(
            {"type": "http", "scheme": scheme.lower()},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
        self.scheme = scheme.lower()
        self.realm = realm
        self.challenge = challenge(scheme.capitalize(), realm=realm)

    def credentials(
        self, request: Request, www_authenticate: str | None = None
    ) -> HTTPAuthorizationCredentials | None:
        """The credentials when the header uses this scheme; 401 (or None) otherwise."""
        note_credential(request, "header", "authorization")
        scheme, credentials = split_authorization(request.headers.get("authorization"))
        if scheme.lower() == self.scheme and credentials:
            return HTTPAuthorizationCredentials(scheme, credentials)
        if self.auto_error:
            detail = INVALID_CREDENTIALS if scheme else NOT_AUTHENTICATED
            raise unauthorized(www_authenticate or self.challenge, detail)
        return None

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        return self.credentials(request)


class HTTPBasic(HTTPBase):
    """RFC 7617 Basic: returns ``HTTPBasicCredentials(username, password)``."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        realm: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="basic",
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
            realm=realm,
        )
        self.challenge = challenge("Basic", realm=realm, charset="UTF-8")

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        raw = self.credentials(request)
        if raw is None:
            return None
        try:
            decoded = base64.b64decode(raw.credentials, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            decoded = ""
        username, colon, password = decoded.partition(":")
        if colon:
            return HTTPBasicCredentials(username, password)
        if self.auto_error:
            raise unauthorized(self.challenge, INVALID_CREDENTIALS)
        return None


class HTTPBearer(HTTPBase):
    """RFC 6750 Bearer: returns ``HTTPAuthorizationCredentials`` (``.credentials`` is the token).

    Used through ``Security(bearer, scopes=[...])``, the 401 challenge names the scopes.
    """

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
        realm: str | None = None,
    ) -> None:
        super().__init__(
            scheme="bearer",
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
            realm=realm,
        )
        self.bearer_format = bearerFormat
        if bearerFormat:
            self.openapi_scheme["bearerFormat"] = bearerFormat

    async def __call__(  # type: ignore[override]
        self, request: Request, security_scopes: SecurityScopes
    ) -> HTTPAuthorizationCredentials | None:
        return self.credentials(request, bearer_challenge(self.realm, security_scopes))


class HTTPDigest(HTTPBase):
    """RFC 7616 Digest: returns the raw credentials for the application to verify."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
        realm: str | None = None,
    ) -> None:
        super().__init__(
            scheme="digest",
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
            realm=realm,
        )
