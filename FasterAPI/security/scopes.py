"""SecurityScopes: the OAuth2 scopes required along a chain of ``Security(...)`` dependencies.

Ask for it in a dependency and it holds the union of the scopes declared by every
``Security(dep, scopes=[...])`` between the route and that dependency, outermost first::

    async def current_user(
        security_scopes: SecurityScopes, token: str = Depends(oauth2_scheme)
    ) -> User:
        claims = decode(token)
        require_scopes(security_scopes, claims["scope"].split())  # 403 when one is missing
        ...
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class SecurityScopes:
    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(dict.fromkeys(scopes or []))

    @property
    def scope_str(self) -> str:
        return " ".join(self.scopes)

    def missing(self, granted: Iterable[str]) -> list[str]:
        """The required scopes that ``granted`` lacks, in declaration order."""
        have = set(granted)
        return [scope for scope in self.scopes if scope not in have]

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"


def require_scopes(
    security_scopes: SecurityScopes, granted: Iterable[str], *, realm: str | None = None
) -> None:
    """Raise 403 (``WWW-Authenticate: Bearer error="insufficient_scope", scope="..."``) unless
    ``granted`` covers every scope in ``security_scopes``; the challenge lists all of them."""
    if security_scopes.missing(granted):
        from FasterAPI.security.base import forbidden

        raise forbidden(security_scopes.scopes, realm=realm)
