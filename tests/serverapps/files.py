"""An app served by real servers in the tests: files from the directory in
``FASTERAPI_TEST_FILES`` (small.bin, big.bin), whole, in ranges, conditional; and
temporary copies deleted once the response is sent."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from FasterAPI import BackgroundTasks, Depends, Faster, FileResponse

app = Faster()
FOLDER = Path(os.environ.get("FASTERAPI_TEST_FILES", "."))


@app.get("/files/{name}")
async def get_file(name: str) -> FileResponse:
    if name not in ("small.bin", "big.bin"):
        return FileResponse(FOLDER / "missing")
    return FileResponse(FOLDER / name)


def _temporary_copy(name: str) -> str:
    handle, copy = tempfile.mkstemp(suffix=".bin")
    os.close(handle)
    shutil.copyfile(FOLDER / name, copy)
    return copy


@app.get("/exports/background/{name}")
async def export_with_background(name: str, tasks: BackgroundTasks) -> FileResponse:
    copy = _temporary_copy(name)
    tasks.add_task(os.unlink, copy)
    return FileResponse(copy)


def temporary_copy(name: str) -> Iterator[str]:
    copy = _temporary_copy(name)
    yield copy
    os.unlink(copy)


@app.get("/exports/teardown/{name}")
async def export_with_teardown(copy: str = Depends(temporary_copy)) -> FileResponse:
    return FileResponse(copy)
