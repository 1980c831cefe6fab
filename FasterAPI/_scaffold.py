"""``fasterapi new NAME``: a small project whose own tests pass out of the box."""

from __future__ import annotations

import re
from pathlib import Path

# A distribution name (PEP 508) is also a plain directory name on every system.
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")

MAIN = '''"""{name}: a FasterAPI service."""

from typing import Annotated

import msgspec

from FasterAPI import Faster, HTTPException, Query

app = Faster(title="{name}")


class Note(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


NOTES: list[Note] = []


@app.get("/health")
async def health() -> dict[str, str]:
    return {{"status": "ok"}}


@app.get("/notes")
async def list_notes(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[Note]:
    return NOTES[:limit]


@app.post("/notes", status_code=201)
async def add_note(note: Note) -> Note:
    NOTES.append(note)
    return note


@app.get("/notes/{{index}}")
async def get_note(index: int) -> Note:
    if not 0 <= index < len(NOTES):
        raise HTTPException(404, "No such note")
    return NOTES[index]
'''

TESTS = """from FasterAPI.testclient import TestClient

from main import app

client = TestClient(app)


def test_health():
    assert client.get("/health").json() == {{"status": "ok"}}


def test_notes_round_trip():
    created = client.post("/notes", json={{"text": "hello"}})
    assert created.status_code == 201
    assert client.get("/notes/0").json() == {{"text": "hello"}}
    assert client.get("/notes/99").status_code == 404


def test_invalid_note_is_422():
    assert client.post("/notes", json={{"text": ""}}).status_code == 422
"""

PYPROJECT = """[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["FasterAPI[testclient,server]"]

[project.optional-dependencies]
test = ["pytest>=8"]

[tool.setuptools]
py-modules = ["main"]  # the tests stay out of the distribution

[tool.pytest.ini_options]
pythonpath = ["."]
"""

README = """# {name}

    pip install -e '.[test]'
    fasterapi dev          # http://127.0.0.1:8000/health
    pytest
"""


def create_project(name: str) -> Path:
    """Write the project into the directory ``name``, which must not exist or be empty.

    ``name`` is the project's name too: letters, digits and ``.-_`` inside, no path.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid project name {name!r}: use letters, digits, '.', '-' and '_' "
            "(starting and ending with a letter or digit), not a path"
        )
    if re.sub(r"[-_.]+", "-", name).lower() == "fasterapi":
        raise ValueError("invalid project name: the project depends on FasterAPI itself")
    target = Path(name)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{name} already exists and is not an empty directory")
    target.mkdir(exist_ok=True)
    files = {
        "main.py": MAIN,
        "test_main.py": TESTS,
        "pyproject.toml": PYPROJECT,
        "README.md": README,
    }
    for filename, template in files.items():
        (target / filename).write_text(template.format(name=name))
    return target
