"""FileResponse: a file from disk, streamed in chunks, with validators and byte ranges."""

from __future__ import annotations

import mimetypes
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Mapping
from urllib.parse import quote

from FasterAPI import _local_files
from FasterAPI._http_conditions import (
    ByteRange,
    content_range,
    evaluate,
    http_date,
    multipart_layout,
    parse_http_date,
)
from FasterAPI._rsgi import str_headers
from FasterAPI._rsgi_scope import RSGI_BRIDGE, has_any_header
from FasterAPI._types import Receive, Scope, Send
from FasterAPI.background import BackgroundTask
from FasterAPI.concurrency import run_in_threadpool
from FasterAPI.datastructures import Headers, MutableHeaders, RawHeaders, check_header_text
from FasterAPI.response import (
    CLEANUP_AFTER_RESPONSE,
    RESPONSE_STARTED,
    JSONResponse,
    Response,
    build_raw_headers,
    status_allows_body,
)

CHUNK_SIZE = 64 * 1024

# Common types that Python's built-in table lacks before 3.12-3.13 (used when the system's
# mime.types does not supply them either).
_FALLBACK_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".md": "text/markdown",
    ".otf": "font/otf",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".ttf": "font/ttf",
    ".webp": "image/webp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# RFC 5987 attr-char besides the letters, digits and "-._~" that quote() always keeps.
_ATTR_CHAR_EXTRA = "!#$&+^`|"
# Representation metadata left out of a 304 (RFC 9110 §15.4.5) or a body-less status.
_REPRESENTATION_HEADERS = frozenset({b"content-type", b"content-length", b"content-disposition"})


class FileResponse(Response):
    """The file at ``path``, streamed in chunks with ETag, Last-Modified and Range support.

    The file is stat'ed and opened before ``http.response.start`` goes out, so a missing
    file or a directory raises ``RuntimeError`` (the app answers 500) instead of leaving a
    half-sent response; ``stat_result`` skips the stat. If the server offers
    ``http.response.pathsend`` and the whole file is sent, the server sends it (unless it
    is a small file already read from memory); on Granian's RSGI a single byte range goes
    out with ``response_file_range``. Conditional and range requests are honoured when
    ``status_code`` is 200; the rules are in ``FasterAPI._http_conditions``.

    File-system calls run in a worker thread, except for a file on a local file system
    served within the last minute: then the kernel answers from memory and the calls run
    on the event loop (reads never wait for the disk; see ``FasterAPI._local_files``).
    Set ``local_io_on_loop = False`` on a subclass to keep every call in a thread.
    """

    chunk_size = CHUNK_SIZE
    local_io_on_loop = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        method: str | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.status_code = status_code
        self.filename = filename
        self.stat_result = stat_result
        self.method = method.upper() if method is not None else None
        self.background = background
        self.body = b""
        self.media_type = media_type or guess_media_type(filename or os.fspath(path))
        raw = build_raw_headers(headers, self.media_type, self.charset, None)
        names = {name for name, _ in raw}
        if filename is not None and b"content-disposition" not in names:
            disposition = content_disposition(content_disposition_type, filename)
            raw.append((b"content-disposition", disposition.encode("latin-1")))
        if b"accept-ranges" not in names:
            raw.append((b"accept-ranges", b"bytes"))
        self.raw_headers = raw if stat_result is None else _with_stat(raw, stat_result)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = self.method or scope.get("method", "GET")
        # The server reads a file handed over by path after this call returns, when a
        # background task or a dependency's teardown (say, one deleting a temporary file)
        # may already have run.
        by_path = self.background is None and CLEANUP_AFTER_RESPONSE not in scope
        pathsend = by_path and "http.response.pathsend" in (scope.get("extensions") or {})
        head: bytes | None = None
        if self.stat_result is not None:
            st = self.stat_result
            key = _local_files.key(self.path)
            if method != "HEAD" and st.st_size <= self.chunk_size:
                head = self._read_given_in_memory(key, st)
            # The next request for this path may read it on the loop: such a read checks
            # the file still matches its stat (else it runs in a thread).
            _local_files.remember(key, st)
        else:
            key = _local_files.key(self.path)
            if method == "HEAD" or (pathsend and not self._on_loop(key)):
                st = await self._stat(key)
            else:
                # PERF: one worker-thread call stats a file and, when it is small, reads
                # it too (each thread hop costs tens of microseconds under load). A small
                # file the kernel has in memory is read on the loop even when the server
                # could send it: Granian sends 64 KiB from bytes faster than from a path.
                # PERF: no coroutine when the kernel has it in memory (the usual case).
                found = self._stat_and_read_on_loop(key)
                if found is not None and not found[2]:
                    st, head = self._checked(key, found[0], found[1])
                else:
                    st, head = await self._stat_and_read_rest(key, found, not pathsend)
        if not stat.S_ISREG(st.st_mode):
            raise RuntimeError(f"File at path {self.path} is not a file.")
        size = st.st_size
        if st is self.stat_result:  # __init__ added its headers
            headers = list(self.raw_headers)
        else:
            headers = _with_stat(self.raw_headers, st)
        status = self.status_code
        ranges: tuple[ByteRange, ...] = ()
        if status == 200 and _is_conditional(scope):
            view = MutableHeaders(headers)
            status, ranges = evaluate(
                method,
                Headers(scope=scope),
                view.get("etag"),
                parse_http_date(view["last-modified"]),
                size,
            )
        if status == 416:
            scope[RESPONSE_STARTED] = True
            await _unsatisfiable(size)(scope, receive, send)
        elif status == 412:
            scope[RESPONSE_STARTED] = True
            response = JSONResponse({"detail": "Precondition Failed"}, status_code=412)
            await response(scope, receive, send)
        elif status == 304 or not status_allows_body(status):
            headers = [pair for pair in headers if pair[0] not in _REPRESENTATION_HEADERS]
            await _send_empty(scope, send, status, headers)
        elif method == "HEAD":
            await _send_empty(scope, send, status, headers)
        elif len(ranges) > 1:
            await self._send_multipart(scope, send, MutableHeaders(headers), ranges, size)
        elif ranges:
            start, stop = ranges[0]
            view = MutableHeaders(headers)
            view["content-length"] = str(stop - start)
            view["content-range"] = content_range(start, stop, size)
            bridge = scope.get(RSGI_BRIDGE) if by_path else None
            if bridge is not None and start < stop:
                # Granian's RSGI sends the span from the path itself.
                scope[RESPONSE_STARTED] = True
                bridge.protocol.response_file_range(
                    status, str_headers(headers), os.path.abspath(self.path), start, stop
                )
            else:
                await self._send_span(scope, send, status, headers, start, stop)
        elif pathsend and head is None:
            bridge = scope.get(RSGI_BRIDGE)
            if bridge is not None:
                scope[RESPONSE_STARTED] = True
                bridge.protocol.response_file(
                    status, str_headers(headers), os.path.abspath(self.path)
                )
            else:
                await _start(scope, send, status, headers)
                await send({"type": "http.response.pathsend", "path": os.path.abspath(self.path)})
        elif size <= self.chunk_size:
            # PERF: a small file is read in one worker-thread call (open, read, close)
            # instead of three; 64 KiB files are served ~3x faster.
            body = head if head is not None else await self._read_small(size)
            bridge = scope.get(RSGI_BRIDGE)
            if bridge is not None:
                # PERF: one response_bytes call, no ASGI messages.
                scope[RESPONSE_STARTED] = True
                bridge.protocol.response_bytes(status, str_headers(headers), body)
            else:
                scope[RESPONSE_STARTED] = True
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
        else:
            await self._send_span(scope, send, status, headers, 0, size)
        if self.background is not None:
            await self.background()

    def _on_loop(self, key: str) -> bool:
        return self.local_io_on_loop and _local_files.is_warm(key)

    def _cannot_read(self, key: str, exc: Exception) -> RuntimeError:
        _local_files.forget(key)
        if isinstance(exc, FileNotFoundError):
            return RuntimeError(f"File at path {self.path} does not exist.")
        return RuntimeError(f"File at path {self.path} cannot be read: {exc}")

    def _read_given_in_memory(self, key: str, st: os.stat_result) -> bytes | None:
        """PERF: the bytes of a small file given with its stat, read on the loop when
        allowed and in memory (StaticFiles' answers skip a thread hop)."""
        if not self._on_loop(key):
            return None
        try:
            return _local_files.read_in_memory(self.path, st)
        except (OSError, ValueError):
            return None  # the worker-thread read reports it

    async def _stat(self, key: str) -> os.stat_result:
        try:
            if self._on_loop(key):
                st = os.stat(self.path)
            else:
                st = await run_in_threadpool(os.stat, self.path)
        except (OSError, ValueError) as exc:
            raise self._cannot_read(key, exc) from exc
        _local_files.remember(key, st)
        return st

    def _stat_and_read_on_loop(self, key: str) -> tuple[os.stat_result, bytes | None, bool] | None:
        """On the event loop when allowed (see ``_local_files``; /file, 64 KiB, on uvicorn
        went from 0.36 to 0.8 of the raw app): the stat, the bytes of a small regular
        file the kernel has in memory, and whether they are still unread. None: the calls
        belong in a worker thread."""
        if not self._on_loop(key):
            return None
        try:
            return _local_files.stat_and_head(self.path, self.chunk_size)
        except BlockingIOError:  # a lease held elsewhere: let a thread wait for it
            return None
        except (OSError, ValueError) as exc:
            raise self._cannot_read(key, exc) from exc

    async def _stat_and_read_rest(
        self,
        key: str,
        found: tuple[os.stat_result, bytes | None, bool] | None,
        read_uncached: bool,
    ) -> tuple[os.stat_result, bytes | None]:
        """``_stat_and_read_on_loop`` finished in a worker thread: the stat and, for a
        regular file of at most ``chunk_size``, its bytes (unless they are not in memory
        and ``read_uncached`` is false). One thread call stats and reads."""
        try:
            if found is None:
                st, body = await run_in_threadpool(_stat_and_head, self.path, self.chunk_size)
            else:
                st, body, unread = found
                if unread and read_uncached:
                    body = await run_in_threadpool(_read_head, self.path, st.st_size)
        except (OSError, ValueError) as exc:
            raise self._cannot_read(key, exc) from exc
        return self._checked(key, st, body)

    def _checked(
        self, key: str, st: os.stat_result, body: bytes | None
    ) -> tuple[os.stat_result, bytes | None]:
        if body is not None and len(body) != st.st_size:
            raise RuntimeError(f"File at path {self.path} shrank while it was being read.")
        _local_files.remember(key, st)
        return st, body

    async def _read_small(self, size: int) -> bytes:
        try:
            body = await run_in_threadpool(_read_head, self.path, size)
        except OSError as exc:
            raise RuntimeError(f"File at path {self.path} cannot be opened: {exc}") from exc
        if len(body) != size:
            raise RuntimeError(f"File at path {self.path} shrank while it was being sent.")
        return body

    async def _open(self) -> _OpenFile:
        """The file opened for reading: on the loop when its calls may run there."""
        on_loop = self._on_loop(_local_files.key(self.path))
        try:
            if on_loop:
                try:
                    return _OpenFile(_local_files.open_nonblocking(self.path), True)
                except BlockingIOError:  # a lease held elsewhere: let a thread wait for it
                    pass
            return _OpenFile(await run_in_threadpool(os.open, self.path, _READ_FLAGS), False)
        except OSError as exc:
            raise RuntimeError(f"File at path {self.path} cannot be opened: {exc}") from exc

    async def _send_span(
        self, scope: Scope, send: Send, status: int, headers: RawHeaders, start: int, stop: int
    ) -> None:
        opened = await self._open()
        try:
            await _start(scope, send, status, headers)
            if start == stop:
                await send({"type": "http.response.body", "body": b""})
                return
            await self._copy(opened, send, start, stop, more_after=False)
        finally:
            await opened.close()

    async def _send_multipart(
        self,
        scope: Scope,
        send: Send,
        headers: MutableHeaders,
        ranges: tuple[ByteRange, ...],
        size: int,
    ) -> None:
        boundary = secrets.token_hex(16)
        part_type = headers.get("content-type", "application/octet-stream")
        heads, tail, length = multipart_layout(ranges, size, part_type, boundary)
        headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
        headers["content-length"] = str(length)
        opened = await self._open()
        try:
            await _start(scope, send, 206, headers.raw)
            for head, (start, stop) in zip(heads, ranges, strict=True):
                await send({"type": "http.response.body", "body": head, "more_body": True})
                await self._copy(opened, send, start, stop, more_after=True)
            await send({"type": "http.response.body", "body": tail})
        finally:
            await opened.close()

    async def _copy(
        self, opened: _OpenFile, send: Send, offset: int, stop: int, *, more_after: bool
    ) -> None:
        """Send the bytes from ``offset`` to ``stop``; the last chunk ends the body unless
        ``more_after``.

        PERF: for a file whose calls may run on the loop each chunk the kernel has in
        memory is read there (``RWF_NOWAIT``); only the rest goes to a worker thread.
        Every chunk in a thread cost a 1 MiB file on uvicorn 4.5x the raw app's time."""
        descriptor = opened.descriptor
        while offset < stop:
            size = min(self.chunk_size, stop - offset)
            chunk = (
                _local_files.pread_in_memory(descriptor, size, offset) if opened.on_loop else None
            )
            if chunk is None:
                chunk = await run_in_threadpool(_read_at, descriptor, size, offset)
            if not chunk:
                raise RuntimeError(f"File at path {self.path} shrank while it was being sent.")
            offset += len(chunk)
            more = more_after or offset < stop
            await send({"type": "http.response.body", "body": chunk, "more_body": more})


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _read_at(descriptor: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(descriptor, size, offset)
    os.lseek(descriptor, offset, os.SEEK_SET)  # Windows: one reader per descriptor here
    return os.read(descriptor, size)


class _OpenFile:
    """A descriptor of the file being sent, and whether its calls may run on the loop."""

    __slots__ = ("descriptor", "on_loop")

    def __init__(self, descriptor: int, on_loop: bool) -> None:
        self.descriptor = descriptor
        self.on_loop = on_loop

    async def close(self) -> None:
        if self.on_loop:
            os.close(self.descriptor)
        else:
            await run_in_threadpool(os.close, self.descriptor)


def _stat_and_head(path: str | os.PathLike[str], limit: int) -> tuple[os.stat_result, bytes | None]:
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
        return st, None
    with open(path, "rb") as handle:
        return st, handle.read(st.st_size)


def _read_head(path: str | os.PathLike[str], size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


_GUESSED: dict[str, str] = {}


def guess_media_type(name: str) -> str:
    # PERF: mimetypes.guess_type costs ~3 us; an app serves few distinct names.
    found = _GUESSED.get(name)
    if found is None:
        found = mimetypes.guess_type(name)[0]
        if found is None:
            found = _FALLBACK_TYPES.get(os.path.splitext(name)[1].lower())
        if len(_GUESSED) >= 1024:
            _GUESSED.clear()
        found = _GUESSED[name] = found or "application/octet-stream"
    return found


def content_disposition(disposition_type: str, filename: str) -> str:
    """``type; filename="..."``, plus RFC 5987 ``filename*`` when the name is not plain ASCII."""
    if not _TOKEN.fullmatch(disposition_type):
        raise ValueError(f"Invalid content_disposition_type: {disposition_type!r}")
    check_header_text(filename, "filename")
    fallback = _ascii_fallback(filename)
    escaped = fallback.replace("\\", "\\\\").replace('"', '\\"')
    value = f'{disposition_type}; filename="{escaped}"'
    if fallback != filename:
        value += f"; filename*=utf-8''{quote(filename, safe=_ATTR_CHAR_EXTRA)}"
    return value


def _ascii_fallback(filename: str) -> str:
    """Accents dropped ("résumé" -> "resume"), other non-printable-ASCII characters -> "_"."""
    return "".join(
        char if " " <= char <= "~" else "_"
        for char in unicodedata.normalize("NFKD", filename)
        if not unicodedata.combining(char)
    )


_STAT_HEADERS = frozenset({b"content-length", b"last-modified", b"etag"})


def _with_stat(headers: RawHeaders, st: os.stat_result) -> RawHeaders:
    """A copy of ``headers`` with the file's length, and Last-Modified/ETag unless set."""
    for name, _ in headers:
        if name in _STAT_HEADERS:
            break
    else:  # PERF: the usual case, none of them set
        return [
            *headers,
            (b"content-length", b"%d" % st.st_size),
            (b"last-modified", _last_modified(int(st.st_mtime))),
            (b"etag", b'"%x-%x"' % (st.st_mtime_ns, st.st_size)),
        ]
    result = [pair for pair in headers if pair[0] != b"content-length"]
    names = {name for name, _ in result}
    result.append((b"content-length", b"%d" % st.st_size))
    if b"last-modified" not in names:
        result.append((b"last-modified", _last_modified(int(st.st_mtime))))
    if b"etag" not in names:
        result.append((b"etag", b'"%x-%x"' % (st.st_mtime_ns, st.st_size)))
    return result


_DATES: dict[int, bytes] = {}


def _last_modified(seconds: int) -> bytes:
    # PERF: formatting a date costs microseconds; files share few modification times.
    found = _DATES.get(seconds)
    if found is None:
        if len(_DATES) >= 256:
            _DATES.clear()
        found = _DATES[seconds] = http_date(seconds).encode("latin-1")
    return found


_CONDITIONAL = frozenset(
    {
        b"if-match",
        b"if-unmodified-since",
        b"if-none-match",
        b"if-modified-since",
        b"range",
        b"if-range",
    }
)


def _is_conditional(scope: Scope) -> bool:
    """Does the request carry a validator or a Range header (else: a plain 200)?"""
    found = has_any_header(scope, _CONDITIONAL_NAMES)
    if found is not None:
        return found
    return not _CONDITIONAL.isdisjoint([name for name, _ in scope["headers"]])


_CONDITIONAL_NAMES = tuple(name.decode() for name in _CONDITIONAL)


async def _start(scope: Scope, send: Send, status: int, headers: RawHeaders) -> None:
    scope[RESPONSE_STARTED] = True
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _send_empty(scope: Scope, send: Send, status: int, headers: RawHeaders) -> None:
    await _start(scope, send, status, headers)
    await send({"type": "http.response.body", "body": b""})


def _unsatisfiable(size: int) -> Response:
    return JSONResponse(
        {"detail": "Range Not Satisfiable"},
        status_code=416,
        headers={"content-range": f"bytes */{size}", "accept-ranges": "bytes"},
    )
