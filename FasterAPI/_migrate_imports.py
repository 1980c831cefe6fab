"""Imports for the migration: ``fastapi``/``starlette`` modules and names to FasterAPI's.

Every import form is handled where it stands (``from m import (a, b as c)`` over several
lines, ``import m.sub as alias``, imports inside functions or ``try``), and so are the
names they bind: ``fastapi.FastAPI()`` after ``import fastapi``, ``FastAPI`` renamed to
``Faster`` wherever it is used. A module or name FasterAPI lacks keeps its import, with a
TODO comment and a warning.

``tidy_imports`` runs on the rewritten text: it drops the Pydantic names nothing uses any
more and adds ``import msgspec`` and ``from typing import Annotated`` where needed.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize

from FasterAPI._migrate_modules import (
    MODULES,
    RENAMED,
    counterpart,
    is_foreign,
    provides,
    target_module,
)
from FasterAPI._migrate_source import Context, Edits, Source, delete_items, delete_statement, dotted

STANDARD_LIBRARY = frozenset(sys.stdlib_module_names)


def tokens_of(source: Source, node: ast.AST) -> list[tuple[str, int, int]]:
    """The tokens of one statement: (text, start offset, end offset)."""
    start = source.start(node)
    text = source.segment(node)
    line_starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            line_starts.append(index + 1)
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.NAME, tokenize.OP):
                (srow, scol), (erow, ecol) = token.start, token.end
                found.append(
                    (
                        token.string,
                        start + line_starts[srow - 1] + scol,
                        start + line_starts[erow - 1] + ecol,
                    )
                )
    except (tokenize.TokenError, IndentationError):
        pass
    return found


def module_span(source: Source, node: ast.ImportFrom) -> tuple[int, int] | None:
    """Where ``node``'s module name is written."""
    tokens = tokens_of(source, node)
    names = []
    for text, start, end in tokens[1:]:
        if text == "import":
            break
        names.append((start, end))
    return (names[0][0], names[-1][1]) if names else None


def rewrite_imports(ctx: Context) -> None:
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if is_foreign(node.module):
                _rewrite_from(ctx, node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if is_foreign(alias.name):
                    _rewrite_import(ctx, node, alias)
    _rewrite_module_references(ctx)
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.Name) and node.id in ctx.renames:
            ctx.edits.replace_node(node, ctx.renames[node.id])


def _rewrite_from(ctx: Context, node: ast.ImportFrom) -> None:
    module = node.module or ""
    target = target_module(module)
    if target is None:
        ctx.todo(node, f"FasterAPI has no counterpart of {module}: port this by hand")
        return
    mapped: list[tuple[ast.alias, str]] = []
    missing: list[ast.alias] = []
    if node.names[0].name == "*":  # names used from ``*`` that FasterAPI spells differently
        for (source_module, old), new in RENAMED.items():
            if source_module == module and can_rename(ctx.tree, old, new):
                ctx.renames[old] = new
    for alias in node.names:
        new = RENAMED.get((module, alias.name), alias.name)
        if alias.name == "*" or provides(target, new):
            mapped.append((alias, new))
        else:
            missing.append(alias)
    if not mapped:
        names = ", ".join(a.name for a in missing)
        ctx.todo(node, f"FasterAPI's {target} has no {names}: port this by hand")
        return
    span = module_span(ctx.source, node)
    if span is None:
        return
    ctx.edits.replace(*span, target)
    for alias, new in mapped:
        if new != alias.name:
            _rename_alias(ctx, alias, new)
    if missing:
        source = ctx.source
        delete_items(ctx.edits, node.names, set(missing))
        names = ", ".join(source.segment(a) for a in missing)
        message = f"FasterAPI has no {names}: port this by hand"
        line = f"from {module} import {names}  # TODO(fasterapi-migrate): {message}"
        ctx.edits.insert(source.end(node), "\n" + source.indent_of(node) + line)
        ctx.warnings.append((node.lineno, message))


def _rename_alias(ctx: Context, alias: ast.alias, new: str) -> None:
    start = ctx.source.start(alias)
    if alias.asname:
        ctx.edits.replace(start, start + len(alias.name), new)
    elif can_rename(ctx.tree, alias.name, new):
        ctx.edits.replace_node(alias, new)
        ctx.renames[alias.name] = new
    else:
        ctx.edits.replace_node(alias, f"{new} as {alias.name}")


def can_rename(tree: ast.Module, old: str, new: str) -> bool:
    """True when ``old`` is bound only by imports and ``new`` is not used at all."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id == new or (node.id == old and not isinstance(node.ctx, ast.Load)):
                return False
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name in (old, new):
                return False
        elif isinstance(node, ast.arg):
            if node.arg in (old, new):
                return False
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            if old in node.names or new in node.names:
                return False
        elif isinstance(node, ast.alias) and (node.asname or node.name.partition(".")[0]) == new:
            return False
    return True


def _rewrite_import(ctx: Context, node: ast.Import, alias: ast.alias) -> None:
    target = target_module(alias.name)
    if target is None:
        ctx.todo(node, f"FasterAPI has no counterpart of {alias.name}: port this by hand")
        return
    start = ctx.source.start(alias)
    if ctx.source.text[start : start + len(alias.name)] == alias.name:
        ctx.edits.replace(start, start + len(alias.name), target)


def _rewrite_module_references(ctx: Context) -> None:
    """``fastapi.FastAPI``, ``starlette.status.HTTP_200_OK``, ``fa.responses.X`` and the
    like, after ``import`` statements that bind a FastAPI or Starlette module."""
    bindings = ctx.bindings
    for node in ast.walk(ctx.tree):
        if not isinstance(node, (ast.Attribute, ast.Name)):
            continue
        parent = ctx.source.parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            continue  # only whole chains
        parts = dotted(node)
        if not parts or parts[0] not in bindings.modules:
            continue
        bound = bindings.names[parts[0]]
        if not is_foreign(bound):
            continue
        text = _new_reference(ctx, node, parts, bound, aliased=bindings.modules[parts[0]])
        if text is not None and text != ".".join(parts):
            ctx.edits.replace_node(node, text)


def _new_reference(
    ctx: Context, node: ast.AST, parts: list[str], bound: str, aliased: bool
) -> str | None:
    full = ".".join([bound, *parts[1:]])
    listed, target = counterpart(full)
    if target is None:
        ctx.todo(node, f"FasterAPI has no counterpart of {listed}: port this by hand")
        return None
    rest = full[len(listed) :].lstrip(".").split(".") if full != listed else []
    if rest:
        rest[0] = RENAMED.get((listed, rest[0]), rest[0])
        if not provides(target, rest[0]):
            ctx.todo(node, f"FasterAPI's {target} has no {rest[0]}: port this by hand")
    new_full = ".".join([target, *rest])
    if not aliased:
        return new_full
    root_target = MODULES.get(bound)
    if root_target is None:
        return None
    if new_full == root_target:
        return parts[0]
    if new_full.startswith(root_target + "."):
        return parts[0] + new_full[len(root_target) :]
    ctx.todo(node, f"{'.'.join(parts)} is FasterAPI's {new_full}: import it from there")
    return None


# -- after the rewrite: unused Pydantic imports out, msgspec and Annotated in ----------------


def tidy_imports(text: str) -> str:
    tree = ast.parse(text)
    source = Source(text, tree)
    edits = Edits(source)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    bound = {
        alias.asname or alias.name.partition(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
    need_msgspec = "msgspec" in used and "msgspec" not in bound
    need_annotated = "Annotated" in used and "Annotated" not in bound
    replaced_by_msgspec = False
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").partition(".")[0] != "pydantic":
                continue
            unused = {a for a in node.names if a.name != "*" and (a.asname or a.name) not in used}
        else:
            unused = {
                a
                for a in node.names
                if a.name.partition(".")[0] == "pydantic"
                and (a.asname or a.name.partition(".")[0]) not in used
            }
        if not unused:
            continue
        if len(unused) < len(node.names):
            delete_items(edits, node.names, set(unused))
        elif need_msgspec and not replaced_by_msgspec and node in tree.body:
            edits.replace_node(node, "import msgspec")
            replaced_by_msgspec = True
        else:
            delete_statement(edits, node)
    standard: list[str] = []
    others: list[str] = []
    if "SimpleNamespace" in used and "SimpleNamespace" not in bound:
        standard.append("from types import SimpleNamespace")
    if need_annotated:
        typing_import = next(
            (
                node
                for node in tree.body
                if isinstance(node, ast.ImportFrom)
                and node.module == "typing"
                and node.level == 0
                and node.names[0].name != "*"
            ),
            None,
        )
        if typing_import is not None:
            edits.insert(source.start(typing_import.names[0]), "Annotated, ")
        else:
            standard.append("from typing import Annotated")
    if need_msgspec and not replaced_by_msgspec:
        others.append("import msgspec")
    if "FasterAPI" in used and "FasterAPI" not in bound:  # beside a module left unmapped
        others.append("import FasterAPI")
    if "jsonable_encoder" in used and "jsonable_encoder" not in bound:
        others.append("from FasterAPI.encoders import jsonable_encoder")
    if standard:
        _add_import(edits, tree, standard, standard=True)
    if others:
        _add_import(edits, tree, others, standard=False)
    return edits.render() if edits.items else text


def _add_import(edits: Edits, tree: ast.Module, lines: list[str], standard: bool) -> None:
    """Add import lines among the module's top-level imports: standard library ones after
    the leading standard library imports, others before the first import that is not from
    the standard library (after every import when there is none)."""
    source = edits.source
    newline = "\r\n" if "\r\n" in source.text else "\n"
    line = newline.join(lines)
    imports = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
    ]
    others = [node for node in imports if not _is_standard(node)]
    if imports and not standard and others:
        edits.insert(source.line_starts[others[0].lineno], line + newline)
        return
    if imports:
        before = imports if not others else imports[: imports.index(others[0])]
        if before:
            end = source.line_end(before[-1].end_lineno or before[-1].lineno)
            edits.insert(end, newline + line)
        else:  # a standard library block of its own, above the others
            gap = newline if standard and others else ""
            edits.insert(source.line_starts[imports[0].lineno], line + newline + gap)
        return
    last = None
    for node in tree.body:
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (is_future or (is_docstring and last is None)):
            break
        last = node
    if last is None:
        edits.insert(0, line + newline)
    else:
        edits.insert(source.line_end(last.end_lineno or last.lineno), newline + line)


def _is_standard(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and (node.module or "").partition(".")[0] in STANDARD_LIBRARY
    return all(a.name.partition(".")[0] in STANDARD_LIBRARY for a in node.names)
