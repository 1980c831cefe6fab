"""Exceptions users raise and the framework answers.

Hierarchy::

    Exception
    ├── HTTPException(status_code, detail, headers)   -> a JSON error response
    │   └── RequestTooLarge (413)
    ├── RequestValidationError(errors)                -> 422 {"detail": [...]}
    ├── ResponseValidationError(errors)               -> 500 (a handler returned bad data)
    ├── WebSocketException(code, reason)              -> closes the websocket
    └── WebSocketDisconnect(code, reason)             -> the client went away
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


class HTTPException(Exception):
    """Raise to answer with ``status_code`` and ``{"detail": detail}``."""

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            detail = _phrase(status_code)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None
        super().__init__(status_code, detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class ValidationErrorBase(Exception):
    def __init__(self, errors: Sequence[Mapping[str, Any]], *, body: Any = None) -> None:
        self._errors = list(errors)
        self.body = body
        super().__init__(self._errors)

    def errors(self) -> list[Mapping[str, Any]]:
        return self._errors


class RequestValidationError(ValidationErrorBase):
    """Input failed validation; answered with 422 and the list of errors.

    ``body`` is the request body as received: JSON as plain data (its text when it is not
    valid JSON), a form as a dict of its fields; None for a route that takes no body.
    """


class ResponseValidationError(ValidationErrorBase):
    """A handler's return value does not match its response model (a server bug: 500)."""

    def __str__(self) -> str:
        return f"{len(self._errors)} validation error(s) in the response: {self._errors!r}"


class WebSocketException(Exception):
    """Raise inside a websocket handler to close the connection with ``code``."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


class WebSocketDisconnect(Exception):
    """The websocket peer disconnected (or the connection was closed)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


class ClientDisconnect(Exception):
    """The client went away while the body was being read."""
