"""Classes that load from and dump to YAML under a ``!Tag``.

:class:`Registrable` is the base of everything a config can name. Subclasses
register a tag when they are defined; ``@alias`` adds more;
``@registrable_factory`` makes a classmethod usable as ``!Class.method``.
:class:`MappedRegistrable` builds its instance right away from a mapping of
keyword arguments, for objects that need no delayed initialisation.
"""

from __future__ import annotations

import functools
import logging
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from flambe.compile import bases
from flambe.compile.registry import get_registry
from flambe.errors import ArgumentError, ConfigError, RegistrationError

logger = logging.getLogger(__name__)

RT = TypeVar("RT", bound=type)


class Registrable(metaclass=ABCMeta):
    """Base of every class a YAML config can name with a ``!Tag``.

    A subclass is registered when it is defined, under its class name and
    the namespace of its top-level package (``!my_ext.MyClass``; no
    namespace for classes of ``flambe``, ``tests`` and ``__main__``).

    Parameters
    ----------
    should_register : bool
        Class keyword: ``class A(Registrable, should_register=False)`` skips registration.
    tag_override : str, optional
        Class keyword: register under this name instead of the class name.
    tag_namespace : str, optional
        Class keyword: register in this namespace instead of the package's.

    """

    def __init_subclass__(
        cls,
        should_register: bool = True,
        tag_override: str | None = None,
        tag_namespace: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if should_register:
            get_registry().register(cls, tag_override or cls.__name__, tag_namespace)

    @classmethod
    @abstractmethod
    def to_yaml(cls, representer: Any, node: Any, tag: str) -> Any:
        """Represent ``node`` (an instance) as a YAML node under ``tag``."""

    @classmethod
    @abstractmethod
    def from_yaml(cls, constructor: Any, node: Any, factory_name: str | None) -> Any:
        """Build an object from a YAML ``node``; ``factory_name`` follows ``!Cls.`` if given."""

    @staticmethod
    def get_default_tag(class_: type, factory_name: str | None = None) -> str:
        """The tag a class dumps with (its last registered tag), plus ``.factory_name``."""
        return get_registry().default_tag(class_, factory_name)


bases.set_registrable_class(Registrable)


def alias(tag: str, tag_namespace: str | None = None) -> Callable[[RT], RT]:
    """Class decorator adding another tag; the top-most alias is the one dumped.

    Examples
    --------
    >>> @alias("cool_tag")
    ... class MyClass(Component):
    ...     ...

    """

    def decorator(cls: RT) -> RT:
        get_registry().register(cls, tag, tag_namespace)
        return cls

    return decorator


def register(cls: RT, tag: str) -> RT:
    """Register a class that does not subclass :class:`Registrable` under ``tag``.

    The class must provide ``to_yaml`` and ``from_yaml`` classmethods.
    """
    for method in ("to_yaml", "from_yaml"):
        if not callable(getattr(cls, method, None)):
            raise RegistrationError(
                f"{cls.__qualname__} needs a {method} classmethod to be registered"
            )
    get_registry().register(cls, tag)
    return cls


class registrable_factory:
    """Mark a classmethod as usable in YAML as ``!Class.method``.

    Place it above ``@classmethod``. Factories are inherited by subclasses
    and never leak to a parent or a sibling class.

    Examples
    --------
    >>> class MyClass(Component):
    ...     @registrable_factory
    ...     @classmethod
    ...     def special_factory(cls, x, y):
    ...         return cls(x + y)

    """

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __set_name__(self, owner: type, name: str) -> None:
        if not (
            isinstance(owner, type)
            and (issubclass(owner, Registrable) or get_registry().tags_of(owner))
        ):
            raise RegistrationError(
                f"@registrable_factory {name!r} is on {owner.__qualname__}, which is not "
                "registrable",
                hint="subclass flambe.compile.Component or Registrable",
            )
        own = owner.__dict__.get("_flambe_own_factories")
        if own is None:  # each class gets its own set: factories never leak upwards
            own = set()
            owner._flambe_own_factories = own  # type: ignore[attr-defined]
        own.add(name)
        setattr(owner, name, self.fn)


class registration_context:
    """Force the namespace of every class registered inside it.

    Usable as a context manager or a function decorator, and nestable.

    Examples
    --------
    >>> with registration_context("ns"):
    ...     class A(Component): ...   # loads as !ns.A

    """

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def __enter__(self) -> registration_context:
        get_registry().push_context(self.namespace)
        return self

    def __exit__(self, *exc: Any) -> None:
        get_registry().pop_context()

    def __call__(self, fn: Callable) -> Callable:
        """Run ``fn`` inside this registration context (used as a decorator)."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper


class MappedRegistrable(Registrable, should_register=False):
    """A registrable built right away from a mapping of keyword arguments.

    Unlike a :class:`~flambe.compile.Component`, loading it creates the
    instance at once (no Schema, no links). It dumps back as the mapping it
    was built from.
    """

    @classmethod
    def from_yaml(cls, constructor: Any, node: Any, factory_name: str | None) -> Any:
        """Build the instance right away from the node's mapping of keyword arguments."""
        location = constructor.location(node)
        if getattr(cls, "__abstractmethods__", None):
            raise ConfigError(
                f"{cls.__qualname__} is abstract and cannot be built",
                location,
                hint="use a concrete subclass",
            )
        kwargs = constructor.construct_keywords(node, cls)
        build = getattr(cls, factory_name) if factory_name else cls
        try:
            instance: Any = build(**kwargs)
        except TypeError as exc:
            raise ArgumentError(f"cannot build {cls.__qualname__}: {exc}", location) from exc
        instance._saved_kwargs = kwargs
        return instance

    @classmethod
    def to_yaml(cls, representer: Any, node: Any, tag: str) -> Any:
        """Represent ``node`` as the mapping of keyword arguments it was built with."""
        return representer.represent_mapping(tag, getattr(node, "_saved_kwargs", {}))
