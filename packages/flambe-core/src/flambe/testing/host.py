"""An isolated plugin host: core's built-in plugin and the given plugins, nothing installed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flambe.compile.registry import Registry, get_registry
from flambe.errors import FlambeError
from flambe.plugins.manager import PluginHost, create_plugin_manager, set_host


class PluginLoadError(FlambeError):
    """A plugin given to :func:`isolated_host` failed to load, or claims a name taken."""


def _plugin_name(plugin: object) -> str:
    """The name a plugin object is registered under: its module's last part, or its class."""
    name = getattr(plugin, "__name__", None)
    if isinstance(name, str):
        return name.rsplit(".", 1)[-1]
    return type(plugin).__name__


@contextmanager
def isolated_host(*plugins: object, check: bool = True, **named: object) -> Iterator[PluginHost]:
    """Make a plugin host with only ``plugins`` the process host while the block runs.

    The host knows flambe-core's built-in plugin and the plugins given, and
    loads no entry point: the distributions installed in the environment
    are left out, so a test sees its plugin alone. On leaving the block the
    previous host is put back, and the tag registry forgets the tags it
    resolved through the plugins (declared tags and their namespaces' tags;
    their modules stay imported).

    Parameters
    ----------
    *plugins : module or object
        Plugin modules (``flambe_hello.plugin``) or objects with
        ``@hookimpl`` methods, registered under their module's last name
        part (``plugin``) or class name.
    check : bool
        Raise :class:`PluginLoadError` when a plugin fails to load (a
        misspelled hook, a hook that raises or returns a malformed
        declaration) or claims a name another plugin has (default true).
    **named : module or object
        More plugins, registered under the keyword's name.

    Yields
    ------
    PluginHost
        The host, also returned by ``flambe.plugins.manager.get_host()``
        inside the block.

    Raises
    ------
    PluginLoadError
        With ``check``, naming each failed plugin and its error.

    Examples
    --------
    >>> import flambe_hello.plugin
    >>> with isolated_host(hello=flambe_hello.plugin) as host:
    ...     assert "hello.Greeter" in host.tags()

    """
    extra = [(_plugin_name(p), p) for p in plugins] + list(named.items())
    host = PluginHost(*create_plugin_manager(autoload=False, extra_plugins=extra))
    if check:
        problems = [f"plugin {r.name!r} failed to load: {r.error}" for r in host.failures()]
        problems += [conflict.message for conflict in host.conflicts()]
        if problems:
            raise PluginLoadError(
                "; ".join(problems), hint="'flambe plugins' explains each problem too"
            )
    registry = get_registry()
    known = set(registry._by_tag)
    previous = set_host(host)
    try:
        yield host
    finally:
        set_host(previous)
        _forget_tags(registry, known, host)


def _forget_tags(registry: Registry, known: set[str], host: PluginHost) -> None:
    """Drop the tags the registry learnt through the plugins of ``host`` (core's stay)."""
    declared = {name for name, target in host.tags().items() if target.plugin != "core"}
    prefixes = {name for name, target in host.namespaces().items() if target.plugin != "core"}
    with registry._lock:  # the registry has no public way to forget a tag
        for tag in set(registry._by_tag) - known:
            if tag in declared or tag.split(".", 1)[0] in prefixes:
                del registry._by_tag[tag]
