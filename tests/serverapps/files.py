"""An app served by real servers in the tests: files from the directory in
``FASTERAPI_TEST_FILES`` (small.bin, big.bin), whole, in ranges, conditional."""

from __future__ import annotations

import os
from pathlib import Path

from FasterAPI import Faster, FileResponse

app = Faster()
FOLDER = Path(os.environ.get("FASTERAPI_TEST_FILES", "."))


@app.get("/files/{name}")
async def get_file(name: str) -> FileResponse:
    if name not in ("small.bin", "big.bin"):
        return FileResponse(FOLDER / "missing")
    return FileResponse(FOLDER / name)
