"""Reading a route's body: one JSON value, several embedded by name, or form fields."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import msgspec

from FasterAPI._compile import Field
from FasterAPI._errors import from_message, missing
from FasterAPI._extract import get_header
from FasterAPI.exceptions import HTTPException

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
        if self.is_form:
            from FasterAPI._form_body import FormBody

            self.form_body = FormBody(self.fields, owner)
        elif self.whole:
            self.decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
                first.typed(), strict=False
            )
        else:
            model = msgspec.defstruct(
                f"{owner}_body",
                [(f.name, f.typed(), f.msgspec_field()) for f in self.fields],
                kw_only=True,
            )
            self.decoder = msgspec.json.Decoder(model, strict=False)

    async def read(self, ctx: RequestContext) -> None:
        if self.is_form:
            await self.form_body.read(ctx)
            return
        content_type = (get_header(ctx.scope["headers"], b"content-type") or b"").decode("latin-1")
        body = await ctx.read_body()
        if not body:
            if self.required:
                ctx.errors.append(missing(["body"]))
            elif self.whole:
                ctx.body_values[self.fields[0].name] = _default_of(self.fields[0])
            else:
                for field in self.fields:
                    ctx.body_values[field.name] = _default_of(field)
            return
        if content_type and not _is_json(content_type):
            raise HTTPException(415, f"Unsupported media type {content_type!r}; send JSON")
        try:
            value = self.decoder.decode(body)
        except msgspec.ValidationError as exc:
            ctx.errors.append(from_message(str(exc), ["body"], _loose_json(body)))
            return
        except msgspec.DecodeError as exc:
            ctx.errors.append(_json_error(str(exc)))
            return
        except (ValueError, RecursionError) as exc:
            ctx.errors.append(_json_error(f"Invalid JSON: {exc}"))
            return
        if self.whole:
            ctx.body_values[self.fields[0].name] = value
        else:
            ctx.body_values.update(msgspec.structs.asdict(value))


def _default_of(field: Field) -> Any:
    if field.marker.default_factory is not None:
        return field.marker.default_factory()
    return field.marker.default


def _loose_json(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None


def _json_error(message: str) -> dict[str, Any]:
    position = _BYTE_POSITION.search(message)
    loc: list[Any] = ["body", int(position.group(1))] if position else ["body"]
    return {"type": "json_invalid", "loc": loc, "msg": f"JSON decode error: {message}", "input": {}}
