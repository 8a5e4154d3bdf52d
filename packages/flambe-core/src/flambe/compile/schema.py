"""Schemas: the delayed-initialisation blueprint of a component.

Loading ``!Tag {k: v}`` for a component gives a :class:`Schema`, not an
object. A schema is a mutable mapping of the keyword arguments; calling it
compiles the component (once: later calls return the same object).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from flambe.compile import bases
from flambe.compile.registry import get_registry
from flambe.errors import FlambeError, SourceLocation

_compiling: contextvars.ContextVar[int] = contextvars.ContextVar("flambe_compiling", default=0)

_link_binder: list[Callable[[Any], None]] = []


def set_link_binder(binder: Callable[[Any], None]) -> None:
    """Set the function that binds the links of a config before it compiles.

    Parameters
    ----------
    binder : callable
        Takes the root schema; :mod:`flambe.compile.binding` sets
        :func:`~flambe.compile.binding.bind_links` when it is imported.

    """
    _link_binder[:] = [binder]


_INSTANCE_ATTRS = frozenset(
    {
        "component_subclass",
        "factory_method",
        "keywords",
        "post_init_hooks",
        "_compiled",
        "_extensions",
        "_created_with_tag",
        "_source",
        "_key_locations",
        "_anchor",
    }
)


class Schema(MutableMapping[str, Any]):
    """The blueprint of a component: its class, factory and keyword arguments.

    Parameters
    ----------
    component_subclass : type
        A :class:`~flambe.compile.Component` subclass.
    _flambe_custom_factory_name : str, optional
        A factory method of the class to build with (``!Cls.factory``).
    **keywords
        The constructor's keyword arguments; may hold other schemas and links.

    Examples
    --------
    >>> schema = Schema(MyComponent, x=3)
    >>> obj = schema()          # compiles
    >>> obj is schema()         # cached
    True

    """

    def __init__(
        self,
        component_subclass: type[Any],
        _flambe_custom_factory_name: str | None = None,
        **keywords: Any,
    ) -> None:
        if not bases.is_component_class(component_subclass):
            raise TypeError(f"Schema needs a Component subclass, got {component_subclass!r}")
        object.__setattr__(self, "component_subclass", component_subclass)
        object.__setattr__(self, "factory_method", _flambe_custom_factory_name)
        object.__setattr__(self, "keywords", dict(keywords))
        object.__setattr__(self, "post_init_hooks", [])
        object.__setattr__(self, "_compiled", None)
        object.__setattr__(self, "_extensions", {})
        object.__setattr__(self, "_created_with_tag", None)
        object.__setattr__(self, "_source", None)
        object.__setattr__(self, "_key_locations", {})
        object.__setattr__(self, "_anchor", None)

    # -- mapping protocol over the keywords ---------------------------------
    def __getitem__(self, key: str) -> Any:
        return self.keywords[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.keywords[key] = value

    def __delitem__(self, key: str) -> None:
        del self.keywords[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keywords)

    def __len__(self) -> int:
        return len(self.keywords)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        keywords = self.__dict__.get("keywords", {})
        if name in keywords:
            return keywords[name]
        cls = self.__dict__.get("component_subclass")
        raise AttributeError(
            f"schema of {getattr(cls, '__qualname__', '?')} has no keyword {name!r}"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _INSTANCE_ATTRS:
            object.__setattr__(self, name, value)
        else:
            self.keywords[name] = value

    def __repr__(self) -> str:
        cls = self.component_subclass
        items = ", ".join(f"{k}={self.keywords[k]!r}" for k in sorted(self.keywords))
        return f"flambe.compile.schema.Schema({cls.__module__}.{cls.__qualname__}, {items})"

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    @property
    def location(self) -> SourceLocation | None:
        """Where the schema was written, when it came from YAML."""
        return self._source

    def key_location(self, key: str) -> SourceLocation | None:
        """Where the value of keyword ``key`` was written (falls back to the schema's place)."""
        return self._key_locations.get(key, self._source)

    # -- compiling -------------------------------------------------------------
    def __call__(self, stash: dict[str, Any] | None = None, **overrides: Any) -> Any:
        """Compile the component (once; later calls return the same object).

        The outermost call binds the links of the whole config first.

        Parameters
        ----------
        stash : dict, optional
            Values kept out of YAML (``!$ id``), by id.
        **overrides
            Keyword arguments that replace the schema's own.

        Returns
        -------
        Any
            The compiled object.
        """
        if self._compiled is not None:
            return self._compiled
        token = _compiling.set(_compiling.get() + 1)
        try:
            if _compiling.get() == 1:  # only the outermost call binds links
                # set by flambe.compile.binding, which the component module imports:
                # a schema exists only once a Component class does
                _link_binder[0](self)
            try:
                obj = self.component_subclass.compile(
                    _flambe_custom_factory_name=self.factory_method,
                    _flambe_extensions=self.aggregate_extensions_metadata(),
                    _flambe_stash=stash,
                    _flambe_schema=self,
                    **{**self.keywords, **overrides},
                )
            except FlambeError as exc:
                raise exc.at(self._source)  # noqa: B904 - the same error, now located
        finally:
            _compiling.reset(token)
        object.__setattr__(self, "_compiled", obj)
        try:
            obj._schema = self
            obj._created_with_tag = self._created_with_tag
            if self._anchor:
                obj._anchor = self._anchor
        except AttributeError:  # objects with __slots__
            pass
        for hook in self.post_init_hooks:
            hook(obj)
        return obj

    # -- extensions metadata -------------------------------------------------
    def add_extensions_metadata(self, extensions: dict[str, str]) -> None:
        """Keep the extension entries that this schema's classes come from, recursively."""
        # a wrapper of a third-party class counts as that class's package (torch...)
        for schema in [self, *_iter_schemas(self.keywords)]:
            cls = schema.component_subclass
            origin = getattr(cls, "_flambe_wrapped", cls)
            top = origin.__module__.split(".", 1)[0]
            own = {k: v for k, v in extensions.items() if k == top}
            object.__setattr__(schema, "_extensions", own)

    def aggregate_extensions_metadata(self) -> dict[str, str]:
        """Own extension entries and those of every schema below."""
        merged = dict(self._extensions)
        for child in _iter_schemas(self.keywords):
            merged.update(child._extensions)
        return merged

    # -- YAML ------------------------------------------------------------------
    @classmethod
    def to_yaml(cls, representer: Any, node: Schema, tag: str | None = None) -> Any:
        """Represent ``node`` under the tag it was loaded with, else its class's default tag."""
        tag = node._created_with_tag or get_registry().default_tag(
            node.component_subclass, node.factory_method
        )
        return representer.represent_mapping(tag, node.keywords)


def _iter_schemas(value: Any) -> list[Schema]:
    """Every schema in ``value`` and below, each once: a node shared by aliases is walked once."""
    found: list[Schema] = []
    seen: set = set()
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, (Schema, dict, list, tuple)):
            if id(current) in seen:
                continue
            seen.add(id(current))
        if isinstance(current, Schema):
            found.append(current)
            stack.extend(reversed(list(current.keywords.values())))
        elif isinstance(current, dict):
            stack.extend(reversed(list(current.values())))
        elif isinstance(current, (list, tuple)):
            stack.extend(reversed(current))
    return found
