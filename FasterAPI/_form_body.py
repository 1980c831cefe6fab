"""Binding form fields and uploaded files (``Form()``, ``File()``, ``UploadFile``) to arguments."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

import msgspec
import msgspec.inspect as mi

from FasterAPI._compile import (
    Field,
    RouteDefinitionError,
    SourceModel,
    is_class,
    is_model_type,
    normalise_bool,
)
from FasterAPI._dataclass_defaults import completer
from FasterAPI._errors import from_message, missing
from FasterAPI.datastructures import FormData, UploadFile
from FasterAPI.exceptions import HTTPException

if TYPE_CHECKING:
    from FasterAPI._solve import RequestContext

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_SEQUENCE_INFO = (mi.ListType, mi.TupleType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)
_NOT_SENT: Any = object()
_UNKNOWN_FIELD = (False, False, False, False)


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


def _is_sequence_info(info: mi.Type) -> bool:
    """A msgspec type a repeated form key fills: list, tuple, set, frozenset, or Optional of one."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        return any(_is_sequence_info(member) for member in info.types)
    return isinstance(info, _SEQUENCE_INFO)


def _is_bool_info(info: mi.Type) -> bool:
    """A bool, or Optional or a sequence of one: a checkbox's "on" is true there."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        return any(_is_bool_info(member) for member in info.types)
    if isinstance(info, mi.TupleType):
        return any(_is_bool_info(item) for item in info.item_types)
    if isinstance(info, (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)):
        return _is_bool_info(info.item_type)
    return isinstance(info, mi.BoolType)


def _is_upload_info(info: mi.Type) -> bool:
    """An ``UploadFile``, or Optional or a sequence of one: the field takes uploaded files."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        return any(_is_upload_info(member) for member in info.types)
    if isinstance(info, (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)):
        return _is_upload_info(info.item_type)
    return isinstance(info, mi.CustomType) and issubclass(info.cls, UploadFile)


def _model_fields(field: Field, owner: str) -> dict[str, tuple[bool, bool, bool, bool]]:
    """A form model's fields by their form name: (takes every value, has a default,
    is a bool, takes files)."""
    try:
        info = mi.type_info(field.annotation)
    except (TypeError, ValueError) as exc:
        raise RouteDefinitionError(f"{owner}: bad form model {field.name!r}: {exc}") from exc
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):  # Optional[Model]
        info = next(t for t in info.types if not isinstance(t, mi.NoneType))
    fields = getattr(info, "fields", ())
    return {
        f.encode_name: (
            _is_sequence_info(f.type),
            not f.required,
            _is_bool_info(f.type),
            _is_upload_info(f.type),
        )
        for f in fields
    }


def _pick(values: list[str], sequence: bool, optional: bool) -> Any:
    """A form field's raw value: every value for a sequence, else the last one.

    HTML forms send an input left empty as ``name=``: for a field with a default, one
    blank value is ``_NOT_SENT`` so the default applies (a required field keeps it).
    """
    if sequence:
        return _NOT_SENT if optional and values == [""] else values
    value = values[-1]
    return _NOT_SENT if optional and value == "" else value


def _texts(form: FormData) -> dict[str, list[str]]:
    """The text values of a form by name (uploads left out)."""
    texts: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            texts.setdefault(name, []).append(value)
    return texts


def _is_empty_upload(value: Any) -> bool:
    """What a browser sends for a file input left empty: no file name, no content."""
    return isinstance(value, UploadFile) and not value.filename and not value.size


class FormBody:
    """The form fields of a route: plain fields, file fields, or one Struct for the whole form."""

    def __init__(self, fields: list[Field], owner: str) -> None:
        from FasterAPI.params import File

        self.file_fields = [
            f for f in fields if isinstance(f.marker, File) or is_upload_annotation(f.annotation)
        ]
        plain = [f for f in fields if f not in self.file_fields]
        self.whole: Field | None = None
        self.whole_fields: dict[str, tuple[bool, bool, bool, bool]] = {}
        self.whole_takes_files = False
        if len(plain) == 1 and not self.file_fields and is_model_type(plain[0].annotation):
            self.whole = plain[0]
            self.whole_fields = _model_fields(self.whole, owner)
            self.whole_takes_files = any(upload for *_, upload in self.whole_fields.values())
            self.complete_whole = completer(self.whole.typed())
            plain = []
        self.model = SourceModel("body", plain, owner) if plain else None
        self.plain = [(f.alias, f.is_sequence, not f.required) for f in plain]
        self.files = [
            (f, f.is_sequence, _innermost(f.annotation) is bytes) for f in self.file_fields
        ]

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
            self._read_plain(ctx, form, self.model)
        for field, sequence, wants_bytes in self.files:
            await self._read_file(ctx, form, field, sequence, wants_bytes)

    def _read_plain(self, ctx: RequestContext, form: FormData, model: SourceModel) -> None:
        texts = _texts(form)
        raw: dict[str, Any] = {}
        for alias, sequence, optional in self.plain:
            found = texts.get(alias)
            if found is not None:
                value = _pick(found, sequence, optional)
                if value is not _NOT_SENT:
                    raw[alias] = value
        if model.bool_aliases:
            raw = model.normalise_bools(raw)
        converted, errors = model.convert(raw)
        if errors:
            for error in errors:
                sent = form.get(error["loc"][-1]) if error["type"] == "missing" else None
                if isinstance(sent, UploadFile):  # sent, but as a file: say so
                    error["type"] = "value_error"
                    error["msg"] = "Expected a text field, received an uploaded file"
                    error["input"] = sent.filename
            ctx.errors.extend(errors)
        else:
            ctx.body_values.update(converted)

    def _read_whole(self, ctx: RequestContext, form: FormData, field: Field) -> None:
        texts = _texts(form)
        data: dict[str, Any] = {}
        for name in form:
            found = texts.get(name)
            # A name the model does not know takes its last value, as a scalar field does.
            sequence, optional, boolean, upload = self.whole_fields.get(name, _UNKNOWN_FIELD)
            if found is None:  # only files under this name
                files = form.getlist(name)
                if not upload:
                    data[name] = None  # not what the model takes
                elif not _not_sent(files, sequence, optional):
                    data[name] = files if sequence else files[-1]
                continue
            value = _pick(found, sequence, optional)
            if value is not _NOT_SENT:
                data[name] = normalise_bool(value) if boolean else value
        try:
            value = msgspec.convert(data, field.typed(), strict=False)
        except msgspec.ValidationError as exc:
            ctx.errors.append(from_message(str(exc), ["body"], _shown(data)))
            return
        if self.complete_whole is not None:
            self.complete_whole(value)
        ctx.body_values[field.name] = value

    async def _read_file(
        self, ctx: RequestContext, form: FormData, field: Field, sequence: bool, wants_bytes: bool
    ) -> None:
        values = form.getlist(field.alias)
        if values and _not_sent(values, sequence, not field.required):
            values = []
        if not values:
            if field.required:
                ctx.errors.append(missing(["body", field.alias]))
            else:
                marker = field.marker
                default = marker.default_factory() if marker.default_factory else marker.default
                if isinstance(default, (list, dict, set)):
                    default = default.copy()  # File(default=[]): each request its own list
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
        items: list[Any] = [await u.read() for u in uploads] if wants_bytes else list(uploads)
        ctx.body_values[field.name] = items if sequence else items[-1]


def _shown(data: dict[str, Any]) -> dict[str, Any]:
    """Form data as an error's ``input`` shows it: a file by its filename."""

    def show(value: Any) -> Any:
        return value.filename if isinstance(value, UploadFile) else value

    return {
        name: [show(v) for v in value] if isinstance(value, list) else show(value)
        for name, value in data.items()
    }


def _not_sent(values: list[Any], sequence: bool, optional: bool) -> bool:
    """A file field's values that count as no file: a browser's empty file part (for any
    field), or one blank text value for a field with a default. A sequence field counts
    only as a whole (its one value); a single file field by its last value, the one it takes.
    """
    value = values[-1]
    if sequence and len(values) != 1:
        return False
    return _is_empty_upload(value) or (optional and value == "")
