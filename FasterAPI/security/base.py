"""SecurityBase and the ``Authorization`` / ``WWW-Authenticate`` helpers the schemes share.

Every security dependency (``OAuth2PasswordBearer``, ``HTTPBasic``, ``APIKeyHeader``,
``JWTBearer``, ...) is a ``SecurityBase``. The OpenAPI generator finds them with
``isinstance`` and reads two attributes:

- ``scheme_name``: the key under ``components.securitySchemes`` (the class name unless
  ``scheme_name=`` is given);
- ``openapi_scheme``: the Security Scheme Object itself, e.g.
  ``{"type": "http", "scheme": "basic"}``.

Status codes follow RFC 9110 and RFC 6750: missing or unusable credentials give 401 with a
``WWW-Authenticate`` challenge; valid credentials without the needed scopes give 403 with
``error="insufficient_scope"`` and the scopes that were needed.

Every scheme calls ``note_credential`` where it reads the request for its credential (sent
or not), so that a shared response cache never hands the response to someone else; a
custom scheme that reads the request itself calls it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from FasterAPI.exceptions import HTTPException

if TYPE_CHECKING:
    from FasterAPI.request import HTTPConnection
    from FasterAPI.security.scopes import SecurityScopes

__all__ = [
    "CREDENTIALS_READ",
    "NOT_AUTHENTICATED",
    "SecurityBase",
    "bearer_challenge",
    "challenge",
    "forbidden",
    "note_credential",
    "split_authorization",
    "unauthorized",
]

NOT_AUTHENTICATED = "Not authenticated"

CREDENTIALS_READ = "fasterapi.credentials_read"
"""Scope key: a set of ``(location, name)`` pairs that code needing to know which credentials
a response depends on (``RedisCacheMiddleware``) puts in the scope before calling the app.
Copies of the scope (a mounted app's) share the set."""


def note_credential(request: HTTPConnection, location: str, name: str) -> None:
    """Record that the response to ``request`` depends on the credential read from
    ``location`` (``"header"``, ``"query"`` or ``"cookie"``) under ``name``, whether the
    request sent it or not; a no-op unless something asked (see ``CREDENTIALS_READ``)."""
    seen: set[tuple[str, str]] | None = request.scope.get(CREDENTIALS_READ)
    if seen is not None:
        seen.add((location, name.lower() if location == "header" else name))


def _check_param(name: str, value: str) -> None:
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError(f"{name} must not contain control characters: {value!r}")


class SecurityBase:
    """Base class of all security dependencies (see the module docstring for the contract)."""

    scheme_name: str
    openapi_scheme: dict[str, Any]
    auto_error: bool
    description: str | None

    def __init__(
        self,
        openapi_scheme: dict[str, Any],
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.scheme_name = scheme_name or type(self).__name__
        self.description = description
        self.auto_error = auto_error
        if description:
            openapi_scheme = {**openapi_scheme, "description": description}
        self.openapi_scheme = openapi_scheme

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scheme_name={self.scheme_name!r})"


def _quote(value: str) -> str:
    """An RFC 9110 quoted-string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def challenge(scheme: str, **params: str | None) -> str:
    """A ``WWW-Authenticate`` value: ``challenge("Bearer", realm="api")`` -> ``Bearer realm="api"``.

    Parameters that are None or empty are left out; values are quoted and must not contain
    control characters (they come from configuration, never from the request).
    """
    parts = []
    for name, value in params.items():
        if value:
            _check_param(name, value)
            parts.append(f"{name}={_quote(value)}")
    return f"{scheme} {', '.join(parts)}" if parts else scheme


def split_authorization(value: str | None) -> tuple[str, str]:
    """``"Bearer abc"`` -> ``("Bearer", "abc")`` (the scheme as sent); ``("", "")`` when absent.

    Compare the scheme case-insensitively: ``scheme.lower() == "bearer"``.
    """
    if not value:
        return "", ""
    scheme, _, credentials = value.strip().partition(" ")
    return scheme, credentials.strip()


def unauthorized(www_authenticate: str, detail: str = NOT_AUTHENTICATED) -> HTTPException:
    """401: the request carries no usable credentials."""
    return HTTPException(401, detail, headers={"WWW-Authenticate": www_authenticate})


def forbidden(
    required: Sequence[str], *, realm: str | None = None, detail: str = "Not enough permissions"
) -> HTTPException:
    """403 with an RFC 6750 ``insufficient_scope`` challenge naming the ``required`` scopes."""
    value = challenge(
        "Bearer", realm=realm, error="insufficient_scope", scope=" ".join(required) or None
    )
    return HTTPException(403, detail, headers={"WWW-Authenticate": value})


def bearer_challenge(realm: str | None, security_scopes: SecurityScopes | None = None) -> str:
    """``Bearer realm="...", scope="..."`` for a 401, naming the scopes the route needs."""
    scope = security_scopes.scope_str if security_scopes is not None else None
    return challenge("Bearer", realm=realm, scope=scope)
