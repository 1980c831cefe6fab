"""Calls for the migration: Pydantic model methods and FastAPI keyword arguments.

``item.dict()``/``model_dump()`` become ``msgspec.structs.asdict(item)``, ``.json()``/
``model_dump_json()`` ``msgspec.json.encode(item).decode()``, ``Model.parse_obj(d)``/
``model_validate(d)`` ``msgspec.convert(d, Model)`` and so on, where the receiver is known
to be a converted model (a parameter or variable annotated or built as one, ``self`` in
its methods, the class itself) or the method name is Pydantic's alone.
``Model(**other.dict(), extra=1)`` reads ``other``'s attributes into ``Model`` with
``msgspec.convert``, since a Struct takes no unknown keyword arguments.

Keyword arguments FasterAPI does not take (``callbacks=`` on a
route, ``regex=`` on ``Query``) are renamed when there is a counterpart and otherwise
removed with a TODO comment, so that the module still imports.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from FasterAPI._migrate_fields import NUMERIC, is_decimal, optional_member
from FasterAPI._migrate_modules import is_foreign
from FasterAPI._migrate_source import Context, Part, delete_items, delete_statement, dotted

_INSTANCE_ONLY = frozenset({"model_dump", "model_dump_json", "model_copy"})
_CLASS_METHODS = frozenset(
    {
        "parse_obj",
        "model_validate",
        "from_orm",
        "parse_raw",
        "model_validate_json",
        "schema",
        "model_json_schema",
        "construct",
        "model_construct",
        "update_forward_refs",
        "model_rebuild",
    }
)
_PYDANTIC_ONLY = _INSTANCE_ONLY | (_CLASS_METHODS - {"schema", "construct"})
_FIELD_ATTRIBUTES = frozenset({"model_fields", "__fields__", "model_fields_set", "__fields_set__"})
_ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route"}
)
_MARKERS = frozenset({"Path", "Query", "Header", "Cookie", "Body", "Form", "File"})
_MARKER_RENAMES = {"regex": "pattern", "min_items": "min_length", "max_items": "max_length"}
_ENCODER_OPTIONS = frozenset({"include", "exclude", "by_alias", "exclude_none", "custom_encoder"})


def convert_calls(ctx: Context) -> None:
    uses_models = any(
        origin.partition(".")[0] == "pydantic" for origin in ctx.bindings.names.values()
    ) or any(isinstance(n, ast.Name) and n.id in ctx.models for n in ast.walk(ctx.tree))
    scopes = _Scopes(ctx)
    for node, variables in scopes.walk():
        if isinstance(node, ast.Call):
            _call(ctx, node, variables, uses_models)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in _FIELD_ATTRIBUTES
            and (_model_of(ctx, node.value, variables) or _model_class(ctx, node.value))
        ):
            ctx.todo(node, f"{node.attr}: use msgspec.structs.fields(...)")


class _Scopes:
    """Which local names hold converted model instances, scope by scope."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def walk(self) -> Iterator[tuple[ast.AST, dict[str, str]]]:
        yield from self._walk(self.ctx.tree, {}, None)

    def _walk(
        self, node: ast.AST, outer: dict[str, str], model_class: str | None
    ) -> Iterator[tuple[ast.AST, dict[str, str]]]:
        variables = outer
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module)):
            variables = {**outer, **self._locals(node)}
            args = node.args.args if not isinstance(node, ast.Module) else []
            if model_class and args and args[0].arg == "self":
                variables["self"] = model_class
        for child in ast.iter_child_nodes(node):
            inner_class = None
            if isinstance(node, ast.ClassDef) and node.name in self.ctx.models:
                inner_class = node.name
            yield child, variables
            yield from self._walk(child, variables, inner_class)

    def _locals(self, scope: ast.AST) -> dict[str, str]:
        ctx = self.ctx
        found: dict[str, str] = {}
        if not isinstance(scope, ast.Module):
            arguments = scope.args  # type: ignore[attr-defined]
            for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                model = _annotation_model(ctx, arg.annotation)
                if model:
                    found[arg.arg] = model
        for node in _own_nodes(scope):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                model = _annotation_model(ctx, node.annotation)
                if model:
                    found[node.target.id] = model
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                model = _built_model(ctx, node.value)
                if model:
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            found[target.id] = model
        return found


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a scope, not those of the functions and classes inside it."""
    for child in ast.iter_child_nodes(scope):
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            yield from _own_nodes(child)


def _model_class(ctx: Context, node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if node.value in ctx.models else None
    parts = dotted(node) if node is not None else None
    return parts[-1] if parts and parts[-1] in ctx.models else None


def _annotation_model(ctx: Context, annotation: ast.AST | None) -> str | None:
    model = _model_class(ctx, annotation)
    if model or annotation is None:
        return model
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [annotation.left, annotation.right]
        if any(isinstance(s, ast.Constant) and s.value is None for s in sides):
            return next(filter(None, (_model_class(ctx, s) for s in sides)), None)
    if isinstance(annotation, ast.Subscript):
        parts = dotted(annotation.value)
        if parts and parts[-1] == "Optional":
            return _model_class(ctx, annotation.slice)
    return None


def _built_model(ctx: Context, call: ast.Call) -> str | None:
    model = _model_class(ctx, call.func)
    if model:
        return model
    if isinstance(call.func, ast.Attribute) and call.func.attr in _CLASS_METHODS:
        return _model_class(ctx, call.func.value)
    return None


def _model_of(ctx: Context, node: ast.AST, variables: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return variables.get(node.id)
    if isinstance(node, ast.Call):
        return _built_model(ctx, node)
    return None


# -- model methods ---------------------------------------------------------------------------


def _call(ctx: Context, call: ast.Call, variables: dict[str, str], uses_models: bool) -> None:
    if call in ctx.handled:
        return
    func = call.func
    if model := _model_class(ctx, func):
        _alias_keywords(ctx, call, model)
        _build_from_dump(ctx, call, variables)
    elif isinstance(func, ast.Attribute):
        method = func.attr
        if _model_class(ctx, func.value) and method in _CLASS_METHODS:
            _class_method(ctx, call, func)
        elif method in ("dict", "json", "copy") or method in _INSTANCE_ONLY:
            known = _model_of(ctx, func.value, variables) is not None
            if known or method in _INSTANCE_ONLY:
                _instance_method(ctx, call, func)
            elif method == "dict" and not call.args and uses_models:
                ctx.todo(call, "if this is a model, use msgspec.structs.asdict(obj)")
        elif method in _PYDANTIC_ONLY:
            ctx.todo(call, f".{method}() is Pydantic's: see msgspec.convert / msgspec.json")
        elif (method in _ROUTE_METHODS and _is_route_decorator(ctx, call)) or (
            method == "add_api_route"
        ):
            _check_keywords(ctx, call, _route_options(), "FasterAPI routes")
        elif method == "include_router":
            _check_keywords(ctx, call, _options("routing", "FasterRouter.include_router"), "")
        elif method == "websocket" and _is_route_decorator(ctx, call):
            _check_keywords(ctx, call, _options("routing", "FasterRouter.websocket"), "")
    origin = ctx.bindings.qualname(func)
    if origin is None or not is_foreign(origin):
        return
    name = origin.rpartition(".")[2]
    if name == "FastAPI":
        _check_keywords(ctx, call, _options("app", "Faster.__init__"), "Faster()")
    elif name == "APIRouter":
        _check_keywords(ctx, call, _options("routing", "FasterRouter.__init__"), "FasterRouter()")
    elif name in _MARKERS:
        _marker(ctx, call, name)
    elif name == "jsonable_encoder":
        _check_keywords(ctx, call, _ENCODER_OPTIONS, "jsonable_encoder()")


def _alias_keywords(ctx: Context, call: ast.Call, model: str) -> None:
    """``Note(createdBy="ann")``: Pydantic takes a field by its alias, a Struct by its name."""
    aliases = ctx.aliases.get(model, {})
    for keyword in call.keywords:
        if keyword.arg is not None and keyword.arg in aliases:
            start = ctx.source.start(keyword)
            ctx.edits.replace(start, start + len(keyword.arg), aliases[keyword.arg])


def _build_from_dump(ctx: Context, call: ast.Call, variables: dict[str, str]) -> None:
    """``Model(**other.dict(), extra=1)``: Pydantic ignores the fields of ``other`` that
    ``Model`` lacks (a password left out of the stored user) and validates the rest; a
    Struct's ``__init__`` takes exactly its fields, so the values are read by attribute
    into ``Model`` with ``msgspec.convert(..., from_attributes=True)``."""
    source = ctx.source
    model = _model_class(ctx, call.func)
    dumps = [
        k.value
        for k in call.keywords
        if k.arg is None
        and isinstance(k.value, ast.Call)
        and isinstance(k.value.func, ast.Attribute)
        and k.value.func.attr in ("dict", "model_dump")
        and not k.value.args
        and not k.value.keywords
    ]
    if call.args or not dumps:
        return
    if all(_model_of(ctx, d.func.value, variables) == model for d in dumps):  # type: ignore[attr-defined]
        return  # a copy: the same fields, ``msgspec.structs.asdict`` is enough
    parts: list[Part] = ["msgspec.convert(SimpleNamespace("]
    for index, keyword in enumerate(call.keywords):
        if index:
            parts.append(", ")
        if keyword.value in dumps:
            receiver = keyword.value.func.value  # type: ignore[attr-defined]
            parts += ["**msgspec.structs.asdict(", source.span(receiver), ")"]
            ctx.handled.add(keyword.value)
        else:
            parts.append(source.span(keyword))
    parts += ["), ", source.span(call.func), ", from_attributes=True)"]
    ctx.edits.replace_node(call, *parts)


def _instance_method(ctx: Context, call: ast.Call, func: ast.Attribute) -> None:
    source = ctx.source
    receiver = source.span(func.value)
    method = func.attr
    keywords = {k.arg: k.value for k in call.keywords}
    plain = not call.args and not call.keywords
    if method in ("dict", "model_dump"):
        if plain:
            ctx.edits.replace_node(call, "msgspec.structs.asdict(", receiver, ")")
            return
        json_mode = _literal(keywords.get("mode")) == "json"
        by_alias = _literal(keywords.get("by_alias"))
        if not call.args and set(keywords) <= {"mode", "by_alias"} and json_mode:
            if by_alias is True:  # JSON types under the wire names: what msgspec encodes
                ctx.edits.replace_node(call, "msgspec.to_builtins(", receiver, ")")
            else:
                ctx.edits.replace_node(call, "jsonable_encoder(", receiver, ", by_alias=False)")
            return
    elif method in ("json", "model_dump_json"):
        by_alias = _literal(keywords.get("by_alias"))
        if plain or (not call.args and set(keywords) == {"by_alias"} and by_alias is True):
            ctx.edits.replace_node(call, "msgspec.json.encode(", receiver, ").decode()")
            return
    elif method in ("copy", "model_copy"):
        if plain:
            ctx.edits.replace_node(call, "msgspec.structs.replace(", receiver, ")")
            return
        if not call.args and set(keywords) == {"update"}:
            update = source.span(keywords["update"])  # type: ignore[arg-type]
            ctx.edits.replace_node(call, "msgspec.structs.replace(", receiver, ", **", update, ")")
            return
    ctx.todo(call, f".{method}() with these arguments has no msgspec counterpart: port by hand")


def _class_method(ctx: Context, call: ast.Call, func: ast.Attribute) -> None:
    source = ctx.source
    model = source.span(func.value)
    method = func.attr
    keywords = {k.arg: k.value for k in call.keywords}
    one_arg = len(call.args) == 1
    parts: list[Part] | None = None
    if method in ("parse_obj", "model_validate", "from_orm") and one_arg:
        from_attributes = method == "from_orm" or _model_class(ctx, func.value) in ctx.orm_models
        value = keywords.pop("from_attributes", None)
        if isinstance(value, ast.Constant) and value.value is True:
            from_attributes = True
        if not keywords:
            parts = ["msgspec.convert(", source.span(call.args[0]), ", ", model]
            parts.append(", from_attributes=True)" if from_attributes else ")")
    elif method in ("parse_raw", "model_validate_json") and one_arg and not keywords:
        parts = ["msgspec.json.decode(", source.span(call.args[0]), ", type=", model, ")"]
    elif method in ("schema", "model_json_schema"):
        ctx.todo(call, "use msgspec.json.schema(Model): its top level is a $ref into $defs")
        return
    elif method in ("construct", "model_construct"):
        ctx.edits.replace_node(func, model)
        return
    elif method in ("update_forward_refs", "model_rebuild"):
        statement = source.statement_of(call)
        if isinstance(statement, ast.Expr) and statement.value is call:
            delete_statement(ctx.edits, statement)  # msgspec resolves names when first used
            return
    if parts is None:
        ctx.todo(call, f".{method}() with these arguments has no msgspec counterpart")
    else:
        ctx.edits.replace_node(call, *parts)


def _literal(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


# -- keyword arguments FasterAPI does not take --------------------------------------------


def _is_route_decorator(ctx: Context, call: ast.Call) -> bool:
    parent = ctx.source.parents.get(call)
    is_decorator = isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
        call in parent.decorator_list
    )
    first = call.args[0] if call.args else None
    return is_decorator and isinstance(first, ast.Constant) and isinstance(first.value, str)


def _parameters(function: Callable[..., Any]) -> frozenset[str]:
    return frozenset(inspect.signature(function).parameters) - {"self", "kwargs", "options"}


def _options(module: str, path: str) -> frozenset[str]:
    import importlib

    target: Any = importlib.import_module(f"FasterAPI.{module}")
    for part in path.split("."):
        target = getattr(target, part)
    return _parameters(target)


def _route_options() -> frozenset[str]:
    return _options("routing", "FasterRouter.add_api_route")


def _marker_options(name: str) -> frozenset[str]:
    from FasterAPI import params

    options = _parameters(params.Param.__init__)
    cls = getattr(params, name)
    return options | _parameters(cls.__init__)


def _marker(ctx: Context, call: ast.Call, name: str) -> None:
    source = ctx.source
    allowed = _marker_options(name)
    for keyword in call.keywords:
        if keyword.arg in _MARKER_RENAMES:
            start = source.start(keyword)
            ctx.edits.replace(start, start + len(keyword.arg), _MARKER_RENAMES[keyword.arg])
        elif keyword.arg == "example":
            ctx.edits.replace_node(keyword, "examples=[", source.span(keyword.value), "]")
    renamed = set(_MARKER_RENAMES) | {"example"}
    what = f"{name}()"
    annotation = _parameter_annotation(ctx, call)
    if annotation is not None and is_decimal(optional_member(ctx, annotation) or annotation):
        allowed, what = allowed - NUMERIC, f"{name}() on a Decimal"  # it fails at start-up
    _check_keywords(ctx, call, allowed | renamed, what)


def _parameter_annotation(ctx: Context, call: ast.Call) -> ast.expr | None:
    """The type of the parameter ``call`` describes: ``T`` of ``p: T = Query()`` or of
    ``p: Annotated[T, Query()]``."""
    parent = ctx.source.parents.get(call)
    if isinstance(parent, ast.arguments):
        positional = [*parent.posonlyargs, *parent.args]
        with_default = positional[len(positional) - len(parent.defaults) :]
        pairs = [
            *zip(with_default, parent.defaults, strict=True),
            *zip(parent.kwonlyargs, parent.kw_defaults, strict=True),
        ]
        return next((arg.annotation for arg, default in pairs if default is call), None)
    if not isinstance(parent, ast.Tuple):
        return None
    holder = ctx.source.parents.get(parent)
    is_annotated = (
        isinstance(holder, ast.Subscript) and (dotted(holder.value) or [""])[-1] == "Annotated"
    )
    return parent.elts[0] if is_annotated else None


def _check_keywords(ctx: Context, call: ast.Call, allowed: frozenset[str], what: str) -> None:
    dropped = [k for k in call.keywords if k.arg is not None and k.arg not in allowed]
    if not dropped:
        return
    items: list[ast.AST] = sorted([*call.args, *call.keywords], key=ctx.source.start)
    if len(dropped) == len(items):
        start = ctx.source.end(call.func)
        ctx.edits.replace(start, ctx.source.end(call), "()")
    else:
        delete_items(ctx.edits, items, set(dropped))
    texts = ", ".join(ctx.source.segment(k) for k in dropped)
    where = f" {what}" if what else ""
    ctx.todo(call, f"removed, not taken by{where or ' FasterAPI'}: {texts}")
