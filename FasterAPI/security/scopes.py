"""SecurityScopes: the OAuth2 scopes required along a chain of ``Security(...)`` dependencies."""

from __future__ import annotations

from collections.abc import Sequence


class SecurityScopes:
    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(dict.fromkeys(scopes or []))

    @property
    def scope_str(self) -> str:
        return " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"
