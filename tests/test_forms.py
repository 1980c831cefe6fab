"""Form fields, uploads (multipart, streamed to disk) and their limits."""

import dataclasses
import os
from typing import Annotated, Optional
from urllib.parse import urlencode

import anyio
import msgspec
import pytest

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


def test_upload_empty_file_has_size_zero():
    response = client.post("/upload", files={"file": ("empty.txt", b"", "text/plain")})
    assert response.json()["size"] == 0
    assert response.json()["data"] == ""


def test_upload_missing_file_is_422_and_text_instead_of_file_is_422():
    response = client.post("/upload", data={"note": "n"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    response = client.post("/upload", data={"file": "not a file"}, files={"x": ("a", b"")})
    assert response.status_code == 422


def test_form_text_field_sent_as_a_file_is_422_saying_so():
    response = client.post("/login", files={"username": ("name.txt", b"ann")})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "value_error",
            "loc": ["body", "username"],
            "msg": "Expected a text field, received an uploaded file",
            "input": "name.txt",
        }
    ]


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


# Empty values: HTML forms send an input left empty as ``name=`` and a file input left
# empty as a part with ``filename=""`` and no content.


class Signup(msgspec.Struct):
    name: str
    tags: list[str] = []
    age: Optional[int] = None
    count: int = 0
    scores: Optional[list[int]] = None
    pair: tuple[int, ...] = ()
    kinds: frozenset[str] = frozenset()
    level: int = 1


class Renamed(msgspec.Struct, rename="camel"):
    user_name: str
    extra_tags: set[str] = set()


@dataclasses.dataclass
class Contact:
    email: str
    phones: list[str] = dataclasses.field(default_factory=list)
    note: str = "none"


class Preferences(msgspec.Struct):
    subscribe: bool = False
    days: list[bool] = []


class Strict(msgspec.Struct):
    code: int
    label: str


def empty_values_app() -> Faster:
    app = Faster()

    @app.post("/fields")
    def fields(
        name: Annotated[str, Form()],
        age: Annotated[Optional[int], Form()] = None,
        n: Annotated[int, Form()] = 0,
        note: Annotated[str, Form()] = "d",
        flag: Annotated[bool, Form()] = True,
        tags: Annotated[list[str], Form()] = [],
    ):
        return {"name": name, "age": age, "n": n, "note": note, "flag": flag, "tags": tags}

    @app.post("/required-int")
    def required_int(n: Annotated[int, Form()], tags: Annotated[list[str], Form()]):
        return {"n": n, "tags": tags}

    @app.post("/optional-file")
    async def optional_file(file: Optional[UploadFile] = None):
        if file is None:
            return None
        return {"filename": file.filename, "data": (await file.read()).decode()}

    @app.post("/required-file")
    async def required_file(file: UploadFile):
        return file.filename

    @app.post("/file-list")
    async def file_list(files: list[UploadFile] = File(default=[])):
        names = [f.filename for f in files]
        files.append(UploadFile(filename="leaked"))  # the default list is this request's own
        return names

    @app.post("/file-bytes")
    async def file_bytes(data: bytes = File(default=b"none")):
        return data.decode()

    @app.post("/signup")
    def signup(data: Annotated[Signup, Form()]):
        return data

    @app.post("/renamed")
    def renamed(data: Annotated[Renamed, Form()]):
        return {"user_name": data.user_name, "extra_tags": sorted(data.extra_tags)}

    @app.post("/contact")
    def contact(data: Annotated[Contact, Form()]):
        return data

    @app.post("/strict")
    def strict(data: Annotated[Strict, Form()]):
        return data

    @app.post("/prefs")
    def prefs(data: Annotated[Preferences, Form()]):
        return data

    return app


empty_client = TestClient(empty_values_app())
EMPTY_FILE = object()  # a browser's part for a file input left empty


def multipart_body(pairs) -> bytes:
    chunks = []
    for name, value in pairs:
        if value is EMPTY_FILE:
            disposition = f'name="{name}"; filename=""'
            head = f"Content-Disposition: form-data; {disposition}\r\n"
            head += "Content-Type: application/octet-stream\r\n"
            data = b""
        elif isinstance(value, tuple):
            filename, data = value
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        else:
            head = f'Content-Disposition: form-data; name="{name}"\r\n'
            data = value.encode()
        chunks.append(b"--B\r\n" + head.encode() + b"\r\n" + data + b"\r\n")
    return b"".join(chunks) + b"--B--\r\n"


def post_form(path, pairs, encoding):
    """POST ``pairs`` ((name, text) / (name, (filename, bytes)) / (name, EMPTY_FILE))."""
    if encoding == "urlencoded":
        return empty_client.post(
            path,
            content=urlencode(pairs).encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    return empty_client.post(
        path,
        content=multipart_body(pairs),
        headers={"content-type": "multipart/form-data; boundary=B"},
    )


ENCODINGS = pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])


@ENCODINGS
def test_form_empty_values_of_fields_with_defaults_take_the_default(encoding):
    pairs = [("name", "x"), ("age", ""), ("n", ""), ("note", ""), ("flag", ""), ("tags", "")]
    response = post_form("/fields", pairs, encoding)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "name": "x",
        "age": None,
        "n": 0,
        "note": "d",
        "flag": True,
        "tags": [],
    }


@ENCODINGS
def test_form_empty_required_str_is_kept_and_sent_values_still_parse(encoding):
    pairs = [("name", ""), ("age", "7"), ("n", "3"), ("note", "t"), ("flag", "off")]
    response = post_form("/fields", pairs, encoding)
    assert response.json() == {
        "name": "",
        "age": 7,
        "n": 3,
        "note": "t",
        "flag": False,
        "tags": [],
    }


@ENCODINGS
def test_form_empty_value_repeated_scalar_takes_the_last(encoding):
    response = post_form("/fields", [("name", "x"), ("n", "5"), ("n", "")], encoding)
    assert response.json()["n"] == 0  # the last value is the one taken, and it is blank
    response = post_form("/fields", [("name", "x"), ("name", "y"), ("n", ""), ("n", "5")], encoding)
    assert response.json()["name"] == "y"
    assert response.json()["n"] == 5


@ENCODINGS
def test_form_empty_values_among_several_list_values_are_kept(encoding):
    pairs = [("name", "x"), ("tags", ""), ("tags", "a"), ("tags", "")]
    assert post_form("/fields", pairs, encoding).json()["tags"] == ["", "a", ""]
    pairs = [("name", "x"), ("tags", ""), ("tags", "")]
    assert post_form("/fields", pairs, encoding).json()["tags"] == ["", ""]


@ENCODINGS
def test_form_empty_value_of_required_fields_keeps_today_s_answer(encoding):
    response = post_form("/required-int", [("n", ""), ("tags", "")], encoding)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [(["body", "n"], "int_parsing")]
    response = post_form("/required-int", [("n", "1"), ("tags", "")], encoding)
    assert response.json() == {"n": 1, "tags": [""]}


@ENCODINGS
def test_upload_optional_blank_text_value_is_not_sent(encoding):
    response = post_form("/optional-file", [("file", "")], encoding)
    assert response.status_code == 200, response.text
    assert response.json() is None


def test_upload_optional_empty_browser_part_is_not_sent():
    assert post_form("/optional-file", [("file", EMPTY_FILE)], "multipart").json() is None
    response = post_form("/optional-file", [("file", ("empty.txt", b""))], "multipart")
    assert response.json() == {"filename": "empty.txt", "data": ""}  # an empty file, named
    response = post_form("/optional-file", [("file", ("", b"content"))], "multipart")
    assert response.json() == {"filename": "", "data": "content"}  # content, no name


def test_upload_required_empty_browser_part_or_blank_value_is_422():
    response = post_form("/required-file", [("file", EMPTY_FILE)], "multipart")
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "missing", "loc": ["body", "file"], "msg": "Field required", "input": None}
    ]
    response = post_form("/required-file", [("file", "")], "multipart")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "value_error"
    response = post_form("/required-file", [("other", "1")], "multipart")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "missing"
    response = post_form("/required-file", [("file", ("a.txt", b"x"))], "multipart")
    assert response.json() == "a.txt"


def test_upload_list_single_empty_part_takes_default_several_kept():
    assert post_form("/file-list", [("files", EMPTY_FILE)], "multipart").json() == []
    assert post_form("/file-list", [("files", EMPTY_FILE)], "multipart").json() == []
    pairs = [("files", ("a.txt", b"1")), ("files", EMPTY_FILE)]
    assert post_form("/file-list", pairs, "multipart").json() == ["a.txt", ""]


def test_upload_bytes_empty_part_takes_default():
    assert post_form("/file-bytes", [("data", EMPTY_FILE)], "multipart").json() == "none"
    assert post_form("/file-bytes", [("data", "")], "urlencoded").json() == "none"
    assert post_form("/file-bytes", [("data", ("d", b"12"))], "multipart").json() == "12"


@ENCODINGS
def test_form_model_list_field_sent_once_is_a_list(encoding):
    response = post_form("/signup", [("name", "x"), ("tags", "a")], encoding)
    assert response.status_code == 200, response.text
    assert response.json()["tags"] == ["a"]
    pairs = [("name", "x"), ("scores", "5"), ("pair", "1"), ("kinds", "k")]
    body = post_form("/signup", pairs, encoding).json()
    assert (body["scores"], body["pair"], body["kinds"]) == ([5], [1], ["k"])


@ENCODINGS
def test_form_model_repeated_scalar_takes_the_last_value(encoding):
    pairs = [("name", "x"), ("name", "y"), ("tags", "a"), ("tags", "b"), ("level", "2")]
    pairs.append(("level", "3"))
    response = post_form("/signup", pairs, encoding)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["tags"], body["level"]) == ("y", ["a", "b"], 3)


@ENCODINGS
def test_form_model_empty_values_of_fields_with_defaults_take_the_default(encoding):
    pairs = [("name", ""), ("tags", ""), ("age", ""), ("count", ""), ("scores", "")]
    pairs += [("pair", ""), ("kinds", ""), ("level", "")]
    response = post_form("/signup", pairs, encoding)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "name": "",
        "tags": [],
        "age": None,
        "count": 0,
        "scores": None,
        "pair": [],
        "kinds": [],
        "level": 1,
    }
    pairs = [("name", "x"), ("tags", ""), ("tags", "a")]
    assert post_form("/signup", pairs, encoding).json()["tags"] == ["", "a"]


@ENCODINGS
def test_form_model_empty_value_of_required_field_is_422(encoding):
    response = post_form("/strict", [("code", ""), ("label", "")], encoding)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "code"]
    assert post_form("/strict", [("code", "4"), ("label", "")], encoding).json() == {
        "code": 4,
        "label": "",
    }


@ENCODINGS
def test_form_model_renamed_fields_and_dataclass(encoding):
    pairs = [("userName", "u"), ("extraTags", "t")]
    assert post_form("/renamed", pairs, encoding).json() == {"user_name": "u", "extra_tags": ["t"]}
    pairs = [("email", "e@x"), ("phones", "1"), ("note", "")]
    assert post_form("/contact", pairs, encoding).json() == {
        "email": "e@x",
        "phones": ["1"],
        "note": "none",
    }


@ENCODINGS
def test_form_model_bool_fields_take_checkbox_words(encoding):
    pairs = [("subscribe", "on"), ("days", "yes"), ("days", "off")]
    response = post_form("/prefs", pairs, encoding)
    assert response.json() == {"subscribe": True, "days": [True, False]}
    assert post_form("/prefs", [("subscribe", "maybe")], encoding).status_code == 422


class UploadForm(msgspec.Struct):
    title: str
    file: UploadFile
    extras: list[UploadFile] = []
    cover: Optional[UploadFile] = None


def upload_form_app() -> Faster:
    app = Faster()

    @app.post("/upload-form")
    async def upload_form(form: Annotated[UploadForm, Form()]):
        return {
            "title": form.title,
            "file": [form.file.filename, (await form.file.read()).decode()],
            "extras": [extra.filename for extra in form.extras],
            "cover": None if form.cover is None else form.cover.filename,
        }

    return app


def test_form_model_with_upload_fields_takes_the_files():
    client = TestClient(upload_form_app())
    files = [("file", ("a.txt", b"A")), ("extras", ("b.txt", b"B")), ("extras", ("c", b"C"))]
    response = client.post("/upload-form", data={"title": "t"}, files=files)
    assert response.json() == {
        "title": "t",
        "file": ["a.txt", "A"],
        "extras": ["b.txt", "c"],
        "cover": None,
    }
    body = multipart_body([("title", "t"), ("file", ("a.txt", b"A")), ("cover", EMPTY_FILE)])
    response = client.post(
        "/upload-form",
        content=body,
        headers={"content-type": "multipart/form-data; boundary=B"},
    )
    assert response.json()["cover"] is None  # a file input left empty


def test_form_model_with_upload_fields_errors_show_files_by_name():
    client = TestClient(upload_form_app())
    response = client.post("/upload-form", files={"file": ("a.txt", b"A")})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "missing",
            "loc": ["body", "title"],
            "msg": "Field required",
            "input": {"file": "a.txt"},
        }
    ]
    response = client.post("/upload-form", data={"title": "t"})
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    response = client.post("/upload-form", data={"title": "t", "file": "text"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_form_model_with_upload_fields_is_multipart_in_openapi():
    client = TestClient(upload_form_app())
    body = client.get("/openapi.json").json()["paths"]["/upload-form"]["post"]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]


def test_upload_with_only_an_extended_filename_is_a_file():
    disposition = "form-data; name=\"file\"; filename*=UTF-8''%E2%82%AC%20report.bin"
    body = f"--B\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + b"\xff\x00\r\n--B--\r\n"
    response = client.post(
        "/optional", content=body, headers={"content-type": "multipart/form-data; boundary=B"}
    )
    assert response.status_code == 200
    assert response.json() == "\u20ac report.bin"
