"""OpenAPI 3.1 for FasterAPI apps: the document, Swagger UI and ReDoc.

``Faster`` serves ``/openapi.json``, ``/docs`` (with ``/docs/oauth2-redirect``) and
``/redoc``; ``app.openapi()`` returns the document (cached, rebuilt when routes change).
``get_openapi`` builds a document from routes and the ``get_*_html`` functions render the
pages, with FastAPI's signatures, for apps that customise them.
"""

from __future__ import annotations

from FasterAPI.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from FasterAPI.openapi.schema import get_openapi

__all__ = [
    "get_openapi",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
]
