"""FasterAPI: FastAPI's developer experience on a msgspec core.

from FasterAPI import Faster

app = Faster()

@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None) -> dict:
    return {"item_id": item_id, "q": q}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from FasterAPI._stream import StreamingResponse
from FasterAPI.app import Faster
from FasterAPI.background import BackgroundTasks
from FasterAPI.concurrency import run_in_threadpool
from FasterAPI.datastructures import (
    URL,
    Address,
    FormData,
    Headers,
    QueryParams,
    State,
    UploadFile,
)
from FasterAPI.exceptions import (
    HTTPException,
    RequestValidationError,
    ResponseValidationError,
    WebSocketDisconnect,
    WebSocketException,
    WebSocketInvalidMessage,
)
from FasterAPI.middleware import Middleware
from FasterAPI.params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security
from FasterAPI.request import HTTPConnection, Request
from FasterAPI.response import (
    HTMLResponse,
    JSONResponse,
    MsgPackResponse,
    ORJSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    UJSONResponse,
)
from FasterAPI.routing import APIRoute, FasterRouter, Mount, WebSocketRoute
from FasterAPI.security.scopes import SecurityScopes
from FasterAPI.sse import EventSourceResponse, ServerSentEvent
from FasterAPI.websocket import WebSocket, WebSocketState

if TYPE_CHECKING:
    from FasterAPI import status
    from FasterAPI._file import FileResponse
    from FasterAPI.broadcast import Broadcast
    from FasterAPI.middleware.base import BaseHTTPMiddleware
    from FasterAPI.middleware.cors import CORSMiddleware
    from FasterAPI.middleware.gzip import GZipMiddleware
    from FasterAPI.offload import SubInterpreterPool, run_in_subinterpreter
    from FasterAPI.staticfiles import StaticFiles
    from FasterAPI.templating import Jinja2Templates
    from FasterAPI.testclient import TestClient

__version__ = "0.1.0"

_LAZY = {
    "FileResponse": "FasterAPI._file",
    "TestClient": "FasterAPI.testclient",
    "StaticFiles": "FasterAPI.staticfiles",
    "BaseHTTPMiddleware": "FasterAPI.middleware.base",
    "CORSMiddleware": "FasterAPI.middleware.cors",
    "GZipMiddleware": "FasterAPI.middleware.gzip",
    "Jinja2Templates": "FasterAPI.templating",
    "Broadcast": "FasterAPI.broadcast",
    "SubInterpreterPool": "FasterAPI.offload",
    "run_in_subinterpreter": "FasterAPI.offload",
}
_SUBMODULES = frozenset({"status"})


def __getattr__(name: str) -> Any:
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'FasterAPI' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "URL",
    "APIRoute",
    "Address",
    "BackgroundTasks",
    "BaseHTTPMiddleware",
    "Body",
    "Broadcast",
    "CORSMiddleware",
    "Cookie",
    "Depends",
    "EventSourceResponse",
    "Faster",
    "FasterRouter",
    "File",
    "FileResponse",
    "Form",
    "FormData",
    "GZipMiddleware",
    "HTMLResponse",
    "HTTPConnection",
    "HTTPException",
    "Header",
    "Headers",
    "JSONResponse",
    "Jinja2Templates",
    "Middleware",
    "Mount",
    "MsgPackResponse",
    "ORJSONResponse",
    "Path",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "ResponseValidationError",
    "Security",
    "SecurityScopes",
    "ServerSentEvent",
    "State",
    "StaticFiles",
    "StreamingResponse",
    "SubInterpreterPool",
    "TestClient",
    "UJSONResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketInvalidMessage",
    "WebSocketRoute",
    "WebSocketState",
    "__version__",
    "run_in_subinterpreter",
    "run_in_threadpool",
    "status",
]
