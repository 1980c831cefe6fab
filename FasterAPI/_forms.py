"""Parsing form bodies (urlencoded and multipart) as they stream in, within limits.

python-multipart does the parsing; this module feeds it chunks, turns its callbacks
into fields and spooled ``UploadFile``s, and enforces the limits:

- more fields or files than allowed, or a field part over ``max_part_size`` -> 413
- malformed structure (no boundary, bad part headers, truncated body) -> 400
- too many / too large part headers -> 400 (python-multipart reports them as parse errors)
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus

from FasterAPI.datastructures import FormData, FormValue, Headers, UploadFile
from FasterAPI.exceptions import HTTPException

MAX_BOUNDARY = 200


@dataclass(frozen=True)
class FormLimits:
    max_fields: int = 1000
    max_files: int = 1000
    max_part_size: int = 1024 * 1024
    max_part_headers: int = 16
    max_header_size: int = 8192


def _too_large(message: str) -> HTTPException:
    return HTTPException(413, message)


def parse_urlencoded(body: bytes, limits: FormLimits) -> FormData:
    """``a=1&a=2`` -> FormData; ``;`` is not a separator; blank values are kept."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, "Form body is not valid UTF-8") from exc
    items: list[tuple[str, FormValue]] = []
    for piece in text.split("&"):
        if not piece:
            continue
        if len(items) >= limits.max_fields:
            raise _too_large(f"Too many form fields (limit {limits.max_fields})")
        name, _, value = piece.partition("=")
        try:
            value = unquote_plus(value, errors="strict")
        except UnicodeDecodeError as exc:
            raise HTTPException(400, "Form field is not valid UTF-8") from exc
        if len(value) > limits.max_part_size:
            raise _too_large(f"Form field over {limits.max_part_size} bytes")
        items.append((unquote_plus(name), value))
    return FormData(items)


def _options(header: bytes) -> tuple[bytes, dict[bytes, Any]]:
    from python_multipart.multipart import parse_options_header

    value, options = parse_options_header(header)
    return value, dict(options)


_EXTENDED_FILENAME = re.compile(rb";\s*filename\*\s*=\s*([^;]*)", re.IGNORECASE)


def _extended_filename(disposition: bytes) -> bytes | None:
    """The UTF-8 name of ``filename*=charset'lang'%xx..`` (RFC 5987), or None.

    RFC 7578 asks for a plain ``filename`` and python-multipart reads only that, but some
    clients send a non-ASCII name this way alone: the part is still a file, not text."""
    match = _EXTENDED_FILENAME.search(disposition)
    if match is None:
        return None
    charset, _, rest = match.group(1).strip().strip(b'"').decode("latin-1").partition("'")
    encoded = rest.partition("'")[2]
    try:
        name = unquote(encoded, encoding=charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        name = unquote(encoded, errors="replace")
    return name.encode("utf-8")


def _safe_filename(raw: str) -> str:
    """Only the last path component: a client's ``../../x`` or ``C:\\x`` never leaks out."""
    name = os.path.basename(raw.replace("\\", "/"))
    return name.replace("\x00", "")


class _Part:
    def __init__(self) -> None:
        self.header_pairs: list[tuple[bytes, bytes]] = []
        self.field = b""
        self.value = b""
        self.name = ""
        self.data = bytearray()
        self.upload: UploadFile | None = None


class MultipartReader:
    """Feeds chunks to python-multipart and collects fields/files between awaits."""

    def __init__(self, boundary: bytes, limits: FormLimits) -> None:
        self.limits = limits
        self.items: list[tuple[str, FormValue]] = []
        self.fields = 0
        self.files = 0
        self.ended = False
        self.part = _Part()
        self.pending: list[tuple[UploadFile, bytes]] = []
        from python_multipart.exceptions import ParseError
        from python_multipart.multipart import MultipartParser

        self.parse_error: type[Exception] = ParseError
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_done,
                "on_part_data": self._data,
                "on_part_end": self._end,
                "on_end": self._finished,
            },
            max_header_count=limits.max_part_headers,
            max_header_size=limits.max_header_size,
        )

    def _begin(self) -> None:
        self.part = _Part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.value += data[start:end]

    def _header_end(self) -> None:
        part = self.part
        part.header_pairs.append((part.field.lower(), part.value))
        part.field = part.value = b""

    def _headers_done(self) -> None:
        part = self.part
        disposition = next((v for k, v in part.header_pairs if k == b"content-disposition"), None)
        if disposition is None:
            raise HTTPException(400, "A multipart part has no Content-Disposition header")
        _, options = _options(disposition)
        if b"name" not in options:
            raise HTTPException(400, "A multipart part has no field name")
        part.name = options[b"name"].decode("utf-8", "replace")
        raw_filename = options.get(b"filename")
        if raw_filename is None:
            raw_filename = _extended_filename(disposition)
        if raw_filename is not None:
            self.files += 1
            if self.files > self.limits.max_files:
                raise _too_large(f"Too many files (limit {self.limits.max_files})")
            filename = _safe_filename(raw_filename.decode("utf-8", "replace"))
            part.upload = UploadFile(
                filename=filename, size=0, headers=Headers(raw=part.header_pairs)
            )
        else:
            self.fields += 1
            if self.fields > self.limits.max_fields:
                raise _too_large(f"Too many form fields (limit {self.limits.max_fields})")

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        if part.upload is not None:
            self.pending.append((part.upload, data[start:end]))
            return
        part.data += data[start:end]
        if len(part.data) > self.limits.max_part_size:
            raise _too_large(f"Form field over {self.limits.max_part_size} bytes")

    def _end(self) -> None:
        part = self.part
        if part.upload is not None:
            self.items.append((part.name, part.upload))
            return
        try:
            text = part.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HTTPException(400, f"Form field {part.name!r} is not valid UTF-8") from exc
        self.items.append((part.name, text))

    def _finished(self) -> None:
        self.ended = True

    async def feed(self, chunk: bytes) -> None:
        try:
            self.parser.write(chunk)
        except self.parse_error as exc:
            raise HTTPException(400, f"Malformed multipart body: {exc}") from exc
        pending, self.pending = self.pending, []
        for upload, data in pending:
            await upload.write(data)

    async def close_files(self) -> None:
        for upload in self._uploads():
            await upload.close()

    def _uploads(self) -> list[UploadFile]:
        found = [value for _, value in self.items if isinstance(value, UploadFile)]
        if self.part.upload is not None and self.part.upload not in found:
            found.append(self.part.upload)
        return found


async def parse_multipart(
    content_type: bytes, chunks: AsyncIterator[bytes], limits: FormLimits
) -> FormData:
    _, options = _options(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise HTTPException(400, "Multipart body without a boundary")
    if len(boundary) > MAX_BOUNDARY:
        raise HTTPException(400, "Multipart boundary too long")
    reader = MultipartReader(boundary, limits)
    try:
        async for chunk in chunks:
            if chunk:
                await reader.feed(chunk)
        if not reader.ended:
            raise HTTPException(400, "Malformed multipart body: truncated")
    except BaseException:
        await reader.close_files()
        raise
    for _, value in reader.items:
        if isinstance(value, UploadFile):
            await value.seek(0)
    return FormData(reader.items)
