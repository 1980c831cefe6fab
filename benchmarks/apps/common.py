"""Constants every benchmark app shares, so that all of them answer byte for byte alike."""

from __future__ import annotations

TEXT = "hello"

STREAM_CHUNK_SIZE = 1024
STREAM_CHUNK_COUNT = 100
# Not one repeated byte, so that a framework that reorders or re-encodes chunks is caught.
STREAM_CHUNK = bytes(range(256)) * (STREAM_CHUNK_SIZE // 256)
STREAM_MEDIA_TYPE = "application/octet-stream"

TOKEN_HEADER = "x-token"

# A 64 KiB file for the FileResponse endpoint, written once per process.
FILE_SIZE = 64 * 1024
FILE_BYTES = bytes(range(256)) * (FILE_SIZE // 256)
FILE_MEDIA_TYPE = "application/octet-stream"


def _write_file() -> str:
    import os
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"fasterapi-bench-{FILE_SIZE}.bin")
    if not os.path.exists(path) or os.path.getsize(path) != FILE_SIZE:
        with open(path, "wb") as handle:
            handle.write(FILE_BYTES)
    return path


FILE_PATH = _write_file()

SSE_EVENT_COUNT = 100
SSE_MEDIA_TYPE = "text/event-stream; charset=utf-8"
# Each event: "event: tick", "id: N", 'data: {"n":N}'.
SSE_EVENTS = [b'event: tick\nid: %d\ndata: {"n":%d}\n\n' % (n, n) for n in range(SSE_EVENT_COUNT)]
SSE_BODY = b"".join(SSE_EVENTS)
