"""FastAPI's import path for ``get_openapi`` (``from FasterAPI.openapi.utils import ...``)."""

from __future__ import annotations

from FasterAPI.openapi.schema import get_openapi

__all__ = ["get_openapi"]
