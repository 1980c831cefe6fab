"""File-system calls that may run on the event loop instead of a worker thread.

A worker-thread hop costs tens of microseconds of CPU under load (a wake-up, context
switches, the GIL changing hands around every system call), far more than a ``stat`` or a
read that the kernel answers from memory. A file response makes its calls on the event
loop only when they cannot wait on a device or a server:

- the file is on a local file system (``/proc/self/mountinfo`` names its type): a network
  file system may wait on its server for any call;
- the same path was served within the last minute, so its directory entries and inode are
  in the kernel's caches;
- data is read with ``RWF_NOWAIT``, which fails at once instead of waiting for a page that
  is not in the page cache: the read then goes to a worker thread (and a file system that
  refuses such reads altogether, as tmpfs may, is left to worker threads);
- the file is opened with ``O_NONBLOCK``, so a path swapped for a FIFO cannot block.

Everything else (other systems, the first request for a path, network file systems) runs
in a worker thread as before.
"""

from __future__ import annotations

import os
import stat
import threading
import time

WARM_SECONDS = 60.0
"""How long after a path was served its next calls may run on the event loop."""

_LOCAL_TYPES = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "ramfs", "overlay", "zfs", "f2fs"}
    | {"squashfs", "erofs"}
)
_WARM_LIMIT = 1024  # paths remembered; the table is cleared whole when full

_warm: dict[str, float] = {}
_no_nowait: set[int] = set()  # local devices whose file system refused RWF_NOWAIT
_local_devices: frozenset[int] | None = None
_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_local_devices() -> frozenset[int]:
    """The device numbers of the local file systems mounted in this process's view."""
    devices: set[int] = set()
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                fields = line.split()
                # ID, parent ID, major:minor, root, mount point, options, [optional...], "-",
                # file-system type, source, super options.
                if "-" not in fields:
                    continue
                fs_type = fields[fields.index("-") + 1]
                if fs_type in _LOCAL_TYPES:
                    major, _, minor = fields[2].partition(":")
                    devices.add(os.makedev(int(major), int(minor)))
    except (OSError, ValueError, IndexError):
        return frozenset()
    return frozenset(devices)


def key(path: str | os.PathLike[str]) -> str:
    """The absolute path: the table must not mix up relative paths from other directories."""
    text = os.fspath(path)
    return text if os.path.isabs(text) else os.path.abspath(text)


def remember(path: str, st: os.stat_result) -> None:
    """Note that ``path`` was just served, if it is a regular file on a local file system
    (a device or a FIFO is never opened on the loop)."""
    global _local_devices
    if _NOWAIT is None:
        return
    if _local_devices is None:
        _local_devices = _read_local_devices()
    if not stat.S_ISREG(st.st_mode) or st.st_dev not in _local_devices or st.st_dev in _no_nowait:
        _warm.pop(path, None)  # no longer a local regular file: back to worker threads
        return
    if len(_warm) >= _WARM_LIMIT and path not in _warm:
        _warm.clear()
    _warm[path] = time.monotonic() + WARM_SECONDS


def is_warm(path: str) -> bool:
    """May the calls for ``path`` run on the event loop now?"""
    expiry = _warm.get(path)
    return expiry is not None and expiry > time.monotonic()


def forget(path: str) -> None:
    _warm.pop(path, None)


def stat_and_head(
    path: str | os.PathLike[str], limit: int
) -> tuple[os.stat_result, bytes | None, bool]:
    """The file's stat and, for a regular file of at most ``limit`` bytes, its bytes if
    they are all in the page cache. The flag says whether the bytes still need reading."""
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(descriptor)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return st, None, False
        body = _read_in_memory(descriptor, st)
        return st, body, body is None
    finally:
        os.close(descriptor)


def read_in_memory(path: str | os.PathLike[str], st: os.stat_result) -> bytes | None:
    """The bytes of the regular file ``st`` describes, if it is unchanged and all in the
    page cache (None: read it in a worker thread)."""
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        now = os.fstat(descriptor)
        if not stat.S_ISREG(now.st_mode) or (
            now.st_dev,
            now.st_ino,
            now.st_size,
            now.st_mtime_ns,
        ) != (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
            return None
        return _read_in_memory(descriptor, now)
    finally:
        os.close(descriptor)


def open_nonblocking(path: str | os.PathLike[str]) -> int:
    """A descriptor for reading ``path``, opened on the loop (``O_NONBLOCK``: a FIFO put
    in its place cannot block)."""
    return os.open(path, _OPEN_FLAGS)


def pread_in_memory(descriptor: int, size: int, offset: int) -> bytes | None:
    """Up to ``size`` bytes at ``offset`` that the page cache holds (fewer when only the
    first pages are there; empty at the end of the file), or None: read in a thread."""
    if _NOWAIT is None:
        return None
    buffer = _scratch(size)
    try:
        count = os.preadv(descriptor, [buffer], offset, _NOWAIT)
    except BlockingIOError:  # not in memory
        return None
    except OSError:  # this file system does not take RWF_NOWAIT: stop trying it
        _no_nowait.add(os.fstat(descriptor).st_dev)
        return None
    return bytes(buffer) if count == size else bytes(memoryview(buffer)[:count])


_SCRATCH_SIZE = 64 * 1024  # a FileResponse chunk
_scratch_buffers = threading.local()


def _scratch(size: int) -> bytearray | memoryview:
    """A writable buffer of ``size`` bytes to read into before copying out.

    PERF: up to a chunk's size, one buffer per thread, reused: a new ``bytearray`` is
    zero-filled first (a 64 KiB read went from 3.3 to 2.8 us)."""
    if size > _SCRATCH_SIZE:
        return bytearray(size)
    buffer: bytearray | None = getattr(_scratch_buffers, "buffer", None)
    if buffer is None:
        buffer = _scratch_buffers.buffer = bytearray(_SCRATCH_SIZE)
    return buffer if size == _SCRATCH_SIZE else memoryview(buffer)[:size]


def _read_in_memory(descriptor: int, st: os.stat_result) -> bytes | None:
    size = st.st_size
    if not size:
        return b""
    body = pread_in_memory(descriptor, size, 0)
    return body if body is not None and len(body) == size else None
