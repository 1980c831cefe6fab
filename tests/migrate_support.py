"""Helpers of the migrate-from-fastapi tests: write a project, run the command, look at
what came out."""

import ast
import io
import subprocess
import sys
import textwrap
import tokenize
from collections import Counter
from pathlib import Path

from FasterAPI.cli import main

TODO = "TODO(fasterapi-migrate)"


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def snapshot(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def migrate(capsys, path: Path, *options: str) -> tuple[int, str, str]:
    code = main(["migrate-from-fastapi", str(path), *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def check_in_subprocess(cwd: Path, script: str) -> None:
    result = run(cwd, "-c", textwrap.dedent(script) + "\nprint('checked')\n")
    assert result.stdout.strip().endswith("checked"), result.stdout + result.stderr


def imported_modules(text: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def strings_and_comments(text: str) -> Counter:
    """Every string and comment, a comment without the TODO the migration appended."""
    kinds = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    found: Counter = Counter()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in kinds:
            found[token.string] += 1
        elif token.type == tokenize.COMMENT:
            comment = token.string.split(f"# {TODO}")[0].rstrip()
            if comment:
                found[comment] += 1
    return found
