"""Reading a route's body: one JSON value, several embedded by name, or form fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from FasterAPI._compile import Field, _strip_optional, unwrap_annotated
from FasterAPI._dataclass_defaults import Complete, completer
from FasterAPI._errors import from_message, missing
from FasterAPI._extract import get_header
from FasterAPI._rsgi_scope import RSGI_BRIDGE, RSGIScope, has_any_header
from FasterAPI._type_parts import member_validator
from FasterAPI._types import Receive, Scope
from FasterAPI.exceptions import HTTPException
from FasterAPI.request import BODY_READ, check_length_value, receive_body

if TYPE_CHECKING:
    from FasterAPI._solve import RequestContext

_BYTE_POSITION = re.compile(r"\(byte (\d+)\)")


_JSON_TYPES = ("application/json",)


def _is_json(content_type: str) -> bool:
    if content_type == "application/json":
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or media.endswith("+json")


class BodyPlan:
    """How a route reads its body: one JSON value, several embedded by name, or form fields."""

    def __init__(self, fields: list[Field], owner: str) -> None:
        unique: dict[str, Field] = {}
        for field in fields:
            unique.setdefault(field.name, field)
        self.fields = list(unique.values())
        self.required = any(field.required for field in self.fields)
        from FasterAPI.params import Form

        self.is_form = any(isinstance(field.marker, Form) for field in self.fields)
        first = self.fields[0]
        self.whole = (
            not self.is_form and len(self.fields) == 1 and not getattr(first.marker, "embed", False)
        )
        self.complete: Complete | None = None
        if self.is_form:
            from FasterAPI._form_body import FormBody

            self.form_body = FormBody(self.fields, owner)
            return
        # A type msgspec rejects as a whole (a union of untagged Structs, of a Struct and
        # dict) is decoded as plain data and checked member by member after.
        self.by_member: list[tuple[str, str, Callable[[Any], Any]]] = []
        types: list[Any] = []
        for field in self.fields:
            typed = field.typed()
            check = member_validator(typed)
            if check is not None:
                self.by_member.append((field.name, field.alias, check))
                typed = Any
            types.append(typed)
        if self.whole:
            model = types[0]
        else:
            model = msgspec.defstruct(
                f"{owner}_body",
                [(f.name, t, f.msgspec_field()) for f, t in zip(self.fields, types, strict=True)],
                kw_only=True,
            )
        self.decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(model, strict=False)
        # A body that is one ``bytes`` or ``str`` field is taken as sent in any media type
        # but JSON (an upload of raw bytes, a text document).
        self.raw_type = _raw_body_type(first) if self.whole else None
        self.complete = completer(model)
        self.keep_bytes(True)

    async def read(self, ctx: RequestContext) -> None:
        if self.is_form:
            await self.form_body.read(ctx)
            return
        headers = ctx.scope["headers"]
        content_type = get_header(headers, b"content-type")
        if content_type and content_type != b"application/json":
            self.refuse_early(ctx.scope, content_type, get_header(headers, b"content-length"))
        values, errors = self.decode(content_type, await ctx.read_body())
        if errors:
            ctx.errors.extend(errors)
        else:
            ctx.body_values.update(values)

    def received_from(self, values: dict[str, Any]) -> Any:
        """``received`` from the values ``read_direct`` returned."""
        return as_received(values.get(_RAW, b""))

    async def received(self, ctx: RequestContext) -> Any:
        """The body as a validation error reports it (``RequestValidationError.body``):
        JSON as plain data (text if it is not JSON); a form as a dict of its fields, a
        repeated one as a list, a file as its filename."""
        if not self.is_form:
            return as_received(await ctx.read_body())
        fields: dict[str, Any] = {}
        for name, item in (await ctx.request.form()).multi_items():
            value = item if isinstance(item, str) else item.filename
            seen = fields.get(name, _ABSENT)
            if seen is _ABSENT:
                fields[name] = value
            elif isinstance(seen, list):
                seen.append(value)
            else:
                fields[name] = [seen, value]
        return fields

    async def read_direct(
        self, scope: Scope, receive: Receive, limit: int | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        """``read`` for a JSON body nothing else shares: one pass over the headers for its
        type and length, no request context."""
        found = _rsgi_body_headers(scope) if type(scope) is RSGIScope else None
        if found is not None:
            content_type, length = found
        else:
            content_type = length = None
            for name, value in scope["headers"]:
                if name == b"content-type":
                    content_type = value
                elif name == b"content-length" and length is None:
                    length = value
        self.refuse_early(scope, content_type, length)
        if length is not None:
            check_length_value(length, limit)
            bridge = scope.get(RSGI_BRIDGE)
            if bridge is not None and length.isdigit():
                body = await bridge.read_declared(int(length))
                if body is not None:
                    scope[BODY_READ] = (id(receive), body)  # PERF: remember_body, inlined
                    return self.decode(content_type, body)
        body = await receive_body(receive, limit)
        scope[BODY_READ] = (id(receive), body)
        return self.decode(content_type, body)

    def refuse_early(self, scope: Scope, content_type: bytes | None, length: bytes | None) -> None:
        """415 before any of an announced body is read, for a media type ``decode`` would
        refuse: a client that sent ``Expect: 100-continue`` learns it without sending the
        body (servers answer ``100 Continue`` at the app's first read)."""
        if not content_type or content_type == b"application/json" or self.raw_type is not None:
            return
        if length == b"0" or (length is None and not _announces_chunked(scope)):
            return  # no body: ``decode`` reports it missing (or takes the default)
        text = content_type.decode("latin-1")
        if not _is_json(text):
            raise _not_json(text)

    def decode(
        self, content_type: bytes | None, body: bytes
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        """The body fields' values, or the errors; 415 for a body that is not JSON."""
        if not body:
            if self.required:
                return {}, [missing(["body"])]
            if self.whole:
                return {self.fields[0].name: _default_of(self.fields[0])}, None
            return {field.name: _default_of(field) for field in self.fields}, None
        if content_type and content_type != b"application/json":
            text = content_type.decode("latin-1")
            if not _is_json(text):
                if self.raw_type is None:
                    raise _not_json(text)
                return self._decode_raw(text, body)
        # The bytes read go in the values (under a key no field has) for ``received_from``
        # on failure, and when ``keep_bytes`` asks; PERF: cheaper than returning them beside.
        try:
            value = self.decoder.decode(body)
        except msgspec.ValidationError as exc:
            return {_RAW: body}, [from_message(str(exc), ["body"], _loose_json(body))]
        except msgspec.DecodeError as exc:
            return {_RAW: body}, [_json_error(str(exc))]
        except (ValueError, RecursionError) as exc:
            return {_RAW: body}, [_json_error(f"Invalid JSON: {exc}")]
        if self.plain:
            if self.whole:
                return {self.fields[0].name: value}, None
            return msgspec.structs.asdict(value), None
        if self.complete is not None:
            self.complete(value)
        values = {self.fields[0].name: value} if self.whole else msgspec.structs.asdict(value)
        if self.keeps_bytes:
            values[_RAW] = body
        if self.by_member:
            return self._check_members(values, body)
        return values, None

    def _decode_raw(
        self, content_type: str, body: bytes
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        """The body as the field's ``bytes`` or ``str`` (in the media type's charset,
        UTF-8 by default), checked against the field's constraints."""
        field = self.fields[0]
        value: Any = body
        if self.raw_type is str:
            charset = _charset(content_type)
            try:
                value = body.decode(charset)
            except LookupError:
                raise HTTPException(415, f"Unsupported charset {charset!r}") from None
            except UnicodeDecodeError as exc:
                message = f"The body is not valid {charset}: {exc.reason}"
                error = {"type": "string_unicode", "loc": ["body"], "msg": message, "input": None}
                return {_RAW: body}, [error]
        try:
            value = msgspec.convert(value, field.typed())
        except msgspec.ValidationError as exc:
            shown = value if isinstance(value, str) else None
            return {_RAW: body}, [from_message(str(exc), ["body"], shown)]
        values = {field.name: value}
        if self.keeps_bytes:
            values[_RAW] = body
        return values, None

    def keep_bytes(self, keep: bool) -> None:
        """Whether the values also hold the bytes read: needed only when something else
        of the route (a parameter) can fail while the body is valid."""
        self.keeps_bytes = keep
        self.plain = not keep and self.complete is None and not self.by_member

    def _check_members(
        self, values: dict[str, Any], body: bytes
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        errors = []
        for name, alias, check in self.by_member:
            if name not in values:
                continue
            try:
                values[name] = check(values[name])
            except msgspec.ValidationError as exc:
                loc = ["body"] if self.whole else ["body", alias]
                errors.append(from_message(str(exc), loc, values[name]))
        return (values, None) if not errors else ({_RAW: body}, errors)


def _rsgi_body_headers(scope: RSGIScope) -> tuple[bytes | None, bytes | None] | None:
    """PERF: content-type and content-length from Granian's header map, converting no
    other header; None when only the converted headers can tell."""
    try:
        content_type, length = scope.header("content-type"), scope.header("content-length")
    except LookupError:
        return None
    return (
        None if content_type is None else content_type.encode("latin-1"),
        None if length is None else length.encode("latin-1"),
    )


def _not_json(content_type: str) -> HTTPException:
    return HTTPException(415, f"Unsupported media type {content_type!r}; send JSON")


def _announces_chunked(scope: Scope) -> bool:
    found = has_any_header(scope, ("transfer-encoding",))
    if found is None:
        return get_header(scope["headers"], b"transfer-encoding") is not None
    return found


def _raw_body_type(field: Field) -> type | None:
    base, _ = unwrap_annotated(_strip_optional(field.annotation))
    return base if base is bytes or base is str else None


_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)


def _charset(content_type: str) -> str:
    found = _CHARSET.search(content_type)
    return found.group(1) if found else "utf-8"


def _default_of(field: Field) -> Any:
    if field.marker.default_factory is not None:
        return field.marker.default_factory()
    return field.marker.default


_ABSENT: Any = object()
_RAW = "\0body"  # a key no field has (field names are identifiers)


def as_received(body: bytes) -> Any:
    """A JSON body as plain data; text when it is not JSON; None when empty."""
    if not body:
        return None
    return _loose_json(body, body.decode("utf-8", "replace"))


def _loose_json(body: bytes, otherwise: Any = None) -> Any:
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, ValueError, RecursionError):
        return otherwise


def _json_error(message: str) -> dict[str, Any]:
    position = _BYTE_POSITION.search(message)
    loc: list[Any] = ["body", int(position.group(1))] if position else ["body"]
    return {"type": "json_invalid", "loc": loc, "msg": f"JSON decode error: {message}", "input": {}}
