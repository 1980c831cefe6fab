"""``fasterapi migrate-from-fastapi PATH``: rewrite a FastAPI project for FasterAPI.

Each Python file under PATH is parsed with ``ast`` and edited in place, code only
(strings and comments stay as they are):

- imports of ``fastapi`` and ``starlette`` modules point at their FasterAPI counterparts
  (the table is ``FasterAPI._migrate_modules``), ``FastAPI`` becomes ``Faster`` and
  ``APIRouter`` ``FasterRouter`` (``FasterAPI._migrate_imports``);
- Pydantic models become ``msgspec.Struct`` classes (``FasterAPI._migrate_models``), their
  ``Field(...)`` constraints ``msgspec.Meta`` ones (``FasterAPI._migrate_fields``);
- model methods (``.dict()``, ``Model.model_validate(d)``...) become msgspec calls, and
  keyword arguments FasterAPI does not take are removed (``FasterAPI._migrate_calls``).

``FasterAPI._migrate_source`` turns all of it into text edits.

What cannot be translated is kept or listed in a ``# TODO(fasterapi-migrate): ...``
comment and reported as ``file:line: what to do``. Virtual environments
(any directory holding ``pyvenv.cfg``), ``site-packages``, ``node_modules``,
``__pycache__`` and hidden directories are skipped; a file that is not valid Python is
reported and left alone.
"""

from __future__ import annotations

import ast
import difflib
import io
import os
import tokenize
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from FasterAPI._migrate_calls import convert_calls
from FasterAPI._migrate_imports import rewrite_imports, tidy_imports
from FasterAPI._migrate_models import (
    attribute_models,
    convert_models,
    flag_model_unions,
    flag_pydantic_leftovers,
    imported_as,
    model_aliases,
    model_classes,
)
from FasterAPI._migrate_source import Context

SKIPPED_DIRECTORIES = frozenset({"__pycache__", "site-packages", "dist-packages", "node_modules"})


@dataclass
class FileResult:
    """One file's outcome: its unified diff ("" when unchanged) and the warnings for it."""

    path: Path
    diff: str = ""
    warnings: list[str] = field(default_factory=list)


def rewrite_source(
    text: str,
    models: frozenset[str] = frozenset(),
    orm_models: frozenset[str] = frozenset(),
    aliases: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[str, list[tuple[int, str]]]:
    """The FasterAPI version of one file's text and its warnings as (line, message).

    ``models`` names the Pydantic model classes defined elsewhere in the project,
    ``orm_models`` those of them read from objects' attributes, ``aliases`` their fields'
    aliases (``model_aliases``). Raises ``SyntaxError`` for text that is not valid Python.
    """
    tree = ast.parse(text)
    models = models | model_classes(tree, models)
    orm_models = orm_models | attribute_models(tree, models, orm_models)
    aliases = {**model_aliases([tree], models), **(aliases or {})}
    for name, original in imported_as(tree, models).items():  # the names this file uses
        models |= {name}
        orm_models |= {name} if original in orm_models else set()
        if original in aliases:
            aliases[name] = aliases[original]
    ctx = Context(text, tree, models, orm_models, aliases)
    rewrite_imports(ctx)
    convert_models(ctx)
    convert_calls(ctx)
    flag_model_unions(ctx)
    flag_pydantic_leftovers(ctx)
    result = ctx.edits.render()
    if result != text:
        result = tidy_imports(result)
        ast.parse(result)
    return result, sorted(set(ctx.warnings))


def python_files(path: Path) -> Iterator[Path]:
    """``path`` itself, or the Python files under it outside environments and caches."""
    if path.is_file():
        yield path
        return
    for directory, subdirectories, files in os.walk(path):
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if not name.startswith(".")
            and name not in SKIPPED_DIRECTORIES
            and not os.path.exists(os.path.join(directory, name, "pyvenv.cfg"))
        )
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(directory, name)


def project_models(trees: Iterable[ast.Module]) -> tuple[frozenset[str], frozenset[str]]:
    """Names of the Pydantic model classes defined across the project's files, and of
    those read from objects' attributes."""
    trees = list(trees)
    known: frozenset[str] = frozenset()
    orm: frozenset[str] = frozenset()
    while True:
        found, found_orm = set(known), set(orm)
        for tree in trees:
            found |= model_classes(tree, known)
            found_orm |= attribute_models(tree, known, orm)
        if found == known and found_orm == orm:
            return known, orm
        known, orm = frozenset(found), frozenset(found_orm)


@dataclass
class _File:
    path: Path
    text: str = ""
    encoding: str = "utf-8"
    tree: ast.Module | None = None
    error: str = ""


def _read(path: Path) -> _File:
    file = _File(path)
    try:
        raw = path.read_bytes()
        file.encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        file.text = raw.decode(file.encoding)
        file.tree = ast.parse(file.text)
    except SyntaxError as exc:
        file.error = f"{path}:{exc.lineno or 1}: not valid Python ({exc.msg}); left unchanged"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        file.error = f"{path}:1: cannot be read ({exc}); left unchanged"
    return file


def migrate_path(path: Path, dry_run: bool = False) -> Iterator[FileResult]:
    """Rewrite every Python file under ``path`` (only report with ``dry_run``)."""
    if not path.exists():
        raise FileNotFoundError(path)
    files = [_read(file) for file in python_files(path)]
    trees = [file.tree for file in files if file.tree is not None]
    models, orm_models = project_models(trees)
    aliases = model_aliases(trees, models)
    for file in files:
        if file.tree is None:
            yield FileResult(file.path, warnings=[file.error])
            continue
        try:
            after, warnings = rewrite_source(file.text, models, orm_models, aliases)
        except Exception as exc:  # a rewrite that fails, or would break the file, is not written
            problem = exc.msg if isinstance(exc, SyntaxError) else f"{type(exc).__name__}: {exc}"
            message = f"{file.path}:1: could not be rewritten ({problem}); left unchanged"
            yield FileResult(file.path, warnings=[message])
            continue
        result = FileResult(file.path, warnings=[f"{file.path}:{n}: {m}" for n, m in warnings])
        if after != file.text:
            result.diff = "".join(
                difflib.unified_diff(
                    file.text.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    fromfile=str(file.path),
                    tofile=str(file.path),
                )
            )
            if not dry_run:
                file.path.write_bytes(after.encode(file.encoding))
        yield result
