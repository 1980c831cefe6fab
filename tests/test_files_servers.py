"""Files through real servers: whole, warm (served again), byte ranges, HEAD, 304.

Granian's RSGI sends a single range with ``response_file_range`` and a large whole file
with ``response_file``; a small file served again is read on the event loop; uvicorn gets
every body from the app. The answers must be the same everywhere.
"""

from pathlib import Path

import httpx
import pytest

from servers import serve

SMALL = bytes(range(256)) * 160  # 40 KiB: read whole
BIG = bytes(reversed(range(256))) * 1024  # 256 KiB: sent from the path where possible


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "small.bin").write_bytes(SMALL)
    (tmp_path / "big.bin").write_bytes(BIG)
    monkeypatch.setenv("FASTERAPI_TEST_FILES", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("server", ["uvicorn-httptools", "granian-asgi", "granian-rsgi"])
def test_files_whole_ranged_head_and_conditional(server: str, files: Path) -> None:
    with (
        serve(server, "serverapps.files:app") as base,
        httpx.Client(base_url=f"http://{base}", timeout=10) as client,
    ):
        small = [client.get("/files/small.bin") for _ in range(3)]
        big = [client.get("/files/big.bin") for _ in range(2)]
        span = client.get("/files/big.bin", headers={"range": "bytes=1000-1999"})
        tail = client.get("/files/small.bin", headers={"range": "bytes=-10"})
        parts = client.get("/files/big.bin", headers={"range": "bytes=0-1,10-11"})
        head = client.head("/files/big.bin")
        unchanged = client.get("/files/big.bin", headers={"if-none-match": big[0].headers["etag"]})
        outside = client.get("/files/big.bin", headers={"range": f"bytes={len(BIG)}-"})
        (files / "small.bin").write_bytes(SMALL[::-1])
        rewritten = client.get("/files/small.bin")

    for response in small:
        assert response.status_code == 200
        assert response.content == SMALL
        assert response.headers["content-length"] == str(len(SMALL))
        assert response.headers["etag"] == small[0].headers["etag"]
    for response in big:
        assert response.status_code == 200
        assert response.content == BIG
        assert response.headers["content-length"] == str(len(BIG))
    assert span.status_code == 206
    assert span.content == BIG[1000:2000]
    assert span.headers["content-length"] == "1000"
    assert span.headers["content-range"] == f"bytes 1000-1999/{len(BIG)}"
    assert tail.status_code == 206
    assert tail.content == SMALL[-10:]
    assert tail.headers["content-range"] == f"bytes {len(SMALL) - 10}-{len(SMALL) - 1}/{len(SMALL)}"
    assert parts.status_code == 206
    assert parts.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert BIG[0:2] in parts.content and BIG[10:12] in parts.content
    assert parts.headers["content-length"] == str(len(parts.content))
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(BIG))
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{len(BIG)}"
    assert rewritten.status_code == 200
    assert rewritten.content == SMALL[::-1]


@pytest.mark.parametrize("server", ["uvicorn-httptools", "granian-asgi", "granian-rsgi"])
def test_files_deleted_after_the_response_are_sent_whole(server: str, files: Path) -> None:
    # A background task or a dependency's teardown deletes a temporary copy once the
    # response is sent; the server must not be left to open the file after that.
    with (
        serve(server, "serverapps.files:app") as base,
        httpx.Client(base_url=f"http://{base}", timeout=10) as client,
    ):
        answers = [
            (expected, client.get(f"/exports/{cleanup}/{name}", headers=headers))
            for _ in range(8)
            for cleanup in ("background", "teardown")
            for name, expected, headers in (
                ("small.bin", SMALL, {}),
                ("big.bin", BIG, {}),
                ("big.bin", BIG[100:200], {"range": "bytes=100-199"}),
            )
        ]
    for expected, response in answers:
        assert response.status_code in (200, 206), response.text
        assert response.content == expected
