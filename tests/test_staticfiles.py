import asyncio
import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from FasterAPI import Faster, PlainTextResponse, Request
from FasterAPI.exceptions import HTTPException
from FasterAPI.staticfiles import StaticFiles
from FasterAPI.testclient import TestClient

HELLO = b"hello, static world\n"
SECRET = b"top secret"
NOT_FOUND = {"detail": "Not Found"}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """tmp_path/secret.txt beside tmp_path/static/, the served directory."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    static = tmp_path / "static"
    (static / "sub").mkdir(parents=True)
    (static / "empty").mkdir()
    (static / "hello.txt").write_bytes(HELLO)
    (static / "app.css").write_bytes(b"body { color: red }")
    (static / "index.html").write_bytes(b"<h1>home</h1>")
    (static / "sub" / "index.html").write_bytes(b"<h1>sub</h1>")
    (static / "sub" / "page.txt").write_bytes(b"sub page")
    return static


def client_for(directory: Path, **kwargs: Any) -> TestClient:
    app = Faster()
    app.mount("/static", StaticFiles(directory=directory, **kwargs), name="static")
    return TestClient(app, follow_redirects=False)


def call(
    app: Any,
    path: str,
    method: str = "GET",
    root_path: str = "",
    extensions: dict[str, Any] | None = None,
    scope_type: str = "http",
) -> list[dict[str, Any]]:
    """Run ``app`` with a hand-made scope for exactly ``path``; return the messages sent."""
    scope = {
        "type": scope_type,
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "root_path": root_path,
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("test", 1),
        "server": ("testserver", 80),
        "extensions": extensions or {},
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    anyio.run(app, scope, receive, send)
    return messages


def body_of(messages: list[dict[str, Any]]) -> bytes:
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")


# -- serving -----------------------------------------------------------------------------


def test_staticfiles_serves_file_under_mount(site: Path) -> None:
    response = client_for(site).get("/static/hello.txt")

    st = (site / "hello.txt").stat()
    assert response.status_code == 200
    assert response.content == HELLO
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == str(len(HELLO))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
    assert "last-modified" in response.headers
    assert "content-disposition" not in response.headers


def test_staticfiles_serves_nested_file_and_css_type(site: Path) -> None:
    client = client_for(site)

    nested = client.get("/static/sub/page.txt")
    css = client.get("/static/app.css")

    assert nested.status_code == 200
    assert nested.content == b"sub page"
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.content == b"body { color: red }"


def test_staticfiles_percent_encoded_name(site: Path) -> None:
    (site / "with space.txt").write_bytes(b"spaced")

    response = client_for(site).get("/static/with%20space.txt")

    assert response.status_code == 200
    assert response.content == b"spaced"


def test_staticfiles_head_sends_headers_only(site: Path) -> None:
    client = client_for(site)

    head = client.head("/static/hello.txt")

    assert head.status_code == 200
    assert head.headers == client.get("/static/hello.txt").headers
    assert head.content == b""


def test_staticfiles_missing_file_404_json(site: Path) -> None:
    response = client_for(site).get("/static/nope.txt")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == NOT_FOUND


def test_staticfiles_file_with_trailing_slash_404(site: Path) -> None:
    response = client_for(site).get("/static/hello.txt/")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("path", ["/static", "/static/", "/static/sub", "/static/sub/"])
def test_staticfiles_directory_without_html_404(site: Path, path: str) -> None:
    response = client_for(site).get(path)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_staticfiles_other_methods_405_with_allow(site: Path, method: str) -> None:
    response = client_for(site).request(method, "/static/hello.txt")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json() == {"detail": "Method Not Allowed"}


def test_staticfiles_conditional_get_304(site: Path) -> None:
    client = client_for(site)
    first = client.get("/static/hello.txt")

    by_etag = client.get("/static/hello.txt", headers={"If-None-Match": first.headers["etag"]})
    by_date = client.get(
        "/static/hello.txt", headers={"If-Modified-Since": first.headers["last-modified"]}
    )

    for response in (by_etag, by_date):
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == first.headers["etag"]
        assert "content-length" not in response.headers


def test_staticfiles_range_requests(site: Path) -> None:
    client = client_for(site)
    etag = client.get("/static/hello.txt").headers["etag"]

    single = client.get("/static/hello.txt", headers={"Range": "bytes=0-4"})
    multi = client.get("/static/hello.txt", headers={"Range": "bytes=0-4,7-12"})
    unsatisfiable = client.get("/static/hello.txt", headers={"Range": "bytes=500-"})
    stale = client.get("/static/hello.txt", headers={"Range": "bytes=0-4", "If-Range": '"x"'})
    fresh = client.get("/static/hello.txt", headers={"Range": "bytes=0-4", "If-Range": etag})

    assert single.status_code == 206
    assert single.headers["content-range"] == f"bytes 0-4/{len(HELLO)}"
    assert single.content == b"hello"
    assert multi.status_code == 206
    assert multi.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert multi.headers["content-length"] == str(len(multi.content))
    assert b"\r\n\r\nhello\r\n" in multi.content and b"\r\n\r\nstatic\r\n" in multi.content
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{len(HELLO)}"
    assert stale.status_code == 200 and stale.content == HELLO
    assert fresh.status_code == 206 and fresh.content == b"hello"


def test_staticfiles_pathsend_used_when_offered(site: Path) -> None:
    # Above 64 KiB: a smaller file the kernel has in memory goes out as bytes instead.
    (site / "big.bin").write_bytes(b"x" * 100_000)
    app = StaticFiles(directory=site)

    messages = [
        call(app, "/static/big.bin", root_path="/static", extensions={"http.response.pathsend": {}})
        for _ in range(2)
    ]

    for answer in messages:
        assert answer[0]["status"] == 200
        assert answer[1] == {"type": "http.response.pathsend", "path": str(site / "big.bin")}


def test_staticfiles_stats_off_the_event_loop(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(site, html=True)
    on_loop: list[bool] = []

    def spying(real: Any) -> Any:
        def spy(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            try:
                asyncio.get_running_loop()
                on_loop.append(True)
            except RuntimeError:
                on_loop.append(False)
            return real(path, *args, **kwargs)

        return spy

    monkeypatch.setattr(os, "stat", spying(os.stat))
    monkeypatch.setattr(os, "lstat", spying(os.lstat))

    assert client.get("/static/hello.txt").status_code == 200
    assert client.get("/static/sub/").status_code == 200
    assert client.get("/static/missing").status_code == 404
    assert on_loop and not any(on_loop)


# -- html mode ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"), [("/static/", b"<h1>home</h1>"), ("/static/sub/", b"<h1>sub</h1>")]
)
def test_staticfiles_html_serves_index(site: Path, path: str, body: bytes) -> None:
    client = client_for(site, html=True)

    response = client.get(path)
    head = client.head(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-length"] == str(len(body))
    assert response.content == body
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/static", "http://testserver/static/"),
        ("/static/sub", "http://testserver/static/sub/"),
        ("/static/sub?v=1", "http://testserver/static/sub/?v=1"),
    ],
)
def test_staticfiles_html_directory_redirects_to_slash(
    site: Path, path: str, location: str
) -> None:
    response = client_for(site, html=True).get(path)

    assert response.status_code == 307
    assert response.headers["location"] == location
    assert response.content == b""


def test_staticfiles_html_redirect_keeps_the_escapes(site: Path) -> None:
    (site / "100% a?b").mkdir()
    (site / "100% a?b" / "index.html").write_bytes(b"<h1>odd</h1>")
    client = client_for(site, html=True)

    response = client.get("/static/100%25%20a%3Fb?v=1")

    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/static/100%25%20a%3Fb/?v=1"
    assert client.get(response.headers["location"]).content == b"<h1>odd</h1>"


def test_staticfiles_html_redirect_followed(site: Path) -> None:
    app = Faster()
    app.mount("/static", StaticFiles(directory=site, html=True))

    response = TestClient(app).get("/static/sub")

    assert response.status_code == 200
    assert response.content == b"<h1>sub</h1>"


def test_staticfiles_html_directory_without_index_404(site: Path) -> None:
    client = client_for(site, html=True)

    assert client.get("/static/empty/").json() == NOT_FOUND
    assert client.get("/static/empty").status_code == 404


def test_staticfiles_html_serves_404_page(site: Path) -> None:
    (site / "404.html").write_bytes(b"<h1>lost</h1>")
    client = client_for(site, html=True)

    for path in ("/static/nope", "/static/empty/", "/static/%2e%2e/secret.txt"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.content == b"<h1>lost</h1>"


def test_staticfiles_404_page_ignores_conditions_and_ranges(site: Path) -> None:
    (site / "404.html").write_bytes(b"<h1>lost</h1>")

    response = client_for(site, html=True).get(
        "/static/nope", headers={"Range": "bytes=0-1", "If-None-Match": "*"}
    )

    assert response.status_code == 404
    assert response.content == b"<h1>lost</h1>"


def test_staticfiles_404_page_needs_html_mode(site: Path) -> None:
    (site / "404.html").write_bytes(b"<h1>lost</h1>")

    response = client_for(site).get("/static/nope")

    assert response.json() == NOT_FOUND


# -- traversal ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/static/../secret.txt",  # httpx normalises this to /secret.txt
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%2Fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/%2e%2e%5csecret.txt",
        "/static/sub/%2e%2e/%2e%2e/secret.txt",
        "/static/%252e%252e/secret.txt",
        "/static/%2f..%2fsecret.txt",
        "/static/%00",
        "/static/hello.txt%00.png",
        "/static/%2fetc%2fpasswd",
    ],
)
def test_staticfiles_traversal_via_client_404(site: Path, url: str) -> None:
    client = client_for(site, html=True)

    response = client.get(url)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert SECRET not in response.content


TRAVERSALS = [
    "/static/../secret.txt",
    "/static/..",
    "/static/sub/../../secret.txt",
    "/static/./../secret.txt",
    "/static/sub/./../../secret.txt",
    "/static/..\\secret.txt",
    "/static/sub\\..\\..\\secret.txt",
    "/static/%2e%2e/secret.txt",  # a server that did not decode: a literal name, not found
    "/static/..%2fsecret.txt",
    "/static/\x00",
    "/static/hello.txt\x00.png",
    "/static/C:\\secret.txt",
    "/static/" + "a" * 5000,
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_staticfiles_traversal_exact_path_standalone_404(site: Path, path: str) -> None:
    messages = call(StaticFiles(directory=site, html=True), path, root_path="/static")

    assert messages[0]["status"] == 404
    assert body_of(messages) == b'{"detail":"Not Found"}'


@pytest.mark.parametrize("path", TRAVERSALS)
def test_staticfiles_traversal_exact_path_in_app_404(site: Path, path: str) -> None:
    app = Faster()
    app.mount("/static", StaticFiles(directory=site))

    messages = call(app, path)

    assert messages[0]["status"] == 404
    assert body_of(messages) == b'{"detail":"Not Found"}'


def test_staticfiles_absolute_path_stays_inside_root(site: Path, tmp_path: Path) -> None:
    secret = str(tmp_path / "secret.txt")

    messages = call(StaticFiles(directory=site), "/static/" + secret, root_path="/static")
    via_client = client_for(site).get("/static/" + secret)

    assert messages[0]["status"] == 404
    assert via_client.status_code == 404


def test_staticfiles_symlink_out_of_root_404(site: Path, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "file.txt").write_bytes(SECRET)
    (site / "link-out.txt").symlink_to(tmp_path / "secret.txt")
    (site / "outdir").symlink_to(tmp_path / "outside", target_is_directory=True)
    client = client_for(site)

    assert client.get("/static/link-out.txt").status_code == 404
    assert client.get("/static/outdir/file.txt").status_code == 404
    assert SECRET not in client.get("/static/outdir/file.txt").content


def test_staticfiles_symlink_inside_root_served(site: Path) -> None:
    (site / "alias.txt").symlink_to(site / "hello.txt")

    response = client_for(site).get("/static/alias.txt")

    assert response.status_code == 200
    assert response.content == HELLO


def test_staticfiles_symlinked_folder_inside_root_served(site: Path, tmp_path: Path) -> None:
    (site / "alias-sub").symlink_to(site / "sub", target_is_directory=True)
    (site / "sub" / "deeper").mkdir()
    (site / "sub" / "deeper" / "note.txt").write_bytes(b"deep")
    (site / "sub" / "deeper" / "out.txt").symlink_to(tmp_path / "secret.txt")
    client = client_for(site)

    served = client.get("/static/alias-sub/deeper/note.txt")
    direct = client.get("/static/sub/deeper/note.txt")
    escaping = client.get("/static/alias-sub/deeper/out.txt")

    assert (served.status_code, served.content) == (200, b"deep")
    assert (direct.status_code, direct.content) == (200, b"deep")
    assert escaping.status_code == 404
    assert client.get("/static/sub/deeper/out.txt").status_code == 404


def test_staticfiles_follow_symlink_serves_outside_target(site: Path, tmp_path: Path) -> None:
    (site / "link-out.txt").symlink_to(tmp_path / "secret.txt")

    response = client_for(site, follow_symlink=True).get("/static/link-out.txt")
    traversal = client_for(site, follow_symlink=True).get("/static/%2e%2e/secret.txt")

    assert response.status_code == 200
    assert response.content == SECRET
    assert traversal.status_code == 404


def test_staticfiles_directory_itself_a_symlink(site: Path, tmp_path: Path) -> None:
    (tmp_path / "static-link").symlink_to(site, target_is_directory=True)

    response = client_for(tmp_path / "static-link").get("/static/hello.txt")

    assert response.status_code == 200
    assert response.content == HELLO


# -- construction and other scopes -------------------------------------------------------


def test_staticfiles_check_dir_raises_for_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "missing")


def test_staticfiles_check_dir_false_allows_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    client = client_for(missing, check_dir=False)

    assert client.get("/static/a.txt").status_code == 404
    missing.mkdir()
    (missing / "a.txt").write_bytes(b"late")
    assert client.get("/static/a.txt").content == b"late"


def test_staticfiles_needs_directory_or_packages() -> None:
    with pytest.raises(ValueError, match="directory or packages"):
        StaticFiles()


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    root = tmp_path / "pkgs" / "fa_static_pkg"
    (root / "statics").mkdir(parents=True)
    (root / "assets").mkdir()
    (root / "__init__.py").write_text("")
    (root / "statics" / "pkg.txt").write_bytes(b"from statics")
    (root / "assets" / "pkg.txt").write_bytes(b"from assets")
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    return "fa_static_pkg"


def test_staticfiles_packages_serve_statics_folder(package: str, site: Path) -> None:
    app = Faster()
    app.mount("/static", StaticFiles(directory=site, packages=[package]))
    app.mount("/assets", StaticFiles(packages=[(package, "assets")]))
    client = TestClient(app)

    assert client.get("/static/pkg.txt").content == b"from statics"
    assert client.get("/static/hello.txt").content == HELLO
    assert client.get("/assets/pkg.txt").content == b"from assets"


def test_staticfiles_packages_missing_raise(package: str) -> None:
    with pytest.raises(ValueError, match="cannot be found"):
        StaticFiles(packages=["fa_no_such_package_xyz"])
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(packages=[(package, "nope")])


def test_staticfiles_standalone_app(site: Path) -> None:
    client = TestClient(StaticFiles(directory=site))

    assert client.get("/hello.txt").content == HELLO
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.json() == NOT_FOUND
    wrong_method = client.delete("/hello.txt")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET, HEAD"
    assert wrong_method.json() == {"detail": "Method Not Allowed"}


def test_staticfiles_app_exception_handler_applies(site: Path) -> None:
    app = Faster()
    app.mount("/static", StaticFiles(directory=site))

    @app.exception_handler(404)
    async def not_found(request: Request, exc: HTTPException) -> PlainTextResponse:
        return PlainTextResponse(f"no {request.url.path}", status_code=404)

    response = TestClient(app).get("/static/nope.txt")

    assert response.status_code == 404
    assert response.text == "no /static/nope.txt"


def test_staticfiles_websocket_scope_closed(site: Path) -> None:
    messages = call(StaticFiles(directory=site), "/static/hello.txt", scope_type="websocket")

    assert messages == [{"type": "websocket.close", "code": 1000, "reason": ""}]
