import os
from email.utils import formatdate
from pathlib import Path
from typing import Any

import anyio
import pytest

from FasterAPI import Faster, FileResponse
from FasterAPI.background import BackgroundTask
from FasterAPI.testclient import TestClient

DATA = b"0123456789abcdef"  # 16 bytes: ranges are easy to read
MTIME = 1_700_000_000
LAST_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write(path: Path, data: bytes = DATA) -> Path:
    path.write_bytes(data)
    os.utime(path, (MTIME, MTIME))
    return path


def etag_of(path: Path) -> str:
    st = path.stat()
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def client_for(path: Path, **kwargs: Any) -> TestClient:
    app = Faster()

    @app.get("/file")
    async def get_file() -> FileResponse:
        return FileResponse(path, **kwargs)

    return TestClient(app)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    return write(tmp_path / "data.txt")


def call(
    response: FileResponse,
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
    extensions: dict[str, Any] | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Run the response as a bare ASGI app; return every message it sent (kept in messages)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/file",
        "raw_path": b"/file",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("test", 1),
        "server": ("testserver", 80),
        "extensions": extensions or {},
    }
    sent: list[dict[str, Any]] = [] if messages is None else messages

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def main() -> None:
        await response(scope, receive, send)

    anyio.run(main)
    return sent


def parse_byteranges(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    media, _, boundary = content_type.partition("; boundary=")
    assert media == "multipart/byteranges" and boundary
    pieces = body.split(b"--" + boundary.encode())
    assert pieces[0] == b"" and pieces[-1] == b"--\r\n"
    parts = []
    for piece in pieces[1:-1]:
        head, _, data = piece.partition(b"\r\n\r\n")
        assert head.startswith(b"\r\n") and data.endswith(b"\r\n")
        fields = dict(line.split(": ", 1) for line in head[2:].decode().split("\r\n"))
        parts.append((fields, data[:-2]))
    return parts


# -- headers and body -------------------------------------------------------------------


def test_fileresponse_seed_example_sets_attachment_and_xlsx_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    content = b"PK\x03\x04 not really a workbook"
    write(tmp_path / "data" / "report.xlsx", content)
    app = Faster()

    @app.get("/report")
    async def download_report() -> FileResponse:
        return FileResponse(path="data/report.xlsx", filename="monthly-report.xlsx")

    response = TestClient(app).get("/report")

    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"] == 'attachment; filename="monthly-report.xlsx"'
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.content == content


def test_fileresponse_200_sets_validators_and_length(data_file: Path) -> None:
    response = client_for(data_file).get("/file")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "16"
    assert response.headers["last-modified"] == LAST_MODIFIED
    assert response.headers["etag"] == etag_of(data_file)
    assert response.headers["etag"].startswith('"') and response.headers["etag"].endswith('"')
    assert response.headers["accept-ranges"] == "bytes"
    assert "content-disposition" not in response.headers
    assert response.content == DATA


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("page.html", "text/html; charset=utf-8"),
        ("data.json", "application/json"),
        ("blob.unknownext", "application/octet-stream"),
        ("font.woff2", "font/woff2"),
    ],
)
def test_fileresponse_media_type_guessed_from_name(
    tmp_path: Path, name: str, media_type: str
) -> None:
    response = client_for(write(tmp_path / name)).get("/file")

    assert response.headers["content-type"] == media_type


def test_fileresponse_explicit_media_type_wins(data_file: Path) -> None:
    response = client_for(data_file, media_type="application/x-custom").get("/file")

    assert response.headers["content-type"] == "application/x-custom"


def test_fileresponse_filename_decides_media_type(data_file: Path) -> None:
    response = client_for(data_file, filename="export.csv").get("/file")

    assert response.headers["content-type"] == "text/csv; charset=utf-8"


def test_fileresponse_non_ascii_filename_adds_rfc5987(data_file: Path) -> None:
    response = client_for(data_file, filename="résumé 2024 €.pdf").get("/file")

    assert response.headers["content-disposition"] == (
        "attachment; filename=\"resume 2024 _.pdf\"; filename*=utf-8''"
        "r%C3%A9sum%C3%A9%202024%20%E2%82%AC.pdf"
    )
    assert response.headers["content-type"] == "application/pdf"


def test_fileresponse_filename_quotes_and_backslashes_escaped(data_file: Path) -> None:
    response = client_for(data_file, filename='say "hi"\\now.txt').get("/file")

    assert response.headers["content-disposition"] == (
        'attachment; filename="say \\"hi\\"\\\\now.txt"'
    )


def test_fileresponse_inline_disposition(data_file: Path) -> None:
    client = client_for(data_file, filename="data.txt", content_disposition_type="inline")

    response = client.get("/file")

    assert response.headers["content-disposition"] == 'inline; filename="data.txt"'


@pytest.mark.parametrize("filename", ["a\r\nSet-Cookie: x=1.txt", "a\nb.txt", "a\rb.txt", "a\x00"])
def test_fileresponse_filename_with_crlf_refused(data_file: Path, filename: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        FileResponse(data_file, filename=filename)


@pytest.mark.parametrize("kind", ["", "attach ment", "inline;x=1", "a\r\nb"])
def test_fileresponse_bad_disposition_type_refused(data_file: Path, kind: str) -> None:
    with pytest.raises(ValueError, match="content_disposition_type"):
        FileResponse(data_file, filename="a.txt", content_disposition_type=kind)


def test_fileresponse_user_headers_kept(data_file: Path) -> None:
    response = client_for(data_file, headers={"Cache-Control": "max-age=60"}).get("/file")

    assert response.headers["cache-control"] == "max-age=60"
    assert response.content == DATA


def test_fileresponse_stat_result_gives_headers_before_sending(data_file: Path) -> None:
    response = FileResponse(data_file, stat_result=data_file.stat())

    assert response.headers["content-length"] == "16"
    assert response.headers["etag"] == etag_of(data_file)
    assert response.headers["last-modified"] == LAST_MODIFIED


def test_fileresponse_large_file_streamed_in_chunks(tmp_path: Path) -> None:
    content = os.urandom(300 * 1024)
    path = write(tmp_path / "big.bin", content)

    messages = call(FileResponse(path))
    bodies = [m for m in messages if m["type"] == "http.response.body"]

    assert messages[0]["status"] == 200
    assert (b"content-length", str(len(content)).encode()) in messages[0]["headers"]
    assert len(bodies) == 5
    assert all(len(m["body"]) <= 64 * 1024 for m in bodies)
    assert [m["more_body"] for m in bodies] == [True, True, True, True, False]
    assert b"".join(m["body"] for m in bodies) == content
    assert client_for(path).get("/file").content == content


def test_fileresponse_empty_file(tmp_path: Path) -> None:
    client = client_for(write(tmp_path / "empty.txt", b""))

    response = client.get("/file")
    ranged = client.get("/file", headers={"Range": "bytes=0-"})

    assert response.status_code == 200
    assert response.headers["content-length"] == "0"
    assert response.content == b""
    assert ranged.status_code == 200
    assert ranged.content == b""


def test_fileresponse_head_sends_headers_only(data_file: Path) -> None:
    client = client_for(data_file)
    get = client.get("/file")

    head = client.head("/file")
    head_with_range = client.head("/file", headers={"Range": "bytes=0-1"})

    assert head.status_code == 200
    assert head.headers == get.headers
    assert head.content == b""
    assert head_with_range.status_code == 200
    assert head_with_range.headers["content-length"] == "16"
    assert [m["body"] for m in call(FileResponse(data_file), "HEAD")[1:]] == [b""]


def test_fileresponse_method_argument_overrides_scope(data_file: Path) -> None:
    messages = call(FileResponse(data_file, method="head"), "GET")

    assert messages[0]["status"] == 200
    assert [m["body"] for m in messages[1:]] == [b""]


def test_fileresponse_background_runs_after_sending(data_file: Path) -> None:
    events: list[str] = []
    response = FileResponse(data_file, background=BackgroundTask(events.append, "task"))
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "extensions": {}}

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        events.append(message["type"])

    anyio.run(response, scope, receive, send)

    assert events == ["http.response.start", "http.response.body", "task"]


# -- missing files ------------------------------------------------------------------------


def test_fileresponse_missing_file_raises_before_start(tmp_path: Path) -> None:
    messages: list[dict[str, Any]] = []

    with pytest.raises(RuntimeError, match="does not exist"):
        call(FileResponse(tmp_path / "nope.txt"), messages=messages)

    assert messages == []


def test_fileresponse_directory_raises_before_start(tmp_path: Path) -> None:
    messages: list[dict[str, Any]] = []

    with pytest.raises(RuntimeError, match="is not a file"):
        call(FileResponse(tmp_path), messages=messages)

    assert messages == []


def test_fileresponse_missing_file_answers_500_without_partial_response(tmp_path: Path) -> None:
    app = Faster()

    @app.get("/file")
    async def get_file() -> FileResponse:
        return FileResponse(tmp_path / "nope.txt")

    response = TestClient(app, raise_server_exceptions=False).get("/file")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_fileresponse_file_deleted_after_stat_raises_before_start(data_file: Path) -> None:
    response = FileResponse(data_file, stat_result=data_file.stat())
    data_file.unlink()
    messages: list[dict[str, Any]] = []

    with pytest.raises(RuntimeError, match="cannot be opened"):
        call(response, messages=messages)

    assert messages == []


# -- conditional requests -----------------------------------------------------------------


def assert_not_modified(response: Any, path: Path) -> None:
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag_of(path)
    assert response.headers["last-modified"] == LAST_MODIFIED
    assert "content-length" not in response.headers
    assert "content-type" not in response.headers


def test_fileresponse_if_none_match_returns_304(data_file: Path) -> None:
    response = client_for(data_file).get("/file", headers={"If-None-Match": etag_of(data_file)})

    assert_not_modified(response, data_file)


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "W/{etag}",
        '"other", {etag}',
        'W/"other",W/{etag}',
        '"a,b", {etag}',
    ],
)
def test_fileresponse_if_none_match_weak_star_and_lists(data_file: Path, value: str) -> None:
    header = value.format(etag=etag_of(data_file))

    response = client_for(data_file).get("/file", headers={"If-None-Match": header})

    assert_not_modified(response, data_file)


def test_fileresponse_if_none_match_mismatch_sends_file(data_file: Path) -> None:
    response = client_for(data_file).get("/file", headers={"If-None-Match": '"other", W/"x"'})

    assert response.status_code == 200
    assert response.content == DATA


def test_fileresponse_if_none_match_on_head_returns_304(data_file: Path) -> None:
    response = client_for(data_file).head("/file", headers={"If-None-Match": etag_of(data_file)})

    assert_not_modified(response, data_file)


@pytest.mark.parametrize("since", [LAST_MODIFIED, formatdate(MTIME + 3600, usegmt=True)])
def test_fileresponse_if_modified_since_returns_304(data_file: Path, since: str) -> None:
    response = client_for(data_file).get("/file", headers={"If-Modified-Since": since})

    assert_not_modified(response, data_file)


@pytest.mark.parametrize("since", [formatdate(MTIME - 1, usegmt=True), "yesterday", ""])
def test_fileresponse_if_modified_since_older_or_invalid_sends_file(
    data_file: Path, since: str
) -> None:
    response = client_for(data_file).get("/file", headers={"If-Modified-Since": since})

    assert response.status_code == 200
    assert response.content == DATA


def test_fileresponse_if_none_match_takes_precedence_over_if_modified_since(
    data_file: Path,
) -> None:
    response = client_for(data_file).get(
        "/file", headers={"If-None-Match": '"other"', "If-Modified-Since": LAST_MODIFIED}
    )

    assert response.status_code == 200
    assert response.content == DATA


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ("{etag}", 200),
        ("*", 200),
        ('"other", {etag}', 200),
        ('"other"', 412),
        ("W/{etag}", 412),  # If-Match compares strongly
    ],
)
def test_fileresponse_if_match(data_file: Path, if_match: str, status: int) -> None:
    header = if_match.format(etag=etag_of(data_file))
    client = client_for(data_file)

    response = client.get("/file", headers={"If-Match": header})

    assert response.status_code == status
    if status == 200:
        assert response.content == DATA
    else:
        assert response.json() == {"detail": "Precondition Failed"}
        assert "etag" not in response.headers
        assert client.head("/file", headers={"If-Match": header}).status_code == 412


@pytest.mark.parametrize(
    ("since", "status"),
    [
        (LAST_MODIFIED, 200),
        (formatdate(MTIME + 3600, usegmt=True), 200),
        (formatdate(MTIME - 1, usegmt=True), 412),
        ("not a date", 200),
    ],
)
def test_fileresponse_if_unmodified_since(data_file: Path, since: str, status: int) -> None:
    response = client_for(data_file).get("/file", headers={"If-Unmodified-Since": since})

    assert response.status_code == status


def test_fileresponse_if_match_takes_precedence_and_ranges_follow(data_file: Path) -> None:
    client = client_for(data_file)
    older = formatdate(MTIME - 1, usegmt=True)

    matched = client.get(
        "/file",
        headers={
            "If-Match": etag_of(data_file),
            "If-Unmodified-Since": older,
            "Range": "bytes=0-1",
        },
    )

    assert matched.status_code == 206
    assert matched.content == DATA[:2]
    failed = client.get("/file", headers={"If-Match": '"other"', "Range": "bytes=0-1"})
    assert failed.status_code == 412


def test_fileresponse_conditions_ignored_for_post(data_file: Path) -> None:
    app = Faster()

    @app.post("/file")
    async def post_file() -> FileResponse:
        return FileResponse(data_file)

    response = TestClient(app).post("/file", headers={"If-None-Match": "*", "Range": "bytes=0-1"})

    assert response.status_code == 200
    assert response.content == DATA


def test_fileresponse_conditions_ignored_when_status_is_not_200(data_file: Path) -> None:
    response = client_for(data_file, status_code=404).get(
        "/file", headers={"If-None-Match": etag_of(data_file), "Range": "bytes=0-1"}
    )

    assert response.status_code == 404
    assert response.content == DATA


def test_fileresponse_user_etag_used_for_conditions(data_file: Path) -> None:
    client = client_for(data_file, headers={"ETag": '"v1"'})

    response = client.get("/file", headers={"If-None-Match": '"v1"'})

    assert response.status_code == 304
    assert response.headers.get_list("etag") == ['"v1"']


# -- ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=2-5", 2, 5),
        ("bytes=0-0", 0, 0),
        ("bytes=10-", 10, 15),
        ("bytes=-3", 13, 15),
        ("bytes=-100", 0, 15),
        ("bytes=12-999", 12, 15),
        ("BYTES = 2-5 ", 2, 5),
        ("bytes=2-5, 40-50", 2, 5),
    ],
)
def test_fileresponse_single_range_returns_206(
    data_file: Path, header: str, start: int, end: int
) -> None:
    response = client_for(data_file).get("/file", headers={"Range": header})

    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/16"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["etag"] == etag_of(data_file)
    assert response.content == DATA[start : end + 1]


def test_fileresponse_multiple_ranges_return_multipart(data_file: Path) -> None:
    response = client_for(data_file).get("/file", headers={"Range": "bytes=10-11, 0-2, -1"})

    assert response.status_code == 206
    assert "content-range" not in response.headers
    assert response.headers["content-length"] == str(len(response.content))
    parts = parse_byteranges(response.headers["content-type"], response.content)
    assert parts == [
        ({"content-type": "text/plain; charset=utf-8", "content-range": "bytes 10-11/16"}, b"ab"),
        ({"content-type": "text/plain; charset=utf-8", "content-range": "bytes 0-2/16"}, b"012"),
        ({"content-type": "text/plain; charset=utf-8", "content-range": "bytes 15-15/16"}, b"f"),
    ]


def test_fileresponse_multipart_of_large_file_is_intact(tmp_path: Path) -> None:
    content = os.urandom(300 * 1024)
    path = write(tmp_path / "big.bin", content)

    response = client_for(path).get("/file", headers={"Range": "bytes=0-99999,200000-"})

    parts = parse_byteranges(response.headers["content-type"], response.content)
    assert response.headers["content-length"] == str(len(response.content))
    assert [data for _, data in parts] == [content[:100000], content[200000:]]
    assert parts[1][0]["content-range"] == f"bytes 200000-{len(content) - 1}/{len(content)}"


@pytest.mark.parametrize(
    ("header", "content_range", "body"),
    [
        ("bytes=0-4,3-8", "bytes 0-8/16", DATA[0:9]),
        ("bytes=0-3,4-7", "bytes 0-7/16", DATA[0:8]),
        ("bytes=5-6,0-15", "bytes 0-15/16", DATA),
    ],
)
def test_fileresponse_overlapping_ranges_coalesced(
    data_file: Path, header: str, content_range: str, body: bytes
) -> None:
    response = client_for(data_file).get("/file", headers={"Range": header})

    assert response.status_code == 206
    assert response.headers["content-range"] == content_range
    assert response.content == body


def test_fileresponse_overlap_coalesced_among_many_ranges(data_file: Path) -> None:
    response = client_for(data_file).get("/file", headers={"Range": "bytes=12-13,0-1,1-2"})

    parts = parse_byteranges(response.headers["content-type"], response.content)
    assert [(fields["content-range"], data) for fields, data in parts] == [
        ("bytes 0-2/16", b"012"),
        ("bytes 12-13/16", b"cd"),
    ]


@pytest.mark.parametrize("header", ["bytes=16-", "bytes=100-200", "bytes=-0", "bytes=20-30,16-"])
def test_fileresponse_unsatisfiable_range_returns_416(data_file: Path, header: str) -> None:
    response = client_for(data_file).get("/file", headers={"Range": header})

    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */16"
    assert response.json() == {"detail": "Range Not Satisfiable"}


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=5-2",
        "bytes=1-2,5-2",
        "items=0-1",
        "bytes=",
        "bytes=-",
        "0-1",
        "bytes=1--2",
        "bytes=٠-١",  # Arabic-Indic digits are not ASCII digits
        "bytes=0-" + "9" * 5000,
    ],
)
def test_fileresponse_malformed_range_serves_full_file(data_file: Path, header: str) -> None:
    response = client_for(data_file).get("/file", headers={"Range": header.encode("utf-8")})

    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert response.headers["content-length"] == "16"
    assert response.content == DATA


def test_fileresponse_more_than_100_ranges_serves_full_file(tmp_path: Path) -> None:
    content = bytes(range(256))
    path = write(tmp_path / "bytes.bin", content)
    client = client_for(path)
    hundred = ",".join(f"{i * 2}-{i * 2}" for i in range(100))

    at_limit = client.get("/file", headers={"Range": f"bytes={hundred}"})
    over_limit = client.get("/file", headers={"Range": f"bytes={hundred},250-250"})

    assert at_limit.status_code == 206
    parts = parse_byteranges(at_limit.headers["content-type"], at_limit.content)
    assert [data for _, data in parts] == [bytes([i * 2]) for i in range(100)]
    assert over_limit.status_code == 200
    assert over_limit.content == content


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        ("{etag}", 206),
        ('"other"', 200),
        ("W/{etag}", 200),  # If-Range needs a strong comparison
        (LAST_MODIFIED, 206),
        (formatdate(MTIME - 60, usegmt=True), 200),
        ("not a date", 200),
    ],
)
def test_fileresponse_if_range(data_file: Path, if_range: str, status: int) -> None:
    headers = {"Range": "bytes=0-3", "If-Range": if_range.format(etag=etag_of(data_file))}

    response = client_for(data_file).get("/file", headers=headers)

    assert response.status_code == status
    assert response.content == (DATA[:4] if status == 206 else DATA)


def test_fileresponse_if_range_mismatch_with_unsatisfiable_range_serves_file(
    data_file: Path,
) -> None:
    headers = {"Range": "bytes=100-", "If-Range": '"other"'}

    response = client_for(data_file).get("/file", headers=headers)

    assert response.status_code == 200
    assert response.content == DATA


# -- pathsend ----------------------------------------------------------------------------


PATHSEND = {"http.response.pathsend": {}}


def test_fileresponse_pathsend_used_when_offered(data_file: Path) -> None:
    messages = call(FileResponse(data_file), extensions=PATHSEND)

    assert [m["type"] for m in messages] == ["http.response.start", "http.response.pathsend"]
    assert messages[0]["status"] == 200
    assert (b"content-length", b"16") in messages[0]["headers"]
    assert messages[1] == {"type": "http.response.pathsend", "path": str(data_file)}


def test_fileresponse_pathsend_path_is_absolute(
    data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(data_file.parent)

    messages = call(FileResponse("data.txt"), extensions=PATHSEND)

    assert messages[1]["path"] == str(data_file)


def test_fileresponse_pathsend_not_used_for_ranges_or_head(data_file: Path) -> None:
    ranged = call(FileResponse(data_file), headers=[(b"range", b"bytes=1-2")], extensions=PATHSEND)
    head = call(FileResponse(data_file), "HEAD", extensions=PATHSEND)

    assert ranged[0]["status"] == 206
    assert [m["type"] for m in ranged[1:]] == ["http.response.body"]
    assert ranged[1]["body"] == b"12"
    assert [m["type"] for m in head] == ["http.response.start", "http.response.body"]
    assert head[1]["body"] == b""


def test_fileresponse_pathsend_not_used_when_not_offered(data_file: Path) -> None:
    messages = call(FileResponse(data_file))

    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
    assert messages[1] == {"type": "http.response.body", "body": DATA, "more_body": False}


def test_fileresponse_small_file_shrunk_is_caught_before_the_start(data_file: Path) -> None:
    response = FileResponse(data_file, stat_result=data_file.stat())
    data_file.write_bytes(DATA[:4])
    messages: list[dict[str, Any]] = []

    with pytest.raises(RuntimeError, match="shrank"):
        call(response, messages=messages)

    assert messages == []  # read whole before anything was sent: the app can answer 500


def test_fileresponse_large_file_shrunk_while_sending_raises(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    chunk = FileResponse.chunk_size
    big.write_bytes(b"x" * (3 * chunk))
    response = FileResponse(big, stat_result=big.stat())
    big.write_bytes(b"x" * (chunk + 4))
    messages: list[dict[str, Any]] = []

    with pytest.raises(RuntimeError, match="shrank"):
        call(response, messages=messages)

    assert messages[0]["status"] == 200
    assert [len(m.get("body", b"")) for m in messages[1:]] == [chunk, 4]
    assert all(m["more_body"] is True for m in messages[1:])  # cut short, never "complete"
