"""The FasterAPI app behind the default middleware stack (CORS + GZip), to show its cost.

The benchmark's requests carry no ``Origin`` and no ``Accept-Encoding``: this is the
pass-through cost every request pays once the stack is installed.
"""

from __future__ import annotations

from apps import fasterapi_app
from FasterAPI import Faster, Middleware
from FasterAPI.middleware.cors import CORSMiddleware
from FasterAPI.middleware.gzip import GZipMiddleware

NAME = "FasterAPI+CORS+GZip"

app = Faster(
    middleware=[
        Middleware(CORSMiddleware, allow_origins=["https://example.com"]),
        Middleware(GZipMiddleware),
    ]
)
app.include_router(fasterapi_app.app)
