"""Form fields, uploads (multipart, streamed to disk) and their limits."""

import os
from typing import Annotated

import anyio
import msgspec

from FasterAPI import Faster, File, Form, Request, UploadFile
from FasterAPI.testclient import TestClient


class LoginForm(msgspec.Struct):
    username: str
    password: Annotated[str, msgspec.Meta(min_length=3)]
    remember: bool = False


def forms_app() -> Faster:
    app = Faster()

    @app.post("/login")
    async def login(username: str = Form(), age: Annotated[int, Form(ge=0)] = 0):
        return {"username": username, "age": age}

    @app.post("/struct-form")
    async def struct_form(form: Annotated[LoginForm, Form()]):
        return {"username": form.username, "remember": form.remember}

    @app.post("/upload")
    async def upload(file: UploadFile, note: str = Form("")):
        data = await file.read()
        return {
            "filename": file.filename,
            "type": file.content_type,
            "size": file.size,
            "data": data.decode(),
            "note": note,
        }

    @app.post("/many")
    async def many(files: list[UploadFile] = File()):
        return [f.filename for f in files]

    @app.post("/optional")
    async def optional(file: UploadFile | None = File(default=None)):
        return None if file is None else file.filename

    @app.post("/raw-bytes")
    async def raw_bytes(data: bytes = File()):
        return len(data)

    @app.post("/tags")
    async def tags(tag: list[str] = Form(default=[])):
        return tag

    return app


client = TestClient(forms_app())


def test_form_fields_typed_and_constrained():
    assert client.post("/login", data={"username": "ann", "age": "30"}).json() == {
        "username": "ann",
        "age": 30,
    }
    response = client.post("/login", data={"age": "-1"})
    assert response.status_code == 422
    locs = sorted(tuple(e["loc"]) for e in response.json()["detail"])
    assert locs == [("body", "age"), ("body", "username")]


def test_form_fields_from_multipart_too():
    response = client.post("/login", data={"username": "bob"}, files={"x": ("a.txt", b"ignored")})
    assert response.json() == {"username": "bob", "age": 0}


def test_form_struct_as_whole_form():
    response = client.post(
        "/struct-form", data={"username": "ann", "password": "secret", "remember": "true"}
    )
    assert response.json() == {"username": "ann", "remember": True}
    response = client.post("/struct-form", data={"username": "ann", "password": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]


def test_form_repeated_keys_and_semicolon():
    response = client.post(
        "/tags",
        content=b"tag=a&tag=b;c",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.json() == ["a", "b;c"]


def test_upload_file_attributes_and_content():
    response = client.post(
        "/upload",
        files={"file": ("report.txt", b"hello upload", "text/plain")},
        data={"note": "n"},
    )
    assert response.json() == {
        "filename": "report.txt",
        "type": "text/plain",
        "size": 12,
        "data": "hello upload",
        "note": "n",
    }


def test_upload_missing_file_is_422_and_text_instead_of_file_is_422():
    response = client.post("/upload", data={"note": "n"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    response = client.post("/upload", data={"file": "not a file"}, files={"x": ("a", b"")})
    assert response.status_code == 422


def test_upload_list_optional_and_bytes():
    files = [("files", ("a.txt", b"1")), ("files", ("b.txt", b"2"))]
    assert client.post("/many", files=files).json() == ["a.txt", "b.txt"]
    assert client.post("/optional", data={"other": "1"}).json() is None
    assert client.post("/optional", files={"file": ("c.bin", b"x")}).json() == "c.bin"
    assert client.post("/raw-bytes", files={"data": ("d", b"12345")}).json() == 5


def test_upload_filename_path_components_are_dropped():
    response = client.post("/upload", files={"file": ("../../etc/passwd", b"x")})
    assert response.json()["filename"] == "passwd"
    response = client.post("/upload", files={"file": ("C:\\temp\\x.txt", b"x")})
    assert response.json()["filename"] == "x.txt"


def test_form_wrong_content_type_is_415():
    response = client.post("/login", json={"username": "ann"})
    assert response.status_code == 415


def test_request_form_and_temp_files_deleted_after_request():
    app = Faster()
    seen = {}

    @app.post("/big")
    async def big(request: Request):
        form = await request.form()
        upload = form["file"]
        seen["file"] = upload.file
        seen["rolled"] = upload.file._rolled
        seen["name"] = upload.file.name if upload.file._rolled else None
        raise RuntimeError("handler failed after reading the form")

    payload = b"x" * (2 * 1024 * 1024)
    response = TestClient(app, raise_server_exceptions=False).post(
        "/big", files={"file": ("big.bin", payload)}
    )
    assert response.status_code == 500
    assert seen["rolled"] is True
    assert seen["file"].closed
    assert not os.path.exists(seen["name"])


def test_request_form_limits_fields_files_and_part_size():
    app = Faster()

    @app.post("/limited")
    async def limited(request: Request):
        form = await request.form(max_fields=2, max_files=1, max_part_size=10)
        return len(form)

    client = TestClient(app)
    assert client.post("/limited", data={"a": "1", "b": "2"}).json() == 2
    assert client.post("/limited", data={"a": "1", "b": "2", "c": "3"}).status_code == 413
    files = [("f", ("1", b"x")), ("g", ("2", b"y"))]
    assert client.post("/limited", files=files).status_code == 413
    assert client.post("/limited", data={"a": "x" * 11}, files={"f": ("1", b"")}).status_code == 413


def raw_post(app, body: bytes, content_type: bytes):
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "query_string": b"",
        "headers": [(b"content-type", content_type)],
    }
    anyio.run(app, scope, receive, send)
    return sent[0]["status"], sent[1]["body"]


MULTIPART_B = b"multipart/form-data; boundary=B"


def test_multipart_malformed_inputs_are_400():
    app = forms_app()
    ok_head = b'--B\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc'
    cases = [
        (b"whatever", b"multipart/form-data"),  # no boundary
        (ok_head, b"multipart/form-data; boundary=B"),  # truncated
        (os.urandom(2000), b"multipart/form-data; boundary=B"),  # random bytes
        (b"--B\r\nNo-Colon-Header\r\n\r\nx\r\n--B--\r\n", MULTIPART_B),
        (b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--\r\n", MULTIPART_B),
    ]
    for body, content_type in cases:
        status, _ = raw_post(app, body, content_type)
        assert status == 400, body[:40]


def test_multipart_too_many_part_headers_is_400():
    app = forms_app()
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(50))
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n'
        + headers
        + b"\r\nabc\r\n--B--\r\n"
    )
    status, _ = raw_post(app, body, b"multipart/form-data; boundary=B")
    assert status == 400
