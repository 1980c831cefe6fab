"""Exceptions users raise and the framework answers.

Hierarchy::

    Exception
    ├── HTTPException(status_code, detail, headers)   -> a JSON error response
    │   └── RequestTooLarge (413)
    ├── RequestValidationError(errors)                -> 422 {"detail": [...]}
    ├── ResponseValidationError(errors)               -> 500 (a handler returned bad data)
    ├── WebSocketException(code, reason)              -> closes the websocket
    │   └── WebSocketInvalidMessage (1007 or 1003; also a ValueError)
    └── WebSocketDisconnect(code, reason)             -> the client went away

Close codes and reasons (RFC 6455 §5.5, §7.4): a code an app closes a websocket with must
be one an endpoint may send, 1000-1003, 1007-1014 or 3000-4999; anything else (1004, 1005,
1006, 1015, 1016-2999, outside 1000-4999) is a programming error, a ``ValueError`` raised
by ``WebSocketException(...)`` and ``WebSocket.close()`` (a non-``int`` code is a
``TypeError``). A reason longer than the 123 bytes of UTF-8 a close frame holds is cut to
fit, on a character boundary.
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


_MAX_CLOSE_REASON_BYTES = 123
"""A close frame's payload is at most 125 bytes: the 2-byte code and the reason."""


def _check_close_code(code: int) -> int:
    """``code`` if an endpoint may send it in a close frame, else ``TypeError``/``ValueError``."""
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"A websocket close code must be an int, not {type(code).__name__}")
    if not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        raise ValueError(
            f"{code} is not a websocket close code an endpoint may send: use 1000-1003, "
            "1007-1014 or 3000-4999 (RFC 6455 §7.4)"
        )
    return code


def _fit_close_reason(reason: str | None) -> str:
    """``reason`` cut to the 123 bytes of UTF-8 a close frame holds, on a character boundary.

    A lone surrogate (which cannot be sent) becomes ``?``.
    """
    if not reason:
        return ""
    if reason.isascii() and len(reason) <= _MAX_CLOSE_REASON_BYTES:
        return reason  # the usual reason: one byte a character, nothing to cut
    data = reason.encode("utf-8", "replace")
    if len(data) <= _MAX_CLOSE_REASON_BYTES:
        return data.decode("utf-8")
    # Only the last character can be cut in two: "ignore" drops its leading bytes.
    return data[:_MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")


class WebSocketException(Exception):
    """Raise inside a websocket handler to close the connection with ``code`` and ``reason``.

    ``code`` is checked here (``ValueError`` for one an endpoint may not send, see the
    module docstring) so that the mistake shows where it is made; ``reason`` is cut to the
    123 bytes of UTF-8 a close frame holds.
    """

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = _check_close_code(code)
        self.reason = _fit_close_reason(reason)
        super().__init__(self.code, self.reason)


class WebSocketInvalidMessage(WebSocketException, ValueError):
    """The client sent a message the handler cannot take; the connection is closed.

    Raised by ``WebSocket.receive_text``/``receive_bytes``/``receive_json`` and the
    ``iter_*`` methods with ``code``:

    - 1003 (unsupported data): a binary frame where text was expected, or a text frame
      where bytes were;
    - 1007 (invalid payload): JSON that does not parse, or a binary frame whose JSON is
      not valid UTF-8 (the decoding error is its ``__cause__``).

    Uncaught, the route closes the websocket with that code and logs nothing above DEBUG:
    a client's bad input is not a server error. A handler may catch it (by this class or,
    as a bad value, by ``ValueError``) and carry on.
    """

    UNSUPPORTED_DATA = 1003
    INVALID_PAYLOAD = 1007


class WebSocketDisconnect(Exception):
    """The websocket peer disconnected (or the connection was closed)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


class ClientDisconnect(Exception):
    """The client went away while the body was being read."""
