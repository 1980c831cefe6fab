"""The default exception handlers, for custom handlers that log or count and then answer
as the framework would:

    from FasterAPI.exception_handlers import http_exception_handler

    @app.exception_handler(HTTPException)
    async def logged(request, exc):
        logger.info("HTTP %s at %s", exc.status_code, request.url.path)
        return await http_exception_handler(request, exc)
"""

from FasterAPI._exception_handling import (
    http_exception_handler,
    request_validation_exception_handler,
)

__all__ = ["http_exception_handler", "request_validation_exception_handler"]
