"""A small app whose routes need a bearer token, for the Swagger "Authorize" browser test."""

from typing import Annotated

from FasterAPI import Depends, Faster
from FasterAPI.security.http import HTTPAuthorizationCredentials, HTTPBearer

app = Faster(title="Secured")
bearer = HTTPBearer()


@app.get("/secret")
async def secret(credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> dict:
    return {"token": credentials.credentials}
