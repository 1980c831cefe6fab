"""FileResponse for files the kernel has in memory: calls on the event loop, never stale.

A file on a local file system that was served in the last minute is stat'ed and (when
small) read on the event loop; these tests check that this never changes what a client
gets: new content right after a rewrite, errors for a removed file or one swapped for a
FIFO (without blocking), a worker-thread read when the pages are not in memory.
"""

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from FasterAPI import Faster, FileResponse
from FasterAPI.staticfiles import StaticFiles
from FasterAPI.testclient import TestClient
from tests.test_fileresponse import PATHSEND, call

DATA = b"local file system, served from memory\n"
BIG = bytes(range(256)) * 1024  # 256 KiB: above the one-read size


def app_for(path: Path, response_class: type[FileResponse] = FileResponse) -> Faster:
    app = Faster()

    @app.get("/file")
    async def get_file() -> FileResponse:
        return response_class(path)

    return app


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.txt"
    path.write_bytes(DATA)
    return path


def _reads_without_waiting(path: Path) -> bool:
    """Does this file system take RWF_NOWAIT reads (tmpfs, for one, may refuse them)?"""
    path.read_bytes()  # in the page cache now
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.preadv(descriptor, [bytearray(16)], 0, os.RWF_NOWAIT)
    except OSError:
        return False
    finally:
        os.close(descriptor)
    return True


def _path_then_bytes(path: Path, first: list[dict[str, Any]], second: list[dict[str, Any]]) -> bool:
    """Check that the first answer went out by path and the second, once served, as the
    file's bytes; False (after checking the second equals the first) where the file system
    cannot read without waiting, so the server keeps sending the path."""
    assert [m["type"] for m in first] == ["http.response.start", "http.response.pathsend"]
    if not _reads_without_waiting(path):
        assert second == first
        return False
    assert [m["type"] for m in second] == ["http.response.start", "http.response.body"]
    assert second[1]["body"] == DATA
    return True


@pytest.mark.skipif(not hasattr(os, "RWF_NOWAIT"), reason="RWF_NOWAIT is Linux-only")
def test_a_served_small_file_goes_out_as_bytes_even_where_the_server_sends_paths(
    small_file: Path,
) -> None:
    first = call(FileResponse(small_file), extensions=PATHSEND)
    second = call(FileResponse(small_file), extensions=PATHSEND)

    if not _path_then_bytes(small_file, first, second):
        return
    assert second[1].get("more_body", False) is False
    assert second[0]["headers"] == first[0]["headers"]


@pytest.mark.skipif(not hasattr(os, "RWF_NOWAIT"), reason="RWF_NOWAIT is Linux-only")
def test_a_file_given_with_its_stat_is_read_from_memory_when_served_again(
    small_file: Path,
) -> None:
    def serve() -> list[dict[str, Any]]:
        return call(FileResponse(small_file, stat_result=small_file.stat()), extensions=PATHSEND)

    first, second = serve(), serve()

    if not _path_then_bytes(small_file, first, second):
        return
    small_file.write_bytes(b"rewritten with a new length\n")
    os.utime(small_file, ns=(10**18, 10**18))
    third = serve()
    assert third[1]["body"] == b"rewritten with a new length\n"
    assert (b"content-length", b"28") in third[0]["headers"]


def test_a_served_file_on_a_file_system_refusing_nowait_reads_is_served_whole(
    tmp_path: Path,
) -> None:
    shm = Path("/dev/shm")
    folder = shm if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path
    path = folder / f"fasterapi-test-{os.getpid()}.bin"
    path.write_bytes(DATA)
    try:
        answers = [call(FileResponse(path), extensions=PATHSEND) for _ in range(3)]
        plain = [call(FileResponse(path))[1]["body"] for _ in range(3)]
    finally:
        path.unlink()

    for messages in answers:
        assert messages[0]["status"] == 200
        assert (b"content-length", str(len(DATA)).encode()) in messages[0]["headers"]
        sent = messages[1]
        assert sent.get("body", DATA) == DATA
        if sent["type"] == "http.response.pathsend":
            assert sent["path"] == str(path)
    assert plain == [DATA, DATA, DATA]


def test_local_io_on_loop_false_keeps_the_server_sending_the_path(small_file: Path) -> None:
    class ThreadedFileResponse(FileResponse):
        local_io_on_loop = False

    for _ in range(3):
        messages = call(ThreadedFileResponse(small_file), extensions=PATHSEND)
        assert messages[1] == {"type": "http.response.pathsend", "path": str(small_file)}


def test_a_rewritten_file_is_served_new_right_away(small_file: Path) -> None:
    client = TestClient(app_for(small_file))
    before = [client.get("/file") for _ in range(3)]
    assert all(response.content == DATA for response in before)

    small_file.write_bytes(b"rewritten, and longer than it was before\n")
    os.utime(small_file, ns=(10**18, 10**18))
    after = client.get("/file")

    assert after.status_code == 200
    assert after.content == b"rewritten, and longer than it was before\n"
    assert after.headers["content-length"] == str(len(after.content))
    assert after.headers["etag"] != before[0].headers["etag"]
    assert after.headers["last-modified"] != before[0].headers["last-modified"]


def test_same_size_rewrite_changes_content_and_etag(small_file: Path) -> None:
    client = TestClient(app_for(small_file))
    first = client.get("/file")
    client.get("/file")

    small_file.write_bytes(DATA.upper())
    os.utime(small_file, ns=(10**18, 10**18))
    second = client.get("/file")

    assert second.content == DATA.upper()
    assert second.headers["etag"] != first.headers["etag"]


def test_a_removed_file_is_an_error_not_an_old_copy_and_comes_back(small_file: Path) -> None:
    client = TestClient(app_for(small_file), raise_server_exceptions=False)
    assert client.get("/file").content == DATA
    assert client.get("/file").content == DATA

    small_file.unlink()
    gone = client.get("/file")
    small_file.write_bytes(b"back again\n")
    back = client.get("/file")

    assert gone.status_code == 500
    assert back.status_code == 200
    assert back.content == b"back again\n"


def test_a_file_swapped_for_a_fifo_fails_without_blocking(small_file: Path) -> None:
    for _ in range(2):
        assert call(FileResponse(small_file))[1]["body"] == DATA
    small_file.unlink()
    os.mkfifo(small_file)
    outcome: list[Any] = []

    def serve() -> None:
        try:
            call(FileResponse(small_file))
        except RuntimeError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    worker.join(timeout=10)

    assert not worker.is_alive(), "serving a FIFO blocked"
    assert len(outcome) == 1
    assert "is not a file" in str(outcome[0])


def test_a_directory_at_a_served_path_is_an_error(small_file: Path) -> None:
    call(FileResponse(small_file))
    small_file.unlink()
    small_file.mkdir()

    with pytest.raises(RuntimeError, match="is not a file"):
        call(FileResponse(small_file))


def _evict(path: Path) -> None:
    """Ask the kernel to drop the file's pages from the page cache (not checked: a probe
    read would start read-ahead and bring them back)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(descriptor)


@pytest.mark.skipif(not hasattr(os, "POSIX_FADV_DONTNEED"), reason="needs posix_fadvise")
def test_pages_dropped_from_memory_are_still_served_whole(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(BIG[:60_000])
    client = TestClient(app_for(path))
    client.get("/file")
    client.get("/file")

    answers = []
    for _ in range(3):
        _evict(path)
        answers.append(client.get("/file"))

    assert [response.status_code for response in answers] == [200, 200, 200]
    assert all(response.content == BIG[:60_000] for response in answers)


def test_large_and_head_requests_of_a_served_file(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(BIG)
    client = TestClient(app_for(path))

    responses = [client.get("/file") for _ in range(3)]
    head = client.head("/file")
    ranged = client.get("/file", headers={"range": "bytes=1000-1999"})

    assert all(response.content == BIG for response in responses)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(BIG))
    assert head.headers["etag"] == responses[0].headers["etag"]
    assert ranged.status_code == 206
    assert ranged.content == BIG[1000:2000]


@pytest.mark.skipif(not hasattr(os, "RWF_NOWAIT"), reason="RWF_NOWAIT is Linux-only")
def test_a_served_large_file_is_read_on_the_loop_and_from_threads_once_evicted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(BIG)
    if not _reads_without_waiting(path):
        pytest.skip("this file system refuses RWF_NOWAIT reads")
    client = TestClient(app_for(path))
    first = client.get("/file")
    threaded: list[int] = []
    real_pread = os.pread

    def spy(descriptor: int, size: int, offset: int) -> bytes:
        if threading.current_thread() is not threading.main_thread():
            threaded.append(offset)
        return real_pread(descriptor, size, offset)

    monkeypatch.setattr(os, "pread", spy)
    # Several ranges: sent in chunks by the app on every server (a whole file may go out
    # from its path, which Granian reads itself).
    ranges = {"range": "bytes=70000-200000,5-9"}
    again = client.get("/file")
    ranged = client.get("/file", headers=ranges)
    in_memory = list(threaded)
    _evict(path)
    evicted = client.get("/file", headers=ranges)

    assert first.content == again.content == BIG
    assert ranged.status_code == evicted.status_code == 206
    for answer in (ranged, evicted):
        assert BIG[70000:200001] in answer.content and BIG[5:10] in answer.content
    assert in_memory == []  # every chunk came from the page cache, on the loop
    assert threaded  # pages not in memory: read in worker threads


def test_a_served_large_file_shrunk_while_sending_is_an_error(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    chunk = FileResponse.chunk_size
    big.write_bytes(b"x" * (3 * chunk))
    assert b"".join(m.get("body", b"") for m in call(FileResponse(big))) == b"x" * (3 * chunk)
    response = FileResponse(big, stat_result=big.stat())  # served before: read on the loop
    big.write_bytes(b"x" * (chunk + 4))
    messages: list[dict[str, Any]] = []

    with pytest.raises(RuntimeError, match="shrank"):
        call(response, messages=messages)

    assert [len(m.get("body", b"")) for m in messages[1:]] == [chunk, 4]
    assert all(m["more_body"] is True for m in messages[1:])


def test_relative_paths_from_another_directory_are_not_mixed_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "data.txt").write_bytes(b"one\n")
    (tmp_path / "two" / "data.txt").write_bytes(b"two, a longer one\n")

    monkeypatch.chdir(tmp_path / "one")
    first = [call(FileResponse("data.txt"))[1]["body"] for _ in range(2)]
    monkeypatch.chdir(tmp_path / "two")
    second = call(FileResponse("data.txt"), extensions=PATHSEND)

    assert first == [b"one\n", b"one\n"]
    assert second[1] == {
        "type": "http.response.pathsend",
        "path": str(tmp_path / "two" / "data.txt"),
    }


def test_static_files_served_again_follow_rewrites_and_removals(tmp_path: Path) -> None:
    (tmp_path / "site.css").write_bytes(b"body { color: red }\n")
    app = Faster()
    app.mount("/static", StaticFiles(directory=tmp_path))
    client = TestClient(app)

    first = [client.get("/static/site.css") for _ in range(3)]
    (tmp_path / "site.css").write_bytes(b"body { color: blue; margin: 0 }\n")
    os.utime(tmp_path / "site.css", ns=(10**18, 10**18))
    rewritten = client.get("/static/site.css")
    (tmp_path / "site.css").unlink()
    removed = client.get("/static/site.css")

    assert all(response.content == b"body { color: red }\n" for response in first)
    assert rewritten.status_code == 200
    assert rewritten.content == b"body { color: blue; margin: 0 }\n"
    assert rewritten.headers["content-length"] == str(len(rewritten.content))
    assert rewritten.headers["etag"] != first[0].headers["etag"]
    assert removed.status_code == 404
