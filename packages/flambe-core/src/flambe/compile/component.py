"""Component: the base of every object a config builds.

A component loads from YAML as a :class:`~flambe.compile.schema.Schema`
(delayed initialisation) and is built when the schema is called:
:meth:`Component.compile` compiles the keyword arguments depth-first in the
order they were written (so a link can point to an earlier sibling), checks
them against the constructor's signature, builds the object and remembers
the arguments so the object dumps back to YAML. State (``get_state`` /
``load_state``) comes from :class:`~flambe.compile.state.StatefulMixin`.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import types
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flambe.compile import bases, yaml
from flambe.compile.binding import bind_links
from flambe.compile.legacy_arguments import translate_removed
from flambe.compile.link import Link, PickledDataLink
from flambe.compile.registrable import Registrable, registrable_factory
from flambe.compile.registry import get_registry
from flambe.compile.schema import Schema, set_link_binder
from flambe.compile.signatures import (  # re-exported: defined below components
    INIT_ARGUMENTS,
    constructor_signature,
    recorded_arguments,
    signature_defaults,
)
from flambe.compile.state import StatefulMixin
from flambe.compile.typecheck import type_problems
from flambe.errors import ArgumentError, CompilationError, ConfigError, FlambeError, SourceLocation

logger = logging.getLogger(__name__)


class _config_classmethod:
    """``Cls.compile(**config)`` builds from a config; ``obj.compile()`` stays the base's.

    ``torch.nn.Module`` has an instance method ``compile`` (``torch.compile``
    of the module): on an instance, the name resolves past ``Component`` to
    that method, so components that are modules keep it.
    """

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return types.MethodType(self.fn, owner)
        mro = type(obj).__mro__
        for klass in mro[mro.index(Component) + 1 :]:
            attr = vars(klass).get(self.__name__)
            if attr is not None and not isinstance(attr, _config_classmethod):
                return attr.__get__(obj, type(obj))
        return types.MethodType(self.fn, type(obj))


class Component(Registrable, StatefulMixin, should_register=False):
    """Base class of every object that can be built from a config.

    Subclasses implement ``run()`` for a unit of work (return True while
    there is more to do) and ``metric()`` to rank variants. When a component
    is also a ``torch.nn.Module``, list ``Component`` first in the bases:
    ``class MyModel(Component, torch.nn.Module)``.

    Attributes
    ----------
    _flambe_version : str
        The class's semantic version, ``"0.0.0"`` to opt out of version checks.

    """

    _flambe_version = "0.0.0"
    # arguments passed to the constructor as loaded (schemas, links and search
    # options untouched), for components that build them later themselves
    _flambe_raw_arguments: tuple[str, ...] = ()
    _schema: Schema | None = None
    _created_with_tag: str | None = None
    _extensions: dict[str, str] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Create the object, recording the arguments given to its constructor."""
        # Remember the constructor's arguments as given, so that an object built
        # in code can be saved with a config (see recorded_arguments); nothing
        # is bound or copied here, construction stays as cheap as it was.
        following = super().__new__
        obj = following(cls) if following is object.__new__ else following(cls, *args, **kwargs)
        try:
            obj.__dict__[INIT_ARGUMENTS] = (args, kwargs)
        except AttributeError:  # pragma: no cover - a class with __slots__ only
            pass
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    # -- lifecycle ---------------------------------------------------------------
    def run(self) -> bool:
        """Do one step of work; return True while more work remains."""
        return False

    def metric(self) -> float | None:
        """The value variants are compared by (``None`` when not applicable)."""
        return None

    @classmethod
    def precompile(cls, **kwargs: Any) -> None:
        """Hook called with the raw keyword arguments before any of them is compiled."""

    # -- YAML ---------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, constructor: Any, node: Any, factory_name: str | None) -> Schema:
        """Load a component's schema (delayed initialisation) from its tagged mapping node."""
        location = constructor.location(node)
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
            raise ConfigError(
                f"{cls.__qualname__} is abstract and cannot be built (it does not implement: "
                f"{missing})",
                location,
                hint="use a concrete subclass of it",
            )
        keywords, key_locations = constructor.construct_keywords(node, cls, with_locations=True)
        keywords, key_locations = translate_removed(
            cls, keywords, key_locations, location, node.tag
        )
        schema = Schema(cls, factory_name, **keywords)
        schema._source = location
        schema._key_locations = key_locations
        return schema

    @classmethod
    def to_yaml(cls, representer: Any, node: Any, tag: str) -> Any:
        """Represent a built component as the mapping of arguments it was built with."""
        kwargs = recorded_arguments(node)
        if kwargs is None:
            raise AttributeError(
                f"{type(node).__qualname__} was not built from a config, so it has no YAML form"
            )
        return representer.represent_mapping(tag, kwargs)

    @property
    def _config_str(self) -> str:
        """The YAML of this object (after an extensions header document when it has extensions)."""
        if not hasattr(self, "_saved_kwargs"):
            raise AttributeError(f"{type(self).__qualname__} was not built from a config")
        return yaml.dump_with_extensions(self, self.aggregate_extensions_metadata())

    def _config_for_save(self) -> tuple[str, dict[str, Any]]:
        """YAML for saving this object alone, and the stash of values YAML cannot hold.

        Links to things inside the object are rewritten relative to it; links
        to things outside are replaced by their values, written inline when
        YAML can hold them and kept in the stash otherwise (``!$ id``).
        """
        if not hasattr(self, "_saved_kwargs"):
            raise AttributeError(f"{type(self).__qualname__} was not built from a config")
        return yaml.dump_for_save(self, self.aggregate_extensions_metadata())

    def aggregate_extensions_metadata(self) -> dict[str, str]:
        """Own extension entries and those of the components among its arguments."""
        merged = dict(getattr(self, "_extensions", {}) or {})
        for value in _iter_values(getattr(self, "_saved_kwargs", {})):
            if isinstance(value, Component) and value is not self:
                merged.update(value.aggregate_extensions_metadata())
        return merged

    # -- compiling ----------------------------------------------------------------
    @_config_classmethod
    def compile(
        cls: type[Any],
        _flambe_custom_factory_name: str | None = None,
        _flambe_extensions: dict[str, str] | None = None,
        _flambe_stash: dict[str, Any] | None = None,
        _flambe_schema: Schema | None = None,
        **kwargs: Any,
    ) -> Any:
        """Build an instance from keyword arguments that may hold schemas and links.

        Raises
        ------
        ArgumentError
            For unknown or missing arguments, listing the accepted ones.
        CompilationError
            When the constructor fails; the cause is chained.

        """
        factory = _flambe_custom_factory_name
        location = _flambe_schema.location if _flambe_schema is not None else None
        cls.precompile(**kwargs)
        build = getattr(cls, factory) if factory else cls
        problems = check_arguments(
            cls,
            factory,
            kwargs,
            location,
            _flambe_schema._key_locations if _flambe_schema is not None else None,
            _display_tag(cls, factory, _flambe_schema),
        )
        if problems:
            raise problems[0]
        raw = cls._flambe_raw_arguments
        processed = _compile_arguments(kwargs, raw, _flambe_stash, _flambe_schema)
        try:
            instance = build(**processed)
        except FlambeError as exc:
            raise exc.at(location)  # noqa: B904 - the same error, now located
        except Exception as exc:
            if location is None:
                raise
            raise CompilationError(
                f"building {_display_tag(cls, factory, _flambe_schema)} failed: "
                f"{type(exc).__name__}: {exc}",
                location,
            ) from exc
        saved = {
            key: kwargs[key] if key in raw else _saved_value(kwargs[key], processed[key])
            for key in kwargs
        }
        for name, default in signature_defaults(cls, factory).items():
            saved.setdefault(name, default)
        _remember_config(instance, saved, _flambe_extensions, cls, factory, _flambe_schema)
        return instance

    # -- saving -------------------------------------------------------------------
    def save(self, path: str, **kwargs: Any) -> None:
        """Save this object with :func:`flambe.save`."""
        from flambe.compile import serialization  # below this module; imported when used

        serialization.save(self, path, **kwargs)

    @registrable_factory
    @classmethod
    def load_from_path(
        cls,
        path: str,
        map_location: Any = None,
        use_saved_config_defaults: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Load a saved object (``!Cls.load_from_path {path: ...}`` in YAML).

        With ``use_saved_config_defaults`` (the default) the saved config
        rebuilds the object; otherwise ``cls(**kwargs)`` is built and the
        saved state loaded into it. Loading runs pickled code: only load
        files you trust.
        """
        from flambe.compile import serialization  # below this module; imported when used

        if use_saved_config_defaults:
            return serialization.load(path, map_location=map_location)
        instance = cls(**kwargs)
        instance.load_state(serialization.load_state_from_file(path, map_location=map_location))
        return instance


# ---------------------------------------------------------------------------
# compiling helpers
# ---------------------------------------------------------------------------


def _compile_arguments(
    kwargs: Mapping[str, Any],
    raw: Iterable[str],
    stash: dict[str, Any] | None,
    schema: Schema | None,
) -> dict[str, Any]:
    """Compile each argument in order (those in ``raw`` are handed over as written)."""
    processed: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in raw:  # handed over as written: the component builds it itself
            processed[key] = value
            continue
        try:
            processed[key] = compile_value(value, stash)
        except FlambeError as exc:
            key_loc = schema.key_location(key) if schema is not None else None
            raise exc.at(key_loc)  # noqa: B904 - the same error, now located
    return processed


def _remember_config(
    instance: Any,
    saved: dict[str, Any],
    extensions: dict[str, str] | None,
    cls: type,
    factory: str | None,
    schema: Schema | None,
) -> None:
    """Record on a built object the config it was built from, so that it dumps back to it."""
    try:
        instance._saved_kwargs = saved
        instance.__dict__.pop(INIT_ARGUMENTS, None)  # the config says it all
        instance._extensions = dict(extensions or {})
        if factory is not None and instance._created_with_tag is None and schema is None:
            instance._created_with_tag = get_registry().default_tag(cls, factory)
    except AttributeError:  # pragma: no cover - objects with __slots__
        pass


def compile_value(value: Any, stash: dict[str, Any] | None = None) -> Any:
    """Compile one argument value: schemas are built, links resolved, containers walked."""
    if isinstance(value, Schema):
        return value(stash)
    if isinstance(value, PickledDataLink):
        return value(stash)
    if isinstance(value, Link):
        return value()
    if getattr(value, "_flambe_option", False):
        raise CompilationError(
            f"search option {value!r} can only be used inside an Experiment's pipeline",
            getattr(value, "_source", None),
            hint="wrap the config in !Experiment, or replace the option by a single value",
        )
    if isinstance(value, Mapping):
        return {k: compile_value(v, stash) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [compile_value(v, stash) for v in value]
    return value


def _saved_value(raw: Any, built: Any) -> Any:
    """What to remember of an argument: built objects for schemas, links as links."""
    if isinstance(raw, Link):
        return raw
    if isinstance(raw, Schema):
        return built
    if isinstance(raw, Mapping) and isinstance(built, Mapping):
        return {k: _saved_value(raw[k], built[k]) for k in raw}
    if isinstance(raw, (list, tuple)) and isinstance(built, list):
        return [_saved_value(r, b) for r, b in zip(raw, built, strict=False)]
    return built


def _iter_values(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _iter_values(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _iter_values(v)
    else:
        yield value


def check_arguments(
    cls: type,
    factory: str | None,
    kwargs: Mapping[str, Any],
    location: SourceLocation | None = None,
    key_locations: Mapping[str, SourceLocation] | None = None,
    tag: str | None = None,
) -> list[ArgumentError]:
    """Unknown and missing constructor arguments, as errors (empty when all fit)."""
    sig = constructor_signature(cls, factory)
    if sig is None:
        return []
    params = sig.parameters
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    named = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    # optional arguments the class takes besides its constructor's (a ClusterRunnable's env)
    extra = [n for n in getattr(cls, "_flambe_extra_arguments", ()) if n not in named]
    shown = tag or _display_tag(cls, factory, None)
    accepted = ", ".join(named + extra) or "none"
    problems: list[ArgumentError] = []
    if not accepts_any:
        for key in kwargs:
            if key not in named and key not in extra:
                close = difflib.get_close_matches(str(key), named + extra, n=1)
                hint = (f"did you mean '{close[0]}'? " if close else "") + f"accepted: {accepted}"
                loc = (key_locations or {}).get(key, location)
                problems.append(
                    ArgumentError(
                        f"{shown} got an unknown argument '{key}'{_option_words(kwargs[key])}",
                        loc,
                        hint=hint,
                    )
                )
    for name in named:
        p = params[name]
        if p.default is inspect.Parameter.empty and name not in kwargs:
            problems.append(
                ArgumentError(
                    f"{shown} is missing the required argument '{name}'",
                    location,
                    hint=f"accepted: {accepted}",
                )
            )
    problems.extend(type_problems(cls, factory, params, kwargs, location, key_locations, shown))
    return problems


def _option_words(value: Any) -> str:
    """Words saying that a value is a search option, so a misspelled grid says so."""
    if not getattr(value, "_flambe_option", False):
        return ""
    tag = getattr(value, "_created_with_tag", None) or "search option"
    count = len(value) if hasattr(value, "__len__") else 0
    values = f" over {count} values" if count else ""
    return f" (its value is a {tag} search{values}: no variant sets the argument it means)"


def _display_tag(cls: type, factory: str | None, schema: Schema | None) -> str:
    if schema is not None and schema._created_with_tag:
        return schema._created_with_tag
    try:
        return get_registry().default_tag(cls, factory)
    except FlambeError:
        return cls.__qualname__ + (f".{factory}" if factory else "")


# ---------------------------------------------------------------------------
# wrapping classes that are not components
# ---------------------------------------------------------------------------

WRAPPED_MODULE = "flambe.compile.wrapped"
# (wrapped class, parent component class) -> its wrapper, made once
WRAPPERS: dict[tuple[type, type], type] = {}
# Component methods that give way to a wrapped class's attribute of the same name
_WRAPPER_YIELDS = ("run", "metric", "save", "load_from_path")


def wrapped_name(class_: type) -> str:
    """The attribute name of a wrapper in :mod:`flambe.compile.wrapped` (picklable)."""
    return f"{class_.__module__.replace('.', '__')}___{class_.__qualname__.replace('.', '__')}"


def dynamic_component(
    class_: type,
    tag: str | None,
    tag_namespace: str | None = None,
    parent_component_class: type[Component] = Component,
) -> type:
    """A component subclass of ``class_`` (``class_`` itself when it is one already).

    ``class_`` is not modified. The wrapper keeps the class name and
    docstring and pickles by reference through :mod:`flambe.compile.wrapped`.
    """
    if not (
        isinstance(parent_component_class, type) and issubclass(parent_component_class, Component)
    ):
        raise CompilationError(f"{parent_component_class!r} is not a Component class")
    if issubclass(class_, parent_component_class):
        return class_
    cached = WRAPPERS.get((class_, parent_component_class))
    if cached is not None:
        return cached

    def body(ns: dict[str, Any]) -> None:
        ns.update(
            {
                "__module__": WRAPPED_MODULE,
                "__doc__": class_.__doc__,
                "_flambe_dynamic": True,
                "_flambe_wrapped": class_,
            }
        )
        # Component's own methods must not hide the wrapped class's attributes of
        # the same name (a Ray searcher's ``metric`` property, say)
        for name in _WRAPPER_YIELDS:
            for klass in class_.__mro__:
                if name in vars(klass) and klass is not object:
                    ns[name] = vars(klass)[name]
                    break
        state_dict = getattr(class_, "state_dict", None)
        if callable(state_dict):
            ns["state_dict"] = _state_dict_without_bookkeeping(state_dict)

    new = types.new_class(
        class_.__name__, (parent_component_class, class_), {"should_register": False}, body
    )
    new.__qualname__ = wrapped_name(class_)
    WRAPPERS[(class_, parent_component_class)] = new
    if tag is not None:
        get_registry().register(new, tag, tag_namespace)
    return new


# attributes flambe sets on built objects; never part of a wrapped class's own state
BOOKKEEPING_ATTRIBUTES = frozenset(
    {
        "_schema",
        "_saved_kwargs",
        "_created_with_tag",
        "_extensions",
        "_anchor",
        "_flambe_registered_attrs",
        INIT_ARGUMENTS,
    }
)


def _state_dict_without_bookkeeping(original: Callable) -> Callable:
    """``state_dict`` of a wrapped class, minus flambe's bookkeeping attributes.

    Some classes build their state from ``__dict__`` (torch's LR schedulers),
    which would otherwise carry the object's config and schema along.
    """

    def state_dict(self: Any, *args: Any, **kwargs: Any) -> Any:
        state = original(self, *args, **kwargs)
        if isinstance(state, dict) and BOOKKEEPING_ATTRIBUTES.intersection(state):
            state = {k: v for k, v in state.items() if k not in BOOKKEEPING_ATTRIBUTES}
        return state

    state_dict.__doc__ = original.__doc__
    return state_dict


def all_subclasses(class_: type) -> set:
    """Every subclass of ``class_``, transitively, without ``class_`` itself."""
    found: set = set()
    stack: list[type] = list(class_.__subclasses__())
    while stack:
        sub = stack.pop()
        if sub not in found:
            found.add(sub)
            stack.extend(sub.__subclasses__())
    return found


def make_component(
    class_: type,
    tag_namespace: str | None = None,
    only_module: str | None = None,
    parent_component_class: type[Component] | None = None,
    exclude: list[str] | None = None,
) -> None:
    """Register component wrappers for the subclasses of ``class_`` (eagerly).

    Prefer tag namespaces (``!torch.Adam``), which do this lazily; this
    eager form is kept for code written against the original API.
    """
    parent = parent_component_class or Component
    for sub in all_subclasses(class_):
        module = sub.__module__
        if exclude and any(e in module for e in exclude):
            continue
        if only_module and not module.startswith(only_module):
            continue
        if sub.__name__.startswith("_"):
            continue
        try:
            with warnings.catch_warnings():  # subclassing deprecated classes warns
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                dynamic_component(
                    sub,
                    tag=sub.__name__,
                    tag_namespace=tag_namespace,
                    parent_component_class=parent,
                )
        except TypeError:  # metaclass conflicts: skip what cannot be wrapped
            continue


# The layers below recognise components and bind links through what is set
# here, without importing this module.
bases.set_component_class(Component)
set_link_binder(bind_links)
