"""API keys sent in a header, a query parameter or a cookie.

    api_key = APIKeyHeader(name="X-API-Key")

    @app.get("/reports")
    def reports(key: str = Depends(api_key)):
        ...

The dependency returns the key as sent (checking it is the application's job). A missing or
empty key gives 401 with ``WWW-Authenticate: APIKey`` (API keys have no registered HTTP
scheme; the challenge names the convention FastAPI uses), or ``None`` when
``auto_error=False``. Header names match case-insensitively; query and cookie names exactly.
"""

from __future__ import annotations

from typing import Literal

from FasterAPI.request import Request
from FasterAPI.security.base import SecurityBase, challenge, note_credential, unauthorized

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]


class APIKeyBase(SecurityBase):
    """An API key read from ``location`` under ``name``."""

    location: Literal["header", "query", "cookie"]

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if not name:
            raise ValueError("An API key needs the name of its header, query parameter or cookie")
        super().__init__(
            {"type": "apiKey", "in": self.location, "name": name},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
        self.name = name
        self.challenge = challenge("APIKey")

    def read(self, request: Request) -> str | None:
        raise NotImplementedError

    async def __call__(self, request: Request) -> str | None:
        note_credential(request, self.location, self.name)  # also for a read() of one's own
        key = self.read(request)
        if key:
            return key
        if self.auto_error:
            raise unauthorized(self.challenge)
        return None


class APIKeyHeader(APIKeyBase):
    location = "header"

    def read(self, request: Request) -> str | None:
        note_credential(request, "header", self.name)
        value: str | None = request.headers.get(self.name)
        return value.strip() if value else None


class APIKeyQuery(APIKeyBase):
    location = "query"

    def read(self, request: Request) -> str | None:
        note_credential(request, "query", self.name)
        value: str | None = request.query_params.get(self.name)
        return value


class APIKeyCookie(APIKeyBase):
    location = "cookie"

    def read(self, request: Request) -> str | None:
        note_credential(request, "cookie", self.name)
        return request.cookies.get(self.name)
