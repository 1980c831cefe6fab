"""The text side of the migration: positions, edits and TODO comments for one file.

Rewrites never print an AST back (that would lose comments and layout): each one is an
``Edit`` of the original text, a span replaced by parts that are either new text or spans
of the original. A span part is rendered with the edits inside it applied, so a rewrite
may wrap or move code that other rewrites also touch. Edits are nested or disjoint; an
insertion at the start of a replaced span goes before it. TODO comments are appended to
the end of a line that does not end inside a string or with a backslash.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Union

TODO = "TODO(fasterapi-migrate)"
Part = Union[str, tuple[int, int]]
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass
class Edit:
    start: int
    end: int
    parts: tuple[Part, ...]
    order: int


class Source:
    """A file's text with ``ast`` positions (line, UTF-8 column) turned into offsets."""

    def __init__(self, text: str, tree: ast.Module) -> None:
        self.text = text
        self.tree = tree
        self.line_starts = [0, 0] + [m.end() for m in _NEWLINE.finditer(text)]
        self.parents: dict[ast.AST, ast.AST] = {}
        unsafe: set[int] = set()
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            if isinstance(node, (ast.Constant, ast.JoinedStr)) and node.end_lineno:
                unsafe.update(range(node.lineno, node.end_lineno))
        self.unsafe_lines = unsafe

    @property
    def line_count(self) -> int:
        count = len(self.line_starts) - 1
        if count > 1 and self.line_starts[-1] == len(self.text):
            count -= 1  # nothing follows the last line break
        return count

    def offset(self, lineno: int, col: int) -> int:
        start = self.line_starts[lineno]
        line = self.text[start : start + col]
        if line.isascii():
            return start + col
        end = self.line_end(lineno)
        return start + len(self.text[start:end].encode()[:col].decode(errors="ignore"))

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.start(node), self.end(node)

    def segment(self, node: ast.AST) -> str:
        return self.text[self.start(node) : self.end(node)]

    def line_of(self, offset: int) -> int:
        low, high = 1, self.line_count
        while low < high:
            middle = (low + high + 1) // 2
            if self.line_starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low

    def line_end(self, lineno: int) -> int:
        """The offset just before ``lineno``'s line break."""
        if lineno + 1 < len(self.line_starts):
            end = self.line_starts[lineno + 1]
            match = _NEWLINE.search(self.text, self.line_starts[lineno], end)
            return match.start() if match else end
        return len(self.text)

    def line_text(self, lineno: int) -> str:
        return self.text[self.line_starts[lineno] : self.line_end(lineno)]

    def comment_safe(self, lineno: int) -> bool:
        """True when a comment can be appended to the line without changing the code."""
        return lineno not in self.unsafe_lines and not self.line_text(lineno).endswith("\\")

    def statement_of(self, node: ast.AST) -> ast.stmt | None:
        while not isinstance(node, ast.stmt):
            parent = self.parents.get(node)
            if parent is None:
                return None
            node = parent
        return node

    def indent_of(self, node: ast.AST) -> str:
        line = self.line_text(node.lineno)  # type: ignore[attr-defined]
        return line[: len(line) - len(line.lstrip())]


@dataclass
class Edits:
    """The edits and TODO comments collected for one file, and their rendering."""

    source: Source
    items: list[Edit] = field(default_factory=list)
    todos: dict[int, list[str]] = field(default_factory=dict)

    def replace(self, start: int, end: int, *parts: Part) -> None:
        self.items.append(Edit(start, end, parts, len(self.items)))

    def replace_node(self, node: ast.AST, *parts: Part) -> None:
        self.replace(*self.source.span(node), *parts)

    def insert(self, offset: int, text: str) -> None:
        self.replace(offset, offset, text)

    def todo(self, node: ast.AST, message: str) -> int:
        """A TODO comment for ``node``, on its statement's last line (or the line of an
        expression in a compound statement's header); returns the line number used."""
        source = self.source
        statement = source.statement_of(node)
        compound = isinstance(statement, _COMPOUND)
        if isinstance(node, ast.stmt) and compound:
            lineno = node.lineno
        elif statement is not None and not compound:
            lineno = statement.end_lineno or statement.lineno
        else:
            lineno = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        while lineno < source.line_count and not source.comment_safe(lineno):
            lineno += 1
        messages = self.todos.setdefault(lineno, [])
        if message not in messages:
            messages.append(message)
        return lineno

    def render(self) -> str:
        items = list(self.items)
        for lineno, messages in self.todos.items():
            if TODO not in self.source.line_text(lineno):  # not again on a second run
                offset = self._outside_edits(self.source.line_end(lineno))
                text = "  # " + "; ".join(f"{TODO}: {m}" for m in messages)
                items.append(Edit(offset, offset, (text,), len(items)))
        items.sort(key=lambda e: (e.start, e.start != e.end, e.start - e.end, e.order))
        return "".join(self._render(0, len(self.source.text), items))

    def _outside_edits(self, offset: int) -> int:
        moved = True
        while moved:
            moved = False
            for edit in self.items:
                if edit.start < offset < edit.end:
                    offset = self.source.line_end(self.source.line_of(edit.end))
                    moved = True
        return offset

    def _render(self, start: int, end: int, items: list[Edit]) -> Iterator[str]:
        text = self.source.text
        position = start
        index = 0
        while index < len(items):
            edit = items[index]
            index += 1
            if edit.start < position or edit.end > end:
                continue  # inside an edit already rendered, or partly outside this span
            yield text[position : edit.start]
            inner = [
                e
                for e in items[index:]
                if edit.start <= e.start and e.end <= edit.end and e.start < edit.end
                if not (e.start == e.end == edit.start)
            ]
            for part in edit.parts:
                if isinstance(part, str):
                    yield part
                else:
                    yield from self._render(part[0], part[1], _within(inner, part))
            position = max(position, edit.end)
        yield text[position:end]


def delete_items(edits: Edits, items: Sequence[ast.AST], dropped: set[ast.AST]) -> None:
    """Remove some items of a comma-separated list (import names, call arguments), their
    commas included, leaving the rest in place. At least one item must stay. A comment
    after a removed item goes with it; one after a kept item stays."""
    source, text = edits.source, edits.source.text
    index = 0
    while index < len(items):
        if items[index] not in dropped:
            index += 1
            continue
        run_end = index
        while run_end + 1 < len(items) and items[run_end + 1] in dropped:
            run_end += 1
        start, end = source.start(items[index]), source.end(items[run_end])
        if run_end + 1 < len(items):
            edits.replace(start, source.start(items[run_end + 1]))
        elif "#" not in text[source.end(items[index - 1]) : start]:
            edits.replace(source.end(items[index - 1]), end)
        else:  # keep the comment of the item before: remove the run's own lines only
            line_start = source.line_starts[source.line_of(start)]
            if not text[line_start:start].strip():
                start = line_start
            rest = text[end : source.line_end(source.line_of(end))]
            if rest.strip() in ("", ","):
                end = source.line_end(source.line_of(end))
                newline = _NEWLINE.match(text, end)
                end = newline.end() if newline else end
            edits.replace(start, end)
        index = run_end + 1


def delete_statement(edits: Edits, node: ast.stmt, removed: Iterable[ast.stmt] = ()) -> None:
    """Remove a statement: its whole lines when it stands alone, else ``pass`` in its place.
    A blank line left doubled, or leading or ending its block, goes with it; ``removed``
    are the statements of the block removed with it."""
    source = edits.source
    parent = source.parents.get(node)
    block = next(
        (
            body
            for name in ("body", "orelse", "finalbody")
            for body in [getattr(parent, name, None)]
            if isinstance(body, list) and node in body
        ),
        [],
    )
    start, end = source.span(node)
    first, last = node.lineno, node.end_lineno or node.lineno
    before = source.text[source.line_starts[first] : start]
    after = source.text[end : source.line_end(last)]
    if len(block) == 1 or before.strip() or after.strip():
        edits.replace(start, end, "pass")
        return
    lines = source.line_count

    def blank(lineno: int) -> bool:  # and not already removed with a neighbour
        offset = source.line_starts[lineno]
        taken = any(e.start <= offset < e.end for e in edits.items)
        return not taken and not source.line_text(lineno).strip()

    blank_before = first > 1 and blank(first - 1)
    blank_after = last < lines and blank(last + 1)
    gone = {id(statement) for statement in removed} | {id(node)}
    position = block.index(node)
    leads = all(id(statement) in gone for statement in block[:position])
    ends = all(id(statement) in gone for statement in block[position:])
    if blank_before and (ends or last == lines):
        first -= 1
    elif blank_after and (blank_before or leads):
        last += 1
    stop = source.line_starts[last + 1] if last + 1 < len(source.line_starts) else len(source.text)
    edits.replace(source.line_starts[first], stop)


def _within(items: Iterable[Edit], span: tuple[int, int]) -> list[Edit]:
    return [e for e in items if span[0] <= e.start and e.end <= span[1]]


_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Match,
)


class Bindings:
    """What the file's imports bind: name -> dotted origin (``Field`` -> ``pydantic.Field``,
    ``fa`` -> ``fastapi`` for ``import fastapi as fa``). Relative imports are left out."""

    def __init__(self, tree: ast.Module) -> None:
        self.names: dict[str, str] = {}
        self.modules: dict[str, bool] = {}  # names bound by ``import``: aliased or not
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.names[alias.asname] = alias.name
                        self.modules[alias.asname] = True
                    else:
                        root = alias.name.partition(".")[0]
                        self.names[root] = root
                        self.modules[root] = False
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    if alias.name != "*":
                        self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def qualname(self, node: ast.AST) -> str | None:
        """The dotted origin of a name or attribute chain rooted at an imported name."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        return None


def dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; None for anything but names and attributes."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


class Context:
    """Everything the rewrites of one file share."""

    def __init__(
        self,
        text: str,
        tree: ast.Module,
        models: frozenset[str],
        orm_models: frozenset[str] = frozenset(),
        aliases: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.source = Source(text, tree)
        self.tree = tree
        self.edits = Edits(self.source)
        self.bindings = Bindings(tree)
        self.models = models
        self.orm_models = orm_models  # models read from objects' attributes
        self.aliases = aliases or {}  # model -> {field alias: field name}
        self.warnings: list[tuple[int, str]] = []
        self.renames: dict[str, str] = {}
        self.handled: set[ast.AST] = set()  # Pydantic references already rewritten or flagged

    def todo(self, node: ast.AST, message: str) -> None:
        """Leave a TODO comment near ``node`` and report it, on one line (the message may
        quote code written over several)."""
        message = " ".join(message.split())
        self.edits.todo(node, message)
        self.warnings.append((node.lineno, message))  # type: ignore[attr-defined]

    def origin(self, node: ast.AST, package: str) -> str | None:
        """The imported name ``node`` refers to when it comes from ``package``."""
        name = self.bindings.qualname(node)
        if name is not None and (name == package or name.startswith(package + ".")):
            return name
        return None
