"""StaticFiles: an ASGI app serving files from a directory (or packages' ``statics``)."""

from __future__ import annotations

import importlib.util
import os
import stat
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import NamedTuple

from FasterAPI import _local_files
from FasterAPI._file import FileResponse
from FasterAPI._types import Receive, Scope, Send
from FasterAPI.app import Faster
from FasterAPI.concurrency import run_in_threadpool
from FasterAPI.datastructures import URL, route_path, url_path
from FasterAPI.exceptions import HTTPException
from FasterAPI.response import JSONResponse, RedirectResponse

__all__ = ["StaticFiles"]

StrPath = str | os.PathLike[str]


class _File(NamedTuple):
    path: str
    stat: os.stat_result
    status_code: int = 200


class _Redirect:
    """A directory asked for without its trailing slash (``html=True``)."""


_REDIRECT = _Redirect()


class StaticFiles:
    """Serve the files under ``directory``; mount it: ``app.mount("/static", StaticFiles(...))``.

    The file path is the request path below the mount (``scope["path"]`` minus
    ``scope["root_path"]``), already percent-decoded by the server; ``raw_path`` is never
    read, so ``%2e%2e`` or ``%2f`` cannot come back as separators later. Each segment must
    be a plain name: ``..``, backslashes, NUL or a drive letter give 404, and unless
    ``follow_symlink`` the resolved path must stay inside the directory. Only GET and HEAD
    are served (405 otherwise); ETag/304/Range are FileResponse's. With ``html=True`` a
    directory serves its ``index.html`` (``/dir`` redirects to ``/dir/``) and a miss serves
    ``404.html`` when present. Errors are raised as ``HTTPException`` inside a ``Faster``
    app, so its exception handlers apply, and sent as ``{"detail": ...}`` JSON otherwise.
    ``packages`` adds each package's ``statics`` folder (or ``(package, folder)``).
    """

    _passes_send_through = True  # a mount may keep the RSGI bridge for it

    def __init__(
        self,
        directory: StrPath | None = None,
        *,
        packages: Sequence[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
    ) -> None:
        if directory is None and not packages:
            raise ValueError("StaticFiles needs a directory or packages")
        roots: list[str] = []
        if directory is not None:
            if check_dir and not os.path.isdir(directory):
                raise RuntimeError(f"StaticFiles directory {os.fspath(directory)!r} does not exist")
            roots.append(os.path.abspath(directory))
        for package in packages or ():
            roots.append(_package_directory(package))
        self.directory = directory
        self.packages = packages
        self.html = html
        self.follow_symlink = follow_symlink
        self._roots = roots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _error(scope, receive, send, 405, {"Allow": "GET, HEAD"})
            return
        relative = route_path(scope)
        if scope["path"] == scope.get("root_path"):
            relative = ""  # the mount itself: "/static", not "/static/"
        parts = _safe_parts(relative)
        directory_url = relative.endswith("/")
        found: _File | _Redirect | None = None
        if parts and not directory_url:
            path = os.path.join(self._roots[0], *parts)
            if _local_files.is_warm(path):
                # PERF: a file served in the last minute from a local file system: its
                # lookup is answered from the kernel's caches (see FasterAPI._local_files).
                # Only that file is looked up here; anything else goes to a worker thread.
                found = self._warm_file(self._roots[0], parts, path)
        if found is None:
            found = await run_in_threadpool(self._find, parts, directory_url)
        if found is None:
            await _error(scope, receive, send, 404)
        elif isinstance(found, _Redirect):
            url = URL(scope=scope)
            target = url.replace(path=url_path(scope) + "/")
            await RedirectResponse(str(target), status_code=307)(scope, receive, send)
        else:
            response = FileResponse(
                found.path, status_code=found.status_code, stat_result=found.stat
            )
            await response(scope, receive, send)

    def _warm_file(self, root: str, parts: list[str], path: str) -> _File | None:
        try:
            st = os.stat(path) if self.follow_symlink else _stat_inside(root, parts, path)
        except (OSError, ValueError):
            return None
        return _File(path, st) if st is not None and stat.S_ISREG(st.st_mode) else None

    def _find(self, parts: list[str] | None, directory_url: bool) -> _File | _Redirect | None:
        """What to serve for these path segments (runs in a worker thread: it stats)."""
        if parts is not None:
            hit = self._lookup(parts)
            if hit is not None and stat.S_ISREG(hit.stat.st_mode) and not directory_url:
                return hit
            if self.html and hit is not None and stat.S_ISDIR(hit.stat.st_mode):
                index = self._regular_file([*parts, "index.html"])
                if index is not None:
                    return index if directory_url else _REDIRECT
        page = self._regular_file(["404.html"]) if self.html else None
        return page._replace(status_code=404) if page is not None else None

    def _regular_file(self, parts: list[str]) -> _File | None:
        found = self._lookup(parts)
        return found if found is not None and stat.S_ISREG(found.stat.st_mode) else None

    def _lookup(self, parts: list[str], roots: list[str] | None = None) -> _File | None:
        for root in self._roots if roots is None else roots:
            path = os.path.join(root, *parts)
            try:
                if self.follow_symlink:
                    found: os.stat_result | None = os.stat(path)
                else:
                    found = _stat_inside(root, parts, path)
            except (OSError, ValueError):
                continue
            if found is not None:
                return _File(path, found)
        return None


def _stat_inside(root: str, parts: list[str], path: str) -> os.stat_result | None:
    """The stat of ``path`` (``root`` joined with ``parts``) if it resolves to a place
    inside ``root``, else None.

    PERF: the segments hold no ``..``, so a path without a symbolic link below the root
    is inside it: one ``lstat`` per segment answers that (the last one is the file's
    stat). Only a path through a link is resolved in full (``realpath`` costs an
    ``lstat`` per component of the whole path, ~20 us for both)."""
    if not parts:
        return os.stat(root)
    current = root
    for part in parts[:-1]:
        current = os.path.join(current, part)
        if stat.S_ISLNK(os.lstat(current).st_mode):
            return _stat_if_resolved_inside(root, path)
    found = os.lstat(path)
    if stat.S_ISLNK(found.st_mode):
        return _stat_if_resolved_inside(root, path)
    return found


def _stat_if_resolved_inside(root: str, path: str) -> os.stat_result | None:
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real != real_root and not real.startswith(os.path.join(real_root, "")):
        return None
    return os.stat(path)


def _safe_parts(path: str) -> list[str] | None:
    """The path's segments, or None if one could step outside the directory."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." or "\\" in part or "\x00" in part or os.path.splitdrive(part)[0]:
            return None
        parts.append(part)
    return parts


def _package_directory(package: str | tuple[str, str]) -> str:
    name, folder = (package, "statics") if isinstance(package, str) else package
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ValueError(f"Package {name!r} cannot be found")
    directory = os.path.join(os.path.dirname(spec.origin), folder)
    if not os.path.isdir(directory):
        raise RuntimeError(f"Directory {folder!r} in package {name!r} does not exist")
    return directory


async def _error(
    scope: Scope,
    receive: Receive,
    send: Send,
    status_code: int,
    headers: Mapping[str, str] | None = None,
) -> None:
    if isinstance(scope.get("app"), Faster):
        raise HTTPException(status_code, headers=headers)
    response = JSONResponse(
        {"detail": HTTPStatus(status_code).phrase}, status_code=status_code, headers=headers
    )
    await response(scope, receive, send)
