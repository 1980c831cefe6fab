"""OAuth2 bearer-token schemes, the password-grant form and RFC 6749 token responses.

    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token", scopes={"items:read": "Read items"})

    @app.post("/token")
    def login(form: OAuth2PasswordRequestForm = Depends()):
        user = authenticate(form.username, form.password)      # yours
        if user is None:
            return token_error_response("invalid_grant", "Bad username or password")
        return token_response(make_token(user, form.scopes), expires_in=900)

    async def current_user(
        security_scopes: SecurityScopes, token: str = Depends(oauth2_scheme)
    ) -> User:
        claims = decode(token)                                  # yours, or use JWTBearer
        require_scopes(security_scopes, claims["scope"].split())
        ...

    @app.get("/items")
    def items(user: User = Security(current_user, scopes=["items:read"])): ...

The bearer schemes return the token (``None`` with ``auto_error=False``); without one they
answer 401 ``WWW-Authenticate: Bearer`` plus ``scope="..."`` naming the scopes required
along the ``Security`` chain. ``require_scopes`` answers 403 ``insufficient_scope``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from FasterAPI._patterns import end_anchored
from FasterAPI.exceptions import HTTPException
from FasterAPI.params import Form
from FasterAPI.request import Request
from FasterAPI.response import JSONResponse
from FasterAPI.security.base import (
    NOT_AUTHENTICATED,
    SecurityBase,
    bearer_challenge,
    note_credential,
    split_authorization,
    unauthorized,
)
from FasterAPI.security.scopes import SecurityScopes

__all__ = [
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OAuth2Token",
    "OpenIdConnect",
    "token_error_response",
    "token_response",
]


class OAuth2(SecurityBase):
    """An OAuth2 scheme with explicit OpenAPI ``flows``; returns the ``Authorization`` value."""

    def __init__(
        self,
        *,
        flows: Mapping[str, Any] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
        realm: str | None = None,
    ) -> None:
        super().__init__(
            {"type": "oauth2", "flows": dict(flows or {})},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
        self.realm = realm

    def _unauthorized(
        self, security_scopes: SecurityScopes, detail: str = NOT_AUTHENTICATED
    ) -> HTTPException:
        return unauthorized(bearer_challenge(self.realm, security_scopes), detail)

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> str | None:
        note_credential(request, "header", "authorization")
        authorization: str | None = request.headers.get("authorization")
        if not authorization and self.auto_error:
            raise self._unauthorized(security_scopes)
        return authorization or None


class _BearerToken(OAuth2):
    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> str | None:
        note_credential(request, "header", "authorization")
        scheme, token = split_authorization(request.headers.get("authorization"))
        if scheme.lower() == "bearer" and token:
            return token
        if self.auto_error:
            detail = "Invalid authentication credentials" if scheme else NOT_AUTHENTICATED
            raise self._unauthorized(security_scopes, detail)
        return None


def _flow(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


class OAuth2PasswordBearer(_BearerToken):
    """The password flow (clients post username/password to ``tokenUrl``); returns the token."""

    def __init__(
        self,
        tokenUrl: str,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
        realm: str | None = None,
    ) -> None:
        flow = _flow(tokenUrl=tokenUrl, refreshUrl=refreshUrl, scopes=dict(scopes or {}))
        super().__init__(
            flows={"password": flow},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
            realm=realm,
        )
        self.token_url = tokenUrl


class OAuth2AuthorizationCodeBearer(_BearerToken):
    """The authorization-code flow; returns the bearer token."""

    def __init__(
        self,
        authorizationUrl: str,
        tokenUrl: str,
        refreshUrl: str | None = None,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        realm: str | None = None,
    ) -> None:
        flow = _flow(
            authorizationUrl=authorizationUrl,
            tokenUrl=tokenUrl,
            refreshUrl=refreshUrl,
            scopes=dict(scopes or {}),
        )
        super().__init__(
            flows={"authorizationCode": flow},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
            realm=realm,
        )


class OpenIdConnect(SecurityBase):
    """OpenID Connect discovery at ``openIdConnectUrl``; returns the ``Authorization`` value."""

    def __init__(
        self,
        *,
        openIdConnectUrl: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
        realm: str | None = None,
    ) -> None:
        super().__init__(
            {"type": "openIdConnect", "openIdConnectUrl": openIdConnectUrl},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
        self.realm = realm

    async def __call__(self, request: Request) -> str | None:
        note_credential(request, "header", "authorization")
        authorization: str | None = request.headers.get("authorization")
        if authorization:
            return authorization
        if self.auto_error:
            raise unauthorized(bearer_challenge(self.realm))
        return None


_PasswordGrant = Annotated[str, msgspec.Meta(pattern=end_anchored("^password$"))]


class OAuth2PasswordRequestForm:
    """The RFC 6749 §4.3 password-grant form, as ``form: OAuth2PasswordRequestForm = Depends()``.

    ``username`` and ``password`` are required (422 when missing); ``scope`` is a
    space-separated string, also available split as ``scopes``.
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[_PasswordGrant | None, Form()] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scope = scope
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret

    def __repr__(self) -> str:
        return f"{type(self).__name__}(username={self.username!r}, scopes={self.scopes!r})"


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """``OAuth2PasswordRequestForm`` with ``grant_type=password`` required, as the RFC says."""

    def __init__(
        self,
        *,
        grant_type: Annotated[_PasswordGrant, Form()],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


class OAuth2Token(msgspec.Struct, omit_defaults=True):
    """An RFC 6749 §5.1 access-token response body (unset optional fields are left out)."""

    access_token: str
    token_type: str
    expires_in: int | None = None
    refresh_token: str | None = None
    scope: str | None = None


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def token_response(
    access_token: str,
    *,
    token_type: str = "bearer",
    expires_in: int | None = None,
    refresh_token: str | None = None,
    scope: str | None = None,
) -> JSONResponse:
    """A 200 token response with ``Cache-Control: no-store`` (RFC 6749 §5.1)."""
    body = OAuth2Token(access_token, token_type, expires_in, refresh_token, scope)
    return JSONResponse(body, headers=_NO_STORE)


def token_error_response(
    error: str, description: str | None = None, *, status_code: int = 400
) -> JSONResponse:
    """An RFC 6749 §5.2 error (``invalid_grant``, ``invalid_client`` -> pass 401, ...)."""
    body: dict[str, str] = {"error": error}
    if description:
        body["error_description"] = description
    return JSONResponse(body, status_code=status_code, headers=_NO_STORE)
