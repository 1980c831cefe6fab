"""Security helpers."""

from FasterAPI.security.scopes import SecurityScopes

__all__ = ["SecurityScopes"]
