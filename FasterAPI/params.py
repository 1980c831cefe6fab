"""Parameter markers: where a handler argument comes from and how it is constrained.

Use them as defaults (``limit: int = Query(10, ge=1)``) or inside ``Annotated``
(``limit: Annotated[int, Query(ge=1)] = 10``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from FasterAPI._patterns import end_anchored


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "Required"

    def __bool__(self) -> bool:
        return False


Required: Any = _Unset()
"""Marks a parameter without a default; ``...`` means the same."""


class Param:
    """Base of the source markers; ``source`` names the ``loc`` prefix in validation errors."""

    source = "query"

    def __init__(
        self,
        default: Any = Required,
        *,
        default_factory: Callable[[], Any] | None = None,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        examples: Sequence[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        json_schema_extra: dict[str, Any] | None = None,
    ) -> None:
        if default is Ellipsis:
            default = Required
        if default_factory is not None and default is not Required:
            raise TypeError("Pass either default or default_factory, not both")
        self.default = default
        self.default_factory = default_factory
        self.alias = alias
        self.title = title
        self.description = description
        self.gt, self.ge, self.lt, self.le = gt, ge, lt, le
        self.multiple_of = multiple_of
        self.min_length, self.max_length = min_length, max_length
        self.pattern = pattern
        self.examples = list(examples) if examples is not None else None
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.json_schema_extra = json_schema_extra

    @property
    def required(self) -> bool:
        return self.default is Required and self.default_factory is None

    def meta(self) -> msgspec.Meta | None:
        """The constraints and docs as a ``msgspec.Meta`` (None when there are none)."""
        options = {
            "gt": self.gt,
            "ge": self.ge,
            "lt": self.lt,
            "le": self.le,
            "multiple_of": self.multiple_of,
            "min_length": self.min_length,
            "max_length": self.max_length,
            "pattern": self.pattern,
            "title": self.title,
            "description": self.description,
            "examples": self.examples,
        }
        given: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
        if self.pattern is not None:
            given["pattern"] = end_anchored(self.pattern)
        if self.json_schema_extra:
            given["extra_json_schema"] = self.json_schema_extra
        return msgspec.Meta(**given) if given else None  # type: ignore[call-overload]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.default!r})"


class Path(Param):
    source = "path"

    def __init__(self, default: Any = Required, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)


class Query(Param):
    source = "query"


class Header(Param):
    source = "header"

    def __init__(
        self, default: Any = Required, *, convert_underscores: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(default, **kwargs)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    source = "cookie"


class Body(Param):
    source = "body"

    def __init__(
        self,
        default: Any = Required,
        *,
        embed: bool = False,
        media_type: str = "application/json",
        **kwargs: Any,
    ) -> None:
        super().__init__(default, **kwargs)
        self.embed = embed
        self.media_type = media_type


class Form(Body):
    def __init__(self, default: Any = Required, **kwargs: Any) -> None:
        kwargs.setdefault("media_type", "application/x-www-form-urlencoded")
        super().__init__(default, **kwargs)


class File(Form):
    def __init__(self, default: Any = Required, **kwargs: Any) -> None:
        kwargs.setdefault("media_type", "multipart/form-data")
        super().__init__(default, **kwargs)


class Depends:
    """Inject the result of ``dependency`` (resolved once per request when ``use_cache``)."""

    def __init__(
        self, dependency: Callable[..., Any] | None = None, *, use_cache: bool = True
    ) -> None:
        self.dependency = dependency
        self.use_cache = use_cache

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__name__", type(self.dependency).__name__)
        return f"{type(self).__name__}({name})"


class Security(Depends):
    """A dependency that also declares OAuth2 ``scopes`` (collected into ``SecurityScopes``)."""

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache)
        self.scopes = list(scopes or [])
