"""Pydantic models for the migration: ``BaseModel`` classes become ``msgspec.Struct`` ones.

A model class gets ``msgspec.Struct`` for ``BaseModel`` and ``kw_only=True`` (so a subclass
may add a required field after inherited defaults, as Pydantic allows). ``Field(...)``
becomes ``Annotated[T, msgspec.Meta(...)]`` for its constraints and documentation, with
``msgspec.field(...)`` for an alias or a default factory; required stays required.
``extra="forbid"`` (as a class keyword, in ``model_config`` or in ``class Config``)
becomes ``forbid_unknown_fields=True`` and ``frozen`` stays ``frozen``. Validators,
other configuration and unknown ``Field`` options are left in place or listed in a TODO
comment, and reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

from FasterAPI._migrate_fields import convert_field, convert_types, literal, pydantic_name
from FasterAPI._migrate_source import Bindings, Context, delete_items, delete_statement, dotted

_BASES = frozenset({"BaseModel", "GenericModel"})

_VALIDATORS = frozenset(
    {
        "validator",
        "field_validator",
        "root_validator",
        "model_validator",
        "field_serializer",
        "model_serializer",
        "computed_field",
    }
)

_RENAME_STYLES = {"to_camel": "camel", "to_pascal": "pascal"}


def is_model_base(bindings: Bindings, base: ast.AST, models: Iterable[str]) -> bool:
    if pydantic_name(bindings, base) in _BASES:
        return True
    parts = dotted(base.value if isinstance(base, ast.Subscript) else base)
    return bool(parts) and parts[-1] in models  # type: ignore[index]


def imported_as(tree: ast.Module, names: Iterable[str]) -> dict[str, str]:
    """The other names ``tree``'s imports give some of ``names``, with the name each stands
    for (``{"PetBase": "Base"}`` for ``from .base import Base as PetBase``)."""
    names = frozenset(names)
    return {alias: name for alias, name in _import_originals(tree).items() if name in names}


def model_aliases(trees: Iterable[ast.Module], models: frozenset[str]) -> dict[str, dict[str, str]]:
    """The field aliases written as Python names of each model, its bases' included:
    ``{"Note": {"createdBy": "created_by"}}`` for ``created_by: str = Field(alias="createdBy")``.
    Pydantic builds a model from them (``Note(createdBy="ann")``), a Struct from its field
    names."""
    own: dict[str, dict[str, str]] = {}
    bases: dict[str, list[str]] = {}
    for tree in trees:
        bindings = Bindings(tree)
        original = _import_originals(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in models:
                names = [parts[-1] for base in node.bases for parts in [dotted(base)] if parts]
                bases[node.name] = [original.get(name, name) for name in names]
                own[node.name] = _field_aliases(bindings, node)

    def collect(name: str, seen: frozenset[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for base in bases.get(name, []):
            if base not in seen:
                found.update(collect(base, seen | {base}))
        return {**found, **own.get(name, {})}

    return {name: aliases for name in own if (aliases := collect(name, frozenset({name})))}


def _import_originals(tree: ast.Module) -> dict[str, str]:
    return {
        alias.asname: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname
    }


def _field_aliases(bindings: Bindings, node: ast.ClassDef) -> dict[str, str]:
    found: dict[str, str] = {}
    for statement in node.body:
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        annotation = statement.annotation
        candidates = [statement.value]
        if isinstance(annotation, ast.Subscript) and isinstance(annotation.slice, ast.Tuple):
            candidates += annotation.slice.elts[1:]
        for candidate in candidates:
            if (
                isinstance(candidate, ast.Call)
                and pydantic_name(bindings, candidate.func) == "Field"
            ):
                for keyword in candidate.keywords:
                    alias = literal(keyword.value) if keyword.arg == "alias" else None
                    if isinstance(alias, str) and alias.isidentifier():
                        found[alias] = statement.target.id
    return found


def model_classes(tree: ast.Module, known: frozenset[str]) -> set[str]:
    """Classes of ``tree`` that are Pydantic models, given the models known elsewhere."""
    bindings = Bindings(tree)
    known = known | set(imported_as(tree, known))
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node in classes:
            if node.name not in found and any(
                is_model_base(bindings, base, known | found) for base in node.bases
            ):
                found.add(node.name)
                changed = True
    return found


def attribute_models(tree: ast.Module, models: frozenset[str], known: frozenset[str]) -> set[str]:
    """Models of ``tree`` read from objects' attributes (``from_attributes``/``orm_mode``,
    set on them or inherited), given those known elsewhere."""
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name in models]
    known = known | set(imported_as(tree, known))
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node in classes:
            bases = {parts[-1] for base in node.bases for parts in [dotted(base)] if parts}
            if node.name not in found and (
                _declares_from_attributes(node) or bases & (known | found)
            ):
                found.add(node.name)
                changed = True
    return found


def _declares_from_attributes(node: ast.ClassDef) -> bool:
    options: list[tuple[str | None, ast.AST]] = [(k.arg, k.value) for k in node.keywords]
    for statement in node.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Config":
            for item in statement.body:
                if isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
                    options.append((item.targets[0].id, item.value))
        elif _is_config(statement):
            value = statement.value  # type: ignore[attr-defined]
            if isinstance(value, ast.Call):
                options += [(k.arg, k.value) for k in value.keywords]
            elif isinstance(value, ast.Dict):
                for key, entry in zip(value.keys, value.values, strict=True):
                    key_text = literal(key) if key is not None else None
                    options.append((key_text if isinstance(key_text, str) else None, entry))
    return any(
        name in ("from_attributes", "orm_mode") and literal(value) is True
        for name, value in options
    )


def convert_models(ctx: Context) -> None:
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.ClassDef) and any(
            is_model_base(ctx.bindings, base, ctx.models) for base in node.bases
        ):
            if any(pydantic_name(ctx.bindings, b) == "RootModel" for b in node.bases):
                continue
            _convert_class(ctx, node)
    convert_types(ctx)


# -- the class statement ---------------------------------------------------------------------


@dataclass
class _Config:
    options: dict[str, str] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)


def _convert_class(ctx: Context, node: ast.ClassDef) -> None:
    source, edits = ctx.source, ctx.edits
    config = _Config()
    kept: list[ast.AST] = []
    for base in node.bases:
        kept.append(base)
    for keyword in node.keywords:
        if keyword.arg is None:
            kept.append(keyword)
        else:
            _config_option(ctx, config, keyword.arg, keyword.value, source.segment(keyword))
    removed: list[ast.stmt] = []
    for statement in node.body:
        if _is_config(statement):
            _read_config(ctx, config, statement)
            removed.append(statement)
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            convert_field(ctx, statement)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _flag_validators(ctx, statement)
    for base in node.bases:
        if pydantic_name(ctx.bindings, base) in _BASES:
            edits.replace_node(base, "msgspec.Struct")
            ctx.handled.add(base)
    everything = sorted([*node.bases, *node.keywords], key=source.start)
    delete_items(edits, everything, {k for k in node.keywords if k.arg is not None})
    options = {"kw_only": "True", **config.options}
    last_kept = max(kept, key=source.end)
    edits.insert(source.end(last_kept), "".join(f", {k}={v}" for k, v in options.items()))
    for statement in removed:
        if len(removed) == len(node.body) and statement is removed[0]:
            edits.replace_node(statement, "pass")
        else:
            delete_statement(edits, statement, removed)
    if config.left:
        ctx.todo(
            node,
            "model configuration not translated: " + "; ".join(config.left),
        )


def _is_config(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.ClassDef):
        return statement.name == "Config"
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    return any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets)


def _read_config(ctx: Context, config: _Config, statement: ast.stmt) -> None:
    source = ctx.source
    if isinstance(statement, ast.ClassDef):
        for item in statement.body:
            if (
                isinstance(item, ast.Assign)
                and len(item.targets) == 1
                and isinstance(item.targets[0], ast.Name)
            ):
                name = item.targets[0].id
                _config_option(ctx, config, name, item.value, source.segment(item))
            elif not isinstance(item, (ast.Expr, ast.Pass)):
                config.left.append(source.segment(item).splitlines()[0])
        return
    value = statement.value  # type: ignore[attr-defined]
    if isinstance(value, ast.Call) and pydantic_name(ctx.bindings, value.func) == "ConfigDict":
        ctx.handled.add(value.func)
        for keyword in value.keywords:
            if keyword.arg is None:
                config.left.append(source.segment(keyword))
            else:
                _config_option(ctx, config, keyword.arg, keyword.value, source.segment(keyword))
    elif isinstance(value, ast.Dict) and all(
        isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys
    ):
        for key, option in zip(value.keys, value.values, strict=True):
            name = key.value  # type: ignore[union-attr]
            _config_option(ctx, config, name, option, f"{name}={source.segment(option)}")
    else:
        config.left.append(source.segment(statement))


def _config_option(ctx: Context, config: _Config, name: str, value: ast.expr, text: str) -> None:
    value_literal = literal(value)
    if name == "extra":
        if value_literal == "forbid":
            config.options["forbid_unknown_fields"] = "True"
        elif value_literal != "ignore":
            config.left.append(f"{text} (msgspec ignores unknown fields or forbids them)")
    elif name in ("frozen", "allow_mutation"):
        frozen = value_literal
        if name == "allow_mutation":
            frozen = not value_literal if isinstance(value_literal, bool) else None
        if frozen is True:
            config.options["frozen"] = "True"
        elif frozen is not False:
            config.left.append(text)
    elif name == "alias_generator" and pydantic_name(ctx.bindings, value) in _RENAME_STYLES:
        config.options["rename"] = repr(_RENAME_STYLES[pydantic_name(ctx.bindings, value) or ""])
        ctx.handled.add(value)
    elif name in ("from_attributes", "orm_mode"):
        if not isinstance(value_literal, bool):
            config.left.append(text)
        # True: FasterAPI reads response models by attribute, and the model's
        # ``model_validate``/``from_orm`` calls become msgspec.convert(..., from_attributes=True).
    else:
        config.left.append(text)


def _flag_validators(ctx: Context, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = pydantic_name(ctx.bindings, target)
        if name in _VALIDATORS:
            ctx.handled.add(target)
        if name == "computed_field":
            ctx.todo(decorator, "computed fields are not encoded by msgspec: add a field")
        elif name in _VALIDATORS:
            ctx.todo(
                decorator,
                f"pydantic {name} does not run on a msgspec.Struct: move the check into "
                "__post_init__ (raise ValueError) or a msgspec.Meta constraint",
            )


def flag_model_unions(ctx: Context) -> None:
    """A TODO at each union of two or more models: Pydantic tries each in turn, msgspec
    accepts several Structs in a union only when each is tagged (else the route fails at
    start-up)."""
    for node in ast.walk(ctx.tree):
        members: list[ast.expr] = []
        if isinstance(node, ast.Subscript) and (dotted(node.value) or [""])[-1] == "Union":
            members = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else []
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            parent = ctx.source.parents.get(node)
            if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.BitOr):
                continue  # counted with the whole ``A | B | C``
            members = _union_members(node)
        models = [name for name in map(_type_name, members) if name in ctx.models]
        if len(models) > 1:
            ctx.todo(
                node,
                f"msgspec takes {', '.join(models)} in one union only when each Struct is "
                "tagged (tag_field=..., tag=...; the tag field is then no field of its own)",
            )


def _union_members(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union_members(node.left) + _union_members(node.right)
    return [node]


def _type_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    parts = dotted(node)
    return parts[-1] if parts else None


def flag_pydantic_leftovers(ctx: Context) -> None:
    """A TODO at the first use of each Pydantic name still needed after the rewrite
    (outside pydantic-settings classes, which keep Pydantic on purpose)."""
    seen: set[str] = set()
    for node in ast.walk(ctx.tree):
        if not isinstance(node, (ast.Name, ast.Attribute)) or node in ctx.handled:
            continue
        parent = ctx.source.parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            continue
        name = pydantic_name(ctx.bindings, node)
        if name is None or name in seen or _in_settings_class(ctx, node):
            continue
        seen.add(name)
        if name == "Field":
            hint = "Field outside a converted model still needs pydantic (or Query()/Body())"
        else:
            hint = f"pydantic's {name} is still used: replace it or keep pydantic installed"
        ctx.todo(node, hint)


def _in_settings_class(ctx: Context, node: ast.AST) -> bool:
    parent = ctx.source.parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.ClassDef):
            origins = (ctx.bindings.qualname(base) or "" for base in parent.bases)
            if any(origin.partition(".")[0] == "pydantic_settings" for origin in origins):
                return True
        parent = ctx.source.parents.get(parent)
    return False
