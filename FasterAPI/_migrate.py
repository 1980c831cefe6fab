"""``fasterapi migrate-from-fastapi PATH``: rewrite FastAPI imports and names to FasterAPI.

Covers what most projects use: ``FastAPI`` -> ``Faster``, ``APIRouter`` -> ``FasterRouter``,
``fastapi.*``/``starlette.*`` modules to their FasterAPI counterparts, and Pydantic
``BaseModel`` classes to ``msgspec.Struct``. Anything it cannot translate is left as is.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from pathlib import Path

_MODULES = {
    "fastapi.responses": "FasterAPI.response",
    "starlette.responses": "FasterAPI.response",
    "fastapi.testclient": "FasterAPI.testclient",
    "starlette.testclient": "FasterAPI.testclient",
    "fastapi.staticfiles": "FasterAPI.staticfiles",
    "starlette.staticfiles": "FasterAPI.staticfiles",
    "fastapi.security": "FasterAPI.security",
    "fastapi.middleware.cors": "FasterAPI.middleware.cors",
    "starlette.middleware.cors": "FasterAPI.middleware.cors",
    "fastapi.middleware.gzip": "FasterAPI.middleware.gzip",
    "fastapi.templating": "FasterAPI.templating",
    "fastapi.websockets": "FasterAPI.websocket",
    "starlette.websockets": "FasterAPI.websocket",
    "fastapi.background": "FasterAPI.background",
    "starlette.background": "FasterAPI.background",
    "fastapi.concurrency": "FasterAPI.concurrency",
    "starlette.concurrency": "FasterAPI.concurrency",
    "starlette.requests": "FasterAPI.request",
    "starlette.datastructures": "FasterAPI.datastructures",
    "fastapi.exceptions": "FasterAPI.exceptions",
    "starlette.exceptions": "FasterAPI.exceptions",
    "fastapi": "FasterAPI",
}
_NAMES = {"FastAPI": "Faster", "APIRouter": "FasterRouter"}
_FROM_IMPORT = re.compile(r"^(\s*)from\s+([\w.]+)\s+import\s+(.+)$", re.MULTILINE)
_PLAIN_IMPORT = re.compile(r"^(\s*)import\s+(fastapi|starlette)\b.*$", re.MULTILINE)


def _rename_imported(names: str) -> str:
    for old, new in _NAMES.items():
        names = re.sub(rf"\b{old}\b", new, names)
    return names


def _rewrite_from(match: re.Match[str]) -> str:
    indent, module, names = match.groups()
    if module == "pydantic":
        kept = [n.strip() for n in names.strip("()").split(",") if n.strip()]
        rest = [n for n in kept if n != "BaseModel"]
        lines = [f"{indent}import msgspec"] if "BaseModel" in kept else []
        if rest:
            lines.append(f"{indent}from pydantic import {', '.join(rest)}")
        return "\n".join(lines)
    if module in _MODULES:
        return f"{indent}from {_MODULES[module]} import {_rename_imported(names)}"
    return match.group(0)


def rewrite_source(source: str) -> str:
    """The FasterAPI version of one Python file's text."""
    if "fastapi" not in source and "starlette" not in source and "pydantic" not in source:
        return source
    result = _FROM_IMPORT.sub(_rewrite_from, source)
    result = _PLAIN_IMPORT.sub(lambda m: f"{m.group(1)}import FasterAPI", result)
    result = re.sub(r"\bfastapi\.FastAPI\b", "FasterAPI.Faster", result)
    result = re.sub(r"\bfastapi\.APIRouter\b", "FasterAPI.FasterRouter", result)
    result = re.sub(r"\bfastapi\.", "FasterAPI.", result)
    for old, new in _NAMES.items():
        result = re.sub(rf"\b{old}\(", f"{new}(", result)
    result = re.sub(r"\(\s*BaseModel\s*\)", "(msgspec.Struct)", result)
    return result


def _python_files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for file in sorted(path.rglob("*.py")):
        if not any(part.startswith(".") or part == "__pycache__" for part in file.parts):
            yield file


def migrate_path(path: Path, dry_run: bool = False) -> Iterator[tuple[Path, str]]:
    """Rewrite every Python file under ``path``; yields (file, unified diff) for changed ones."""
    if not path.exists():
        raise FileNotFoundError(path)
    for file in _python_files(path):
        before = file.read_text()
        after = rewrite_source(before)
        if after == before:
            continue
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                fromfile=str(file),
                tofile=str(file),
            )
        )
        if not dry_run:
            file.write_text(after)
        yield file, diff
