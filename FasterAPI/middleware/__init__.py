"""Middleware: ``Middleware(cls, **options)`` declarations and the built-in middleware classes."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from FasterAPI._types import ASGIApp


class Middleware:
    """A middleware class and the options to build it with around the inner app."""

    def __init__(self, cls: Any, *args: Any, **kwargs: Any) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return self.cls(app, *self.args, **self.kwargs)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        name = getattr(self.cls, "__name__", repr(self.cls))
        options = [repr(arg) for arg in self.args]
        options += [f"{key}={value!r}" for key, value in self.kwargs.items()]
        return f"Middleware({', '.join([name, *options])})"


if TYPE_CHECKING:
    from FasterAPI.middleware.base import BaseHTTPMiddleware, FunctionMiddleware
    from FasterAPI.middleware.cache import RedisCacheMiddleware
    from FasterAPI.middleware.cors import CORSMiddleware
    from FasterAPI.middleware.gzip import GZipMiddleware
    from FasterAPI.middleware.httpsredirect import HTTPSRedirectMiddleware
    from FasterAPI.middleware.ratelimit import RateLimitMiddleware
    from FasterAPI.middleware.requestid import RequestIDMiddleware
    from FasterAPI.middleware.sessions import SessionMiddleware
    from FasterAPI.middleware.trustedhost import TrustedHostMiddleware

_LAZY = {
    "BaseHTTPMiddleware": "base",
    "FunctionMiddleware": "base",
    "CORSMiddleware": "cors",
    "GZipMiddleware": "gzip",
    "HTTPSRedirectMiddleware": "httpsredirect",
    "RequestIDMiddleware": "requestid",
    "TrustedHostMiddleware": "trustedhost",
    "RateLimitMiddleware": "ratelimit",
    "RedisCacheMiddleware": "cache",
    "SessionMiddleware": "sessions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "BaseHTTPMiddleware",
    "CORSMiddleware",
    "FunctionMiddleware",
    "GZipMiddleware",
    "HTTPSRedirectMiddleware",
    "Middleware",
    "RateLimitMiddleware",
    "RedisCacheMiddleware",
    "RequestIDMiddleware",
    "SessionMiddleware",
    "TrustedHostMiddleware",
]
