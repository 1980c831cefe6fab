"""Which plain return values a route may encode and send without a Response object."""

from __future__ import annotations

import enum

from FasterAPI._serialize import JSON_CONTENT_TYPE, OutputPlan
from FasterAPI.response import Response, build_raw_headers, status_allows_body


class FastKind(enum.Enum):
    NONE = 0
    JSON = 1
    TEXT = 2


def fast_answer_kind(output: OutputPlan, status_code: int) -> tuple[FastKind, tuple[bytes, bytes]]:
    """The route's fast answer kind and its content-type header.

    PERF: JSON routes, and text routes (PlainTextResponse/HTMLResponse-like classes that
    keep Response's rendering) returning a str, send two messages with precomputed headers.
    """
    cls = output.response_class
    if output.filters or not status_allows_body(status_code):
        return FastKind.NONE, JSON_CONTENT_TYPE
    if output.fast_json:
        return FastKind.JSON, JSON_CONTENT_TYPE
    plain = (
        cls._render_body is Response._render_body
        and cls.__init__ is Response.__init__
        and cls.__call__ is Response.__call__
        and cls.media_type is not None
        and output.model in (None, str)
    )
    if not plain:
        return FastKind.NONE, JSON_CONTENT_TYPE
    raw = build_raw_headers(None, cls.media_type, cls.charset, None)
    return FastKind.TEXT, raw[0]
