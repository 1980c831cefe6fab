"""Pydantic fields and types for the migration: ``Field(...)`` to msgspec.

``name: T = Field(default, gt=..., min_length=..., pattern=..., description=...)``
becomes ``name: Annotated[T, msgspec.Meta(...)] = default`` (on ``X`` itself for
``Optional[X]``, where msgspec wants the constraints); an alias or a default factory
becomes ``msgspec.field(name=..., default_factory=...)``, and a required field stays
required. A ``Field()`` inside ``Annotated[...]`` becomes the ``msgspec.Meta``. Pydantic's
constrained types (``conint``, ``constr``, ``PositiveInt``, ``EmailStr``...) become
``Annotated`` types and ``ValidationError`` ``msgspec.ValidationError``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from FasterAPI._migrate_source import Bindings, Context, Part, delete_items, dotted

_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")
_META = {  # Field() options -> msgspec.Meta ones
    **{name: name for name in _CONSTRAINTS},
    "regex": "pattern",
    "min_items": "min_length",
    "max_items": "max_length",
    "title": "title",
    "description": "description",
    "examples": "examples",
    "json_schema_extra": "extra_json_schema",
    "schema_extra": "extra_json_schema",
}

NUMERIC = frozenset({"gt", "ge", "lt", "le", "multiple_of"})  # int and float only in msgspec

_QUIET = frozenset({"strict"})  # msgspec already decodes JSON strictly

# Pydantic's types as msgspec ones; the address patterns check the shape only.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
URL_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$"
HTTP_URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"
TYPES = {
    "StrictStr": "str",
    "StrictInt": "int",
    "StrictFloat": "float",
    "StrictBool": "bool",
    "StrictBytes": "bytes",
    "PositiveInt": "Annotated[int, msgspec.Meta(gt=0)]",
    "NegativeInt": "Annotated[int, msgspec.Meta(lt=0)]",
    "NonNegativeInt": "Annotated[int, msgspec.Meta(ge=0)]",
    "NonPositiveInt": "Annotated[int, msgspec.Meta(le=0)]",
    "PositiveFloat": "Annotated[float, msgspec.Meta(gt=0)]",
    "NegativeFloat": "Annotated[float, msgspec.Meta(lt=0)]",
    "NonNegativeFloat": "Annotated[float, msgspec.Meta(ge=0)]",
    "NonPositiveFloat": "Annotated[float, msgspec.Meta(le=0)]",
    "EmailStr": f'Annotated[str, msgspec.Meta(pattern=r"{EMAIL_PATTERN}")]',
    "AnyUrl": f'Annotated[str, msgspec.Meta(pattern=r"{URL_PATTERN}")]',
    "AnyHttpUrl": f'Annotated[str, msgspec.Meta(pattern=r"{HTTP_URL_PATTERN}")]',
    "HttpUrl": f'Annotated[str, msgspec.Meta(pattern=r"{HTTP_URL_PATTERN}")]',
}

_CONSTRAINED = {"constr": "str", "conint": "int", "confloat": "float", "conbytes": "bytes"}


def pydantic_name(bindings: Bindings, node: ast.AST) -> str | None:
    """The Pydantic name ``node`` refers to (``Field`` for ``pydantic.fields.Field``)."""
    origin = bindings.qualname(node)
    if origin is None or origin.partition(".")[0] != "pydantic":
        return None
    return origin.rpartition(".")[2]


def literal(node: ast.AST) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute):  # Extra.forbid
        return node.attr
    return None


@dataclass
class _FieldSpec:
    default: ast.expr | None = None
    factory: ast.expr | None = None
    alias: ast.expr | None = None
    meta: list[tuple[str, str]] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    @property
    def required(self) -> bool:
        return self.factory is None and (
            self.default is None
            or (isinstance(self.default, ast.Constant) and self.default.value is Ellipsis)
        )


def _read_field(ctx: Context, call: ast.Call, annotation: ast.expr) -> _FieldSpec:
    source = ctx.source
    spec = _FieldSpec()
    if call.args:
        spec.default = call.args[0]
        spec.left.extend(source.segment(arg) for arg in call.args[1:])
    for keyword in call.keywords:
        name, value = keyword.arg, keyword.value
        if name == "default":
            spec.default = value
        elif name == "default_factory":
            spec.factory = value
        elif name == "alias":
            spec.alias = value
        elif name == "example":
            spec.meta.append(("examples", f"[{source.segment(value)}]"))
        elif name in _META and not (
            name.endswith("schema_extra") and not isinstance(value, ast.Dict)
        ):
            spec.meta.append((_META[name], source.segment(value)))
        elif name in _QUIET:
            continue
        else:
            spec.left.append(source.segment(keyword))
    ctx.handled.add(call.func)
    if is_decimal(optional_member(ctx, annotation) or annotation):
        spec.left += [f"{key}={text} (on a Decimal)" for key, text in spec.meta if key in NUMERIC]
        spec.meta = [(key, value) for key, value in spec.meta if key not in NUMERIC]
    return spec


def is_decimal(annotation: ast.expr) -> bool:
    """msgspec checks no bounds on a Decimal (a ``Meta(gt=0)`` on one fails at import)."""
    parts = dotted(annotation)
    return bool(parts) and parts[-1] == "Decimal"  # type: ignore[index]


def _is_field(ctx: Context, node: ast.AST | None) -> bool:
    return isinstance(node, ast.Call) and pydantic_name(ctx.bindings, node.func) == "Field"


def convert_field(ctx: Context, statement: ast.AnnAssign) -> None:
    source, edits = ctx.source, ctx.edits
    annotation, value = statement.annotation, statement.value
    if _is_classvar(annotation):
        return
    inner_field = _annotated_field(ctx, annotation)
    if inner_field is not None:
        assert isinstance(annotation, ast.Subscript) and isinstance(annotation.slice, ast.Tuple)
        spec = _read_field(ctx, inner_field, annotation.slice.elts[0])
        _replace_annotated_field(ctx, annotation, inner_field, spec)
        if value is not None and spec.default is None and spec.factory is None:
            spec.default = value  # ``Annotated[T, Field(alias=...)] = default``
            parts = _value_parts(ctx, spec)
            if parts is not None:
                edits.replace_node(value, *parts)
            _report_left(ctx, statement, spec)
            return
        parts = _value_parts(ctx, spec)
        if parts is not None and value is None:
            text = source.text
            rendered = "".join(p if isinstance(p, str) else text[p[0] : p[1]] for p in parts)
            edits.insert(source.end(annotation), " = " + rendered)
        elif parts is not None:
            spec.left.append("a default both in Field() and after '='")
        _report_left(ctx, statement, spec)
        return
    if not _is_field(ctx, value):
        if value is not None and _is_mutable_literal(value):
            edits.replace_node(value, *_factory_parts(ctx, value))
        return
    assert isinstance(value, ast.Call)
    spec = _read_field(ctx, value, annotation)
    if spec.meta:
        constrained = any(key in _CONSTRAINTS for key, _ in spec.meta)
        target = optional_member(ctx, annotation) if constrained else None
        target = target or annotation
        edits.insert(source.start(target), "Annotated[")
        edits.insert(source.end(target), f", msgspec.Meta({_meta_args(spec)})]")
    parts = _value_parts(ctx, spec)
    if parts is None:
        edits.replace(source.end(annotation), source.end(value))
    else:
        edits.replace_node(value, *parts)
    _report_left(ctx, statement, spec)


def _replace_annotated_field(
    ctx: Context, annotation: ast.expr, call: ast.Call, spec: _FieldSpec
) -> None:
    """``Annotated[T, Field(...)]``: the Field becomes ``msgspec.Meta``; for ``T`` an
    ``Optional[X]``, constraints go on ``X`` (msgspec cannot check ``gt`` on a union)."""
    source, edits = ctx.source, ctx.edits
    assert isinstance(annotation, ast.Subscript) and isinstance(annotation.slice, ast.Tuple)
    elements = annotation.slice.elts
    member = None
    if any(key in _CONSTRAINTS for key, _ in spec.meta):
        member = optional_member(ctx, elements[0])
    if member is None:
        edits.replace_node(call, f"msgspec.Meta({_meta_args(spec)})")
        return
    edits.insert(source.start(member), "Annotated[")
    edits.insert(source.end(member), f", msgspec.Meta({_meta_args(spec)})]")
    if len(elements) > 2:
        delete_items(edits, elements, {call})
    else:  # Annotated[T] alone is not valid: T is the whole annotation
        edits.replace_node(annotation, source.span(elements[0]))


def _report_left(ctx: Context, statement: ast.stmt, spec: _FieldSpec) -> None:
    if spec.left:
        ctx.todo(statement, "Field options msgspec has no counterpart for: " + ", ".join(spec.left))


def _meta_args(spec: _FieldSpec) -> str:
    return ", ".join(f"{key}={value}" for key, value in spec.meta)


def _factory_parts(ctx: Context, value: ast.expr) -> list[Part]:
    return ["msgspec.field(default_factory=lambda: ", ctx.source.span(value), ")"]


def _value_parts(ctx: Context, spec: _FieldSpec) -> list[Part] | None:
    """What follows ``=`` for the field; None when it is required and needs nothing."""
    source = ctx.source
    if spec.alias is None and spec.factory is None:
        if spec.required or spec.default is None:
            return None
        if _is_mutable_literal(spec.default):
            return _factory_parts(ctx, spec.default)
        return [source.span(spec.default)]
    parts: list[Part] = ["msgspec.field("]
    if spec.factory is not None:
        parts += ["default_factory=", source.span(spec.factory)]
    elif not spec.required and spec.default is not None:
        if _is_mutable_literal(spec.default):
            parts += ["default_factory=lambda: ", source.span(spec.default)]
        else:
            parts += ["default=", source.span(spec.default)]
    if spec.alias is not None:
        parts += [", name=" if len(parts) > 1 else "name=", source.span(spec.alias)]
    parts.append(")")
    return parts


def _annotated_field(ctx: Context, annotation: ast.expr) -> ast.Call | None:
    if not isinstance(annotation, ast.Subscript) or not isinstance(annotation.slice, ast.Tuple):
        return None
    parts = dotted(annotation.value)
    if not parts or parts[-1] != "Annotated":
        return None
    for element in annotation.slice.elts[1:]:
        if _is_field(ctx, element):
            return element  # type: ignore[return-value]
    return None


def optional_member(ctx: Context, annotation: ast.expr) -> ast.expr | None:
    """``X`` of ``Optional[X]``, ``X | None`` or ``Union[X, None]``: constraints go on it."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [annotation.left, annotation.right]
        others = [s for s in sides if not (isinstance(s, ast.Constant) and s.value is None)]
        return others[0] if len(others) == 1 else None
    if isinstance(annotation, ast.Subscript):
        parts = dotted(annotation.value)
        name = parts[-1] if parts else None
        if name == "Optional":
            return annotation.slice
        if name == "Union" and isinstance(annotation.slice, ast.Tuple):
            elements = annotation.slice.elts
            others = [e for e in elements if not (isinstance(e, ast.Constant) and e.value is None)]
            if len(others) == 1 and len(elements) == 2:
                return others[0]
    return None


def _is_classvar(annotation: ast.expr) -> bool:
    node = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    parts = dotted(node)
    return bool(parts) and parts[-1] == "ClassVar"  # type: ignore[index]


def _is_mutable_literal(node: ast.AST | None) -> bool:
    if isinstance(node, (ast.List, ast.Set)):
        return bool(node.elts)
    if isinstance(node, ast.Dict):
        return bool(node.keys)
    return isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp))


# -- Pydantic types used anywhere ------------------------------------------------------------


def convert_types(ctx: Context) -> None:
    source, edits = ctx.source, ctx.edits
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.Call):
            name = pydantic_name(ctx.bindings, node.func)
            if name in _CONSTRAINED:
                _constrained(ctx, node, _CONSTRAINED[name])
            elif name == "conlist":
                _constrained(ctx, node, "list")
        if not isinstance(node, (ast.Name, ast.Attribute)):
            continue
        name = pydantic_name(ctx.bindings, node)
        if name is None or node in ctx.handled:
            continue
        parent = source.parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            continue
        if name in TYPES:
            edits.replace_node(node, TYPES[name])
            ctx.handled.add(node)
        elif name == "ValidationError":
            edits.replace_node(node, "msgspec.ValidationError")
            ctx.handled.add(node)


def _constrained(ctx: Context, call: ast.Call, base: str) -> None:
    source = ctx.source
    ctx.handled.add(call.func)
    item = ""
    if base == "list":
        item_type = call.args[0] if call.args else None
        for keyword in call.keywords:
            if keyword.arg == "item_type":
                item_type = keyword.value
        if item_type is None:
            ctx.todo(
                call, "conlist without an item type: write Annotated[list[T], msgspec.Meta(...)]"
            )
            return
        item = f"[{source.segment(item_type)}]"
    spec = _FieldSpec()
    for keyword in call.keywords:
        if keyword.arg == "item_type":
            continue
        if keyword.arg in _META:
            spec.meta.append((_META[keyword.arg], source.segment(keyword.value)))
        elif keyword.arg not in _QUIET:
            spec.left.append(source.segment(keyword))
    meta = f", msgspec.Meta({_meta_args(spec)})" if spec.meta else ""
    ctx.edits.replace_node(call, f"Annotated[{base}{item}{meta}]" if meta else f"{base}{item}")
    if spec.left:
        ctx.todo(call, "constraints msgspec has no counterpart for: " + ", ".join(spec.left))
