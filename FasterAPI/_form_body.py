"""Binding form fields and uploaded files (``Form()``, ``File()``, ``UploadFile``) to arguments."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

import msgspec

from FasterAPI._compile import Field, SourceModel, is_class, is_model_type, is_sequence_type
from FasterAPI._errors import from_message, missing
from FasterAPI.datastructures import FormData, UploadFile
from FasterAPI.exceptions import HTTPException

if TYPE_CHECKING:
    from FasterAPI._solve import RequestContext

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _innermost(annotation: Any) -> Any:
    """``list[UploadFile] | None`` -> ``UploadFile``."""
    while True:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        origin = typing.get_origin(annotation)
        if origin is None or not args:
            return annotation
        annotation = args[0]


def is_upload_annotation(annotation: Any) -> bool:
    inner = _innermost(annotation)
    return is_class(inner) and issubclass(inner, UploadFile)


class FormBody:
    """The form fields of a route: plain fields, file fields, or one Struct for the whole form."""

    def __init__(self, fields: list[Field], owner: str) -> None:
        from FasterAPI.params import File

        self.file_fields = [
            f for f in fields if isinstance(f.marker, File) or is_upload_annotation(f.annotation)
        ]
        plain = [f for f in fields if f not in self.file_fields]
        self.whole: Field | None = None
        if len(plain) == 1 and not self.file_fields and is_model_type(plain[0].annotation):
            self.whole = plain[0]
            plain = []
        self.model = SourceModel("body", plain, owner) if plain else None

    async def read(self, ctx: RequestContext) -> None:
        request = ctx.request
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media in FORM_TYPES:
            form = await request.form()
        elif not media and not await request.body():
            form = FormData()  # nothing sent: report the missing fields (422)
        else:
            raise HTTPException(415, "Send the form as urlencoded or multipart/form-data")
        if self.whole is not None:
            self._read_whole(ctx, form, self.whole)
        if self.model is not None:
            texts: dict[str, list[str]] = {}
            for name, value in form.multi_items():
                if isinstance(value, str):
                    texts.setdefault(name, []).append(value)
            converted, errors = self.model.convert(self.model.pick_lists(texts))
            if errors:
                ctx.errors.extend(errors)
            else:
                ctx.body_values.update(converted)
        for field in self.file_fields:
            await self._read_file(ctx, form, field)

    def _read_whole(self, ctx: RequestContext, form: FormData, field: Field) -> None:
        data: dict[str, Any] = {}
        for name in form:
            values = [v for v in form.getlist(name) if isinstance(v, str)]
            data[name] = values if len(values) > 1 else values[-1] if values else None
        try:
            ctx.body_values[field.name] = msgspec.convert(data, field.typed(), strict=False)
        except msgspec.ValidationError as exc:
            ctx.errors.append(from_message(str(exc), ["body"], data))

    async def _read_file(self, ctx: RequestContext, form: FormData, field: Field) -> None:
        values = form.getlist(field.alias)
        if not values:
            if field.required:
                ctx.errors.append(missing(["body", field.alias]))
            else:
                marker = field.marker
                default = marker.default_factory() if marker.default_factory else marker.default
                ctx.body_values[field.name] = default
            return
        uploads = [value for value in values if isinstance(value, UploadFile)]
        if len(uploads) != len(values):
            ctx.errors.append(
                {
                    "type": "value_error",
                    "loc": ["body", field.alias],
                    "msg": "Expected an uploaded file, received a text field",
                    "input": next(v for v in values if isinstance(v, str)),
                }
            )
            return
        wants_bytes = _innermost(field.annotation) is bytes
        items: list[Any] = [await u.read() for u in uploads] if wants_bytes else list(uploads)
        ctx.body_values[field.name] = items if is_sequence_type(field.annotation) else items[-1]
