"""The tag registry: which class a ``!Tag`` names, and which tag a class dumps with.

Tags come from two places, both feeding this one registry:

* classes that register themselves when they are defined (every
  :class:`~flambe.compile.registrable.Registrable` subclass, ``@alias``,
  :func:`~flambe.compile.registrable.register`), under the namespace of
  their top-level package (``!my_ext.MyClass``) unless that package is
  ``flambe``, ``tests`` or ``__main__``;
* plugins, which declare ``tag -> "module:Class"`` strings and tag
  namespaces (``torch.``, ``ray.``) through hooks; the class is imported
  the first time a config uses its tag.

A class registered by user code wins over a plugin declaration of the same
name. Classes that are not Flambé components (``torch.nn.Linear``) are
wrapped in a component subclass when a tag resolves to them.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import importlib
import inspect
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flambe.compile import bases
from flambe.errors import (
    FlambeError,
    PluginError,
    RegistrationError,
    SourceLocation,
    UnknownTagError,
)

logger = logging.getLogger(__name__)

ANONYMOUS_NAMESPACES = frozenset({"flambe", "tests", "__main__"})


@dataclass(frozen=True)
class ResolvedTag:
    """The outcome of looking up a tag.

    Parameters
    ----------
    cls : type
        The class to build (a registrable class).
    factory : str, optional
        The factory method named after the class tag (``!Cls.factory``).
    tag : str
        The tag as written, with its ``!``.

    """

    cls: type[Any]
    factory: str | None
    tag: str


def _own_factories(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(vars(klass).get("_flambe_own_factories", ()))
    return names


class Registry:
    """Maps tags to classes and classes to their tags.

    Parameters
    ----------
    host_provider : callable, optional
        Returns the :class:`~flambe.plugins.manager.PluginHost` whose plugin
        declarations complete the registry; defaults to the process host.

    """

    def __init__(self, host_provider: Callable[[], Any] | None = None) -> None:
        self._host_provider = host_provider
        self._by_tag: dict[str, type] = {}
        self._tags_of: dict[type, list[str]] = {}
        self._namespace_of: dict[type, str | None] = {}
        self._module_namespaces: set[str] = set()
        self._wrappers: dict[type, type] = {}
        self._contexts: list[str] = []
        self._lock = threading.RLock()

    # -- plugin host ------------------------------------------------------
    def host(self) -> Any:
        """Return the plugin host whose tag declarations complete this registry."""
        if self._host_provider is not None:
            return self._host_provider()
        from flambe.plugins.manager import get_host

        return get_host()

    # -- registration -----------------------------------------------------
    def push_context(self, namespace: str) -> None:
        """Register classes defined from now on in ``namespace`` (until :meth:`pop_context`)."""
        self._contexts.append(namespace)

    def pop_context(self) -> None:
        """End the innermost namespace set by :meth:`push_context`."""
        self._contexts.pop()

    def namespace_for(self, cls: type, explicit: str | None = None) -> str | None:
        """The namespace a class registers under (context, explicit, module, none)."""
        if self._contexts:
            return self._contexts[-1]
        if explicit is not None:
            return explicit or None
        top = (cls.__module__ or "").split(".", 1)[0]
        return None if top in ANONYMOUS_NAMESPACES or not top else top

    def register(self, cls: type, tag: str, namespace: str | None = None) -> str | None:
        """Register ``tag`` (without ``!``) for ``cls``; returns the full tag name.

        Registering a class under a second, different namespace warns and does nothing.
        """
        with self._lock:
            ns = self.namespace_for(cls, namespace)
            if cls in self._namespace_of and self._namespace_of[cls] != ns:
                logger.warning(
                    "%s is registered in namespace %r already; ignoring tag %r in namespace %r",
                    cls.__qualname__,
                    self._namespace_of[cls],
                    tag,
                    ns,
                )
                return None
            self._namespace_of[cls] = ns
            full = f"{ns}.{tag}" if ns else tag
            previous = self._by_tag.get(full)
            if previous is not None and previous is not cls and not _same_definition(previous, cls):
                logger.debug("tag !%s now names %s (was %s)", full, cls, previous)
            self._by_tag[full] = cls
            tags = self._tags_of.setdefault(cls, [])
            if full in tags:
                tags.remove(full)
            tags.append(full)
            return full

    def add_module_namespace(self, module_name: str) -> None:
        """Let ``!module_name.Name`` resolve to attribute ``Name`` of that module (extensions)."""
        self._module_namespaces.add(module_name)

    # -- lookup -------------------------------------------------------------
    def tags_of(self, cls: type) -> list[str]:
        """Tags registered for ``cls`` itself, oldest first."""
        return list(self._tags_of.get(cls, ()))

    def factories(self, cls: type) -> set[str]:
        """Factory method names usable as ``!Cls.name``: declared on ``cls`` or its bases."""
        return _own_factories(cls)

    def default_tag(self, cls: type, factory: str | None = None) -> str:
        """The tag (with ``!``) ``cls`` dumps with: the last one it registered.

        Raises
        ------
        RegistrationError
            When the class has no tag, or ``factory`` is not one of its factories.

        """
        tags = self._tags_of.get(cls)
        if not tags:
            tag = self._plugin_tag_for(cls)
            if tag is None:
                raise RegistrationError(
                    f"class {cls.__module__}.{cls.__qualname__} has no YAML tag",
                    hint="subclass flambe.compile.Component (or Registrable), or declare the class "
                    "in a plugin's flambe_tags hook",
                )
        else:
            tag = tags[-1]
        if factory is not None:
            if factory not in self.factories(cls) and not self._is_wrapper_factory(cls, factory):
                raise RegistrationError(
                    f"{cls.__qualname__} has no registered factory {factory!r}",
                    hint="mark the classmethod with @registrable_factory",
                )
            tag = f"{tag}.{factory}"
        return "!" + tag

    def _plugin_tag_for(self, cls: type) -> str | None:
        path = f"{cls.__module__}:{cls.__qualname__}"
        try:
            declared = self.host().tags()
        except Exception:  # listing must not fail because of an unrelated plugin
            return None
        for name, target in declared.items():
            if target.import_path == path:
                return name
        return None

    def _is_wrapper_factory(self, cls: type, name: str) -> bool:
        """Tell whether ``name`` is a classmethod of a wrapped third-party class.

        Those work as factories: ``!torch.Embedding.from_pretrained``.
        """
        if not getattr(cls, "_flambe_dynamic", False):
            return False
        for klass in cls.__mro__[1:]:
            attr = vars(klass).get(name)
            if isinstance(attr, (classmethod, staticmethod)):
                return True
        return False

    def resolve(self, tag: str, location: SourceLocation | None = None) -> ResolvedTag:
        """Find the class a tag names (``!Cls``, ``!ns.Cls``, ``!Cls.factory``).

        Raises
        ------
        UnknownTagError
            With the closest registered names, and the distribution to
            install when the tag belongs to one that is not installed.

        """
        name = tag[1:] if tag.startswith("!") else tag
        cls = self._lookup(name)
        if cls is not None:
            return ResolvedTag(cls, None, tag)
        if "." in name:
            head, factory = name.rsplit(".", 1)
            head_cls = self._lookup(head)
            if head_cls is not None and (
                factory in self.factories(head_cls) or self._is_wrapper_factory(head_cls, factory)
            ):
                return ResolvedTag(head_cls, factory, tag)
            if head_cls is not None:
                raise UnknownTagError(
                    f"unknown tag '{tag}': {head_cls.__qualname__} has no factory {factory!r}",
                    location,
                    hint=_factory_hint(head_cls, self.factories(head_cls)),
                )
        raise self.unknown(tag, location)

    def _lookup(self, name: str) -> type | None:
        cls = self._by_tag.get(name)
        if cls is not None:
            return cls
        host = self.host()
        target = host.tags().get(name)
        if target is not None:
            return self._import_target(name, target)
        if "." in name:
            prefix, rest = name.split(".", 1)
            ns = host.namespaces().get(prefix)
            if ns is not None:
                from flambe.plugins.manager import import_object

                try:
                    resolver = import_object(ns.import_path)
                except Exception as exc:
                    raise PluginError(
                        f"tag namespace '{prefix}.' of plugin {ns.plugin!r} ({ns.distribution}) "
                        f"failed to load: {type(exc).__name__}: {exc}"
                    ) from exc
                found = resolver(rest)
                if found is not None:
                    return self._as_registrable(found, name)
            if prefix in self._module_namespaces and (
                not _RESTRICTED.get() or prefix in sys.modules
            ):
                try:
                    module = importlib.import_module(prefix)
                except ModuleNotFoundError as exc:
                    if exc.name != prefix:
                        raise
                    return None  # a missing extension: reported as an unknown tag
                found = _getattr_path(module, rest)
                if inspect.isclass(found):
                    return self._as_registrable(found, name)
        return None

    def _import_target(self, name: str, target: Any) -> type:
        from flambe.plugins.manager import import_object

        try:
            found = import_object(target.import_path)
        except Exception as exc:
            raise PluginError(
                f"tag '!{name}' of plugin {target.plugin!r} ({target.distribution}) could not be "
                f"imported from {target.import_path}: {type(exc).__name__}: {exc}",
                hint=f"reinstall {target.distribution}, or check its dependencies",
            ) from exc
        return self._as_registrable(found, name)

    def _as_registrable(self, found: Any, name: str) -> type:
        if not inspect.isclass(found):
            raise PluginError(f"tag '!{name}' points to {found!r}, which is not a class")
        if bases.is_registrable_class(found) or self._tags_of.get(found):
            with self._lock:
                self._by_tag.setdefault(name, found)
            return found
        with self._lock:
            wrapper = self._wrappers.get(found)
            if wrapper is None:
                wrapper = _wrap(found)
                self._wrappers[found] = wrapper
            self._by_tag[name] = wrapper
            tags = self._tags_of.setdefault(wrapper, [])
            if name not in tags:
                tags.append(name)
            return wrapper

    def unknown(self, tag: str, location: SourceLocation | None = None) -> FlambeError:
        """The error for a tag nobody declares, with suggestions.

        When a plugin is to blame (it failed to load, or it and another
        claim the tag) the error says which distribution and why instead.
        """
        from flambe.plugins.known import distribution_for_tag

        name = tag[1:] if tag.startswith("!") else tag
        problem = self.host().tag_problem(name)
        if problem is not None:
            return problem.at(location)
        dist = distribution_for_tag(name)
        hint_parts = []
        if dist is not None:
            installed = {r.distribution for r in self.host().records}
            if dist not in installed:
                hint_parts.append(f"'!{name}' is provided by {dist}: pip install {dist}")
            else:
                failed = [r for r in self.host().failures() if r.distribution == dist]
                if failed:
                    return UnknownTagError(
                        f"unknown tag '!{name}': it comes from {dist}, which is installed but "
                        f"failed to load: {failed[0].error}",
                        location,
                        hint=f"fix or reinstall {dist}; 'flambe plugins' lists every plugin "
                        "and its error",
                    )
        close = difflib.get_close_matches(name, list(self.known_names()), n=3, cutoff=0.6)
        if close:
            hint_parts.append("did you mean " + ", ".join(f"'!{c}'" for c in close) + "?")
        if not hint_parts:
            hint_parts.append(
                "check the spelling, install the plugin that provides it, or "
                "declare the extension module in the config header (`my_ext: path`, "
                "then `---`)"
            )
        broken = self.host().failures()
        if broken:
            hint_parts.append(
                "(plugins that failed to load: "
                + "; ".join(f"{r.name!r} of {r.distribution}: {r.error}" for r in broken)
                + "; see 'flambe plugins')"
            )
        return UnknownTagError(f"unknown tag '!{name}'", location, hint=" ".join(hint_parts))

    def known_names(self) -> Iterator[str]:
        """Every tag name currently known (registered classes and plugin declarations)."""
        yield from list(self._by_tag)
        try:
            yield from self.host().tags()
        except Exception:
            return


def _getattr_path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _same_definition(a: type, b: type) -> bool:
    return a.__module__ == b.__module__ and a.__qualname__ == b.__qualname__


def _factory_hint(cls: type, factories: set[str]) -> str:
    if factories:
        return "available factories: " + ", ".join(sorted(factories))
    return (
        f"{cls.__qualname__} declares no factories (mark a classmethod with @registrable_factory)"
    )


_RESTRICTED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "flambe_restricted_tags", default=False
)


@contextlib.contextmanager
def restricted() -> Iterator[None]:
    """Resolve tags without importing anything new (``flambe.load(weights_only=True)``).

    Inside the block a tag resolves only to a class registered in this
    process already or declared by an installed plugin; a tag of an
    extension module (``!my_ext.Class``) resolves only when the caller has
    imported ``my_ext`` itself. No module named by the configuration is imported.
    """
    token = _RESTRICTED.set(True)
    try:
        yield
    finally:
        _RESTRICTED.reset(token)


_registry: Registry | None = None
_registry_lock = threading.Lock()
# where the component wrappers of other classes come from: found by name, as pickle finds
# a wrapper (this module is below the component layer and does not import it)
WRAPPERS = "flambe.compile.wrapped:wrapper_of"


def _wrap(cls: type) -> type:
    """Return the component wrapper of ``cls`` (a class that is not a component)."""
    from flambe.plugins.manager import import_object

    wrapper_of = import_object(WRAPPERS)
    return wrapper_of(cls)


def get_registry() -> Registry:
    """The tag registry of this process."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = Registry()
        return _registry
