"""Constraints on parameters: ``pattern`` ends at the end of the text, ``msgspec.Meta``
beside a marker is checked, and both show in OpenAPI as written."""

from typing import Annotated, Optional

import msgspec

from FasterAPI import Faster, Header, Query
from FasterAPI.testclient import TestClient


def test_pattern_dollar_is_the_end_of_the_text():
    # "$" ends the text, as in JSON Schema: a trailing newline does not slip through,
    # while "$" in a character class, escaped, or under (?m) keeps its meaning.
    app = Faster()

    @app.get("/p")
    async def p(
        name: str = Query(pattern="^[a-z]+$"),
        price: str = Query("1$", pattern=r"^[0-9]+[$]\$?$"),
        lines: str = Query("a", pattern="(?m)^a$"),
        token: str = Header("t", pattern="^t$"),
    ) -> dict:
        return {"name": name, "price": price, "lines": lines, "token": token}

    client = TestClient(app)
    assert client.get("/p", params={"name": "abc"}).json()["name"] == "abc"
    bad = client.get("/p", params={"name": "abc\n"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == [
        {
            "type": "string_pattern_mismatch",
            "loc": ["query", "name"],
            "msg": "Expected `str` matching regex '^[a-z]+$'",
            "input": "abc\n",
        }
    ]
    ok = client.get("/p", params={"name": "a", "price": "12$$", "lines": "a\nb"})
    assert ok.status_code == 200, ok.text
    assert client.get("/p", params={"name": "a", "price": "12$\n"}).status_code == 422
    assert client.get("/p", params={"name": "a"}, headers={"token": "t\n"}).status_code in (
        400,
        422,
    )
    schemas = {
        parameter["name"]: parameter["schema"]["pattern"]
        for parameter in client.get("/openapi.json").json()["paths"]["/p"]["get"]["parameters"]
    }
    assert schemas == {
        "name": "^[a-z]+$",
        "price": r"^[0-9]+[$]\$?$",
        "lines": "(?m)^a$",
        "token": "^t$",
    }


def test_msgspec_meta_constraints_beside_the_marker_are_checked():
    short = Annotated[str, msgspec.Meta(min_length=3)]
    app = Faster()

    @app.get("/q/{n}")
    async def q(
        n: Annotated[int, msgspec.Meta(ge=3)],
        a: short,
        b: Annotated[short, Query()] = "bbb",
        c: Annotated[Optional[str], msgspec.Meta(min_length=3)] = None,
        d: Annotated[str, msgspec.Meta(max_length=2), Header()] = "d",
    ) -> dict:
        return {"n": n, "a": a, "b": b, "c": c, "d": d}

    client = TestClient(app)
    ok = client.get("/q/3", params={"a": "aaa"})
    assert ok.json() == {"n": 3, "a": "aaa", "b": "bbb", "c": None, "d": "d"}
    bad = client.get("/q/2", params={"a": "a", "b": "b", "c": "c"}, headers={"d": "ddd"})
    assert bad.status_code == 422
    assert sorted((e["loc"][1], e["type"]) for e in bad.json()["detail"]) == [
        ("a", "string_too_short"),
        ("b", "string_too_short"),
        ("c", "string_too_short"),
        ("d", "string_too_long"),
        ("n", "greater_than_equal"),
    ]
    schemas = {
        p["name"]: p["schema"]
        for p in client.get("/openapi.json").json()["paths"]["/q/{n}"]["get"]["parameters"]
    }
    assert schemas["n"]["minimum"] == 3
    assert schemas["a"]["minLength"] == 3


def test_pattern_end_of_text_in_verbose_scoped_and_meta_forms():
    app = Faster()

    @app.get("/p")
    async def p(
        verbose: str = Query("a", pattern="(?x)^a+ # note: [unbalanced\n$"),
        paren: str = Query("m", pattern=r"^\(?m$"),
        scoped: str = Query("a", pattern=r"^a$|(?m:^b$)"),
        meta: Annotated[str, msgspec.Meta(pattern="^c+$"), Query()] = "c",
        literal: str = Query("d", pattern=r"^d\Z"),
    ) -> dict:
        return {"ok": True}

    client = TestClient(app)
    assert client.get("/p").json() == {"ok": True}
    for name, value in [
        ("verbose", "aa\n"),
        ("paren", "m\n"),
        ("scoped", "a\n"),
        ("meta", "cc\n"),
        ("literal", "d\n"),
    ]:
        answer = client.get("/p", params={name: value})
        assert answer.status_code == 422, (name, answer.text)
    # Under a scoped MULTILINE flag "$" still ends a line.
    assert client.get("/p", params={"scoped": "b\nx"}).status_code == 200
    patterns = {
        parameter["name"]: parameter["schema"]["pattern"]
        for parameter in client.get("/openapi.json").json()["paths"]["/p"]["get"]["parameters"]
    }
    assert patterns["literal"] == r"^d\Z"
    assert patterns["meta"] == "^c+$"
    assert patterns["scoped"] == r"^a$|(?m:^b$)"
