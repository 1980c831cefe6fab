"""Middleware: ``Middleware(cls, **options)`` declarations and the built-in middleware classes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


__all__ = ["Middleware"]
