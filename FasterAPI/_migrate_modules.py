"""The FastAPI and Starlette modules projects import, and their FasterAPI counterparts.

``MODULES`` lists each module and what replaces it (None: nothing does); a submodule not
listed falls back to its closest listed parent. ``provides`` asks the installed FasterAPI
whether a module has a name, so the table never promises more than the package has.
"""

from __future__ import annotations

import functools
import importlib

ROOTS = frozenset({"fastapi", "starlette"})

MODULES: dict[str, str | None] = {
    "fastapi": "FasterAPI",
    "fastapi.applications": "FasterAPI.app",
    "fastapi.background": "FasterAPI.background",
    "fastapi.concurrency": "FasterAPI.concurrency",
    "fastapi.datastructures": "FasterAPI.datastructures",
    "fastapi.dependencies": None,
    "fastapi.encoders": "FasterAPI.encoders",
    "fastapi.exception_handlers": "FasterAPI.exception_handlers",
    "fastapi.exceptions": "FasterAPI.exceptions",
    "fastapi.logger": None,
    "fastapi.middleware": "FasterAPI.middleware",
    "fastapi.middleware.cors": "FasterAPI.middleware.cors",
    "fastapi.middleware.gzip": "FasterAPI.middleware.gzip",
    "fastapi.middleware.httpsredirect": "FasterAPI.middleware.httpsredirect",
    "fastapi.middleware.trustedhost": "FasterAPI.middleware.trustedhost",
    "fastapi.middleware.wsgi": None,
    "fastapi.openapi": "FasterAPI.openapi",
    "fastapi.openapi.docs": "FasterAPI.openapi.docs",
    "fastapi.openapi.models": None,
    "fastapi.openapi.utils": "FasterAPI.openapi.utils",
    "fastapi.param_functions": "FasterAPI.params",
    "fastapi.params": "FasterAPI.params",
    "fastapi.requests": "FasterAPI.request",
    "fastapi.responses": "FasterAPI.response",
    "fastapi.routing": "FasterAPI.routing",
    "fastapi.security": "FasterAPI.security",
    "fastapi.security.api_key": "FasterAPI.security.api_key",
    "fastapi.security.base": "FasterAPI.security.base",
    "fastapi.security.http": "FasterAPI.security.http",
    "fastapi.security.oauth2": "FasterAPI.security.oauth2",
    "fastapi.security.open_id_connect_url": "FasterAPI.security.oauth2",
    "fastapi.staticfiles": "FasterAPI.staticfiles",
    "fastapi.status": "FasterAPI.status",
    "fastapi.templating": "FasterAPI.templating",
    "fastapi.testclient": "FasterAPI.testclient",
    "fastapi.types": None,
    "fastapi.utils": None,
    "fastapi.websockets": "FasterAPI.websocket",
    "starlette": "FasterAPI",
    "starlette.applications": None,
    "starlette.authentication": None,
    "starlette.background": "FasterAPI.background",
    "starlette.concurrency": "FasterAPI.concurrency",
    "starlette.config": None,
    "starlette.convertors": None,
    "starlette.datastructures": "FasterAPI.datastructures",
    "starlette.endpoints": None,
    "starlette.exceptions": "FasterAPI.exceptions",
    "starlette.formparsers": None,
    "starlette.middleware": "FasterAPI.middleware",
    "starlette.middleware.authentication": None,
    "starlette.middleware.base": "FasterAPI.middleware.base",
    "starlette.middleware.cors": "FasterAPI.middleware.cors",
    "starlette.middleware.errors": "FasterAPI.middleware.errors",
    "starlette.middleware.gzip": "FasterAPI.middleware.gzip",
    "starlette.middleware.httpsredirect": "FasterAPI.middleware.httpsredirect",
    "starlette.middleware.sessions": "FasterAPI.middleware.sessions",
    "starlette.middleware.trustedhost": "FasterAPI.middleware.trustedhost",
    "starlette.middleware.wsgi": None,
    "starlette.requests": "FasterAPI.request",
    "starlette.responses": "FasterAPI.response",
    "starlette.routing": "FasterAPI.routing",
    "starlette.schemas": None,
    "starlette.staticfiles": "FasterAPI.staticfiles",
    "starlette.status": "FasterAPI.status",
    "starlette.templating": "FasterAPI.templating",
    "starlette.testclient": "FasterAPI.testclient",
    "starlette.types": "FasterAPI._types",
    "starlette.websockets": "FasterAPI.websocket",
}

# Names FasterAPI spells differently, by the module they are imported from.
RENAMED = {
    ("fastapi", "FastAPI"): "Faster",
    ("fastapi.applications", "FastAPI"): "Faster",
    ("fastapi", "APIRouter"): "FasterRouter",
    ("fastapi.routing", "APIRouter"): "FasterRouter",
}

# Names a FasterAPI module has with another meaning (``routing.Route`` is a type alias).
_NOT_THE_SAME = frozenset({("FasterAPI.routing", "Route")})


def is_foreign(module: str) -> bool:
    return module.partition(".")[0] in ROOTS


def counterpart(module: str) -> tuple[str, str | None]:
    """The closest listed module of ``module`` (itself or a parent) and its counterpart."""
    name = module
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    if name not in MODULES:
        return name, None
    return name, MODULES[name]


def target_module(module: str) -> str | None:
    listed, target = counterpart(module)
    return target if listed == module else None


@functools.cache
def provides(module: str, name: str) -> bool:
    """True when ``from module import name`` works with this FasterAPI."""
    if (module, name) in _NOT_THE_SAME:
        return False
    try:
        imported = importlib.import_module(module)
    except ImportError:
        return True  # an optional extra is missing here: trust the table
    try:
        getattr(imported, name)
    except AttributeError:
        try:
            importlib.import_module(f"{module}.{name}")
        except ImportError:
            return False
    except ImportError:  # a lazy name whose optional extra is missing here
        return True
    return True
