"""Request framing the framework refuses whatever the server accepted.

Parsing HTTP/1.1 is the server's job, but not every server closes every door: a request
with both ``Content-Length`` and ``Transfer-Encoding`` must not share its connection with
another (RFC 9112 §6.3), and a header block has a size the app is willing to hold.
"""

from __future__ import annotations

from FasterAPI.exceptions import HTTPException

DEFAULT_MAX_REQUEST_HEADERS = 100
DEFAULT_MAX_HEADER_BYTES = 64 * 1024


def reject_ambiguous_framing(headers: list[tuple[bytes, bytes]]) -> None:
    """400 and close the connection when a body is framed two ways at once."""
    for name, _ in headers:
        if name == b"content-length":
            raise HTTPException(
                400,
                "Content-Length and Transfer-Encoding together are not allowed",
                headers={"Connection": "close"},
            )


def headers_too_large(count: int, size: int) -> HTTPException:
    return HTTPException(
        431,
        f"Request header fields too large ({count} fields, {size} bytes)",
        headers={"Connection": "close"},
    )


def incomplete_body() -> HTTPException:
    return HTTPException(400, "The request body ended before it was complete")
