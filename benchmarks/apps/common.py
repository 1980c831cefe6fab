"""Constants every benchmark app shares, so that all of them answer byte for byte alike."""

from __future__ import annotations

TEXT = "hello"

STREAM_CHUNK_SIZE = 1024
STREAM_CHUNK_COUNT = 100
# Not one repeated byte, so that a framework that reorders or re-encodes chunks is caught.
STREAM_CHUNK = bytes(range(256)) * (STREAM_CHUNK_SIZE // 256)
STREAM_MEDIA_TYPE = "application/octet-stream"

TOKEN_HEADER = "x-token"
