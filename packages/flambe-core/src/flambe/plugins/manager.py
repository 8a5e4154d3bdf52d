"""Building the plugin manager, and the typed facade Flambé calls it through.

:func:`create_plugin_manager` builds a fresh ``pluggy.PluginManager``: the
built-in plugin of flambe-core first (by module path), then every entry
point of the ``flambe.plugins`` group, then ``check_pending()``. A plugin
whose module fails to import is recorded with its error and skipped, so one
broken plugin never breaks unrelated commands.

:class:`PluginHost` wraps the manager with typed methods (tags, namespaces,
commands, storage backends, remote execution, events); the rest of Flambé
never calls ``pm.hook`` directly. :func:`get_host` returns the host of the
current process, built on first use; :func:`reset_host` drops it (tests).

Environment variables
---------------------
``FLAMBE_DISABLE_PLUGIN_AUTOLOAD=1``
    Load only the built-in plugin, no entry points.
``FLAMBE_BLOCK_PLUGINS=name,name``
    Skip the entry points with these names.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import pluggy

from flambe.errors import DuplicateTagError, PluginError
from flambe.plugins import ENTRY_POINT_GROUP, PROJECT_NAME, hookspecs
from flambe.plugins.types import ClusterRequest, LazyCommand
from flambe.utils.gcpause import paused_gc, without_gc

BUILTIN_PLUGINS: Tuple[Tuple[str, str], ...] = (("core", "flambe.plugins.builtin"),)
CORE_DISTRIBUTION = "flambe-core"
DISABLE_AUTOLOAD_ENV = "FLAMBE_DISABLE_PLUGIN_AUTOLOAD"
BLOCK_ENV = "FLAMBE_BLOCK_PLUGINS"


@dataclass
class PluginRecord:
    """One plugin known to the host, loaded or failed.

    Parameters
    ----------
    name : str
        The entry point name (``core`` for the built-in plugin).
    module : str
        The plugin module's import path.
    distribution : str
        The distribution that provides it.
    version : str
        That distribution's version.
    error : str, optional
        Why the plugin could not be loaded; ``None`` when it loaded.

    """

    name: str
    module: str
    distribution: str
    version: str
    error: Optional[str] = None
    hooks: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class TagTarget:
    """Where a tag declared by a plugin points, and who declared it."""

    import_path: str
    plugin: str
    distribution: str


def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _blocked_names() -> set:
    return {n.strip() for n in os.environ.get(BLOCK_ENV, "").split(",") if n.strip()}


def plugin_entry_points() -> List[metadata.EntryPoint]:
    """The entry points of the ``flambe.plugins`` group.

    Same as ``entry_points(group=...)``, but only the distributions that
    mention the group have their entry points parsed: this runs on every
    ``flambe`` command and config load.
    """
    found: List[metadata.EntryPoint] = []
    seen: set = set()
    marker = f"[{ENTRY_POINT_GROUP}]"
    for dist in metadata.distributions():
        text = dist.read_text("entry_points.txt")
        if not text or marker not in text:
            continue
        name = dist.metadata["Name"]
        if name in seen:  # the first one on sys.path wins, as for imports
            continue
        seen.add(name)
        found.extend(ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP)
    return found


@without_gc
def create_plugin_manager(autoload: Optional[bool] = None,
                          extra_plugins: Iterable[Tuple[str, Any]] = ()
                          ) -> Tuple[pluggy.PluginManager, List[PluginRecord]]:
    """Build a plugin manager: built-ins, then entry points, then ``check_pending``.

    Parameters
    ----------
    autoload : bool, optional
        Load entry points; defaults to true unless
        ``FLAMBE_DISABLE_PLUGIN_AUTOLOAD`` is set.
    extra_plugins : iterable of (name, plugin)
        Plugin objects or modules to register after the entry points (tests).

    Returns
    -------
    (PluginManager, list of PluginRecord)
        The manager and one record per plugin, failed ones included.

    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    records: List[PluginRecord] = []
    core_version = _distribution_version(CORE_DISTRIBUTION)
    for name, module_path in BUILTIN_PLUGINS:
        module = importlib.import_module(module_path)
        pm.register(module, name=name)
        records.append(PluginRecord(name, module_path, CORE_DISTRIBUTION, core_version))

    if autoload is None:
        autoload = not os.environ.get(DISABLE_AUTOLOAD_ENV)
    if autoload:
        blocked = _blocked_names()
        seen = {r.name for r in records}
        for ep in sorted(plugin_entry_points(), key=lambda e: e.name):
            if ep.name in blocked or ep.name in seen:
                continue
            seen.add(ep.name)
            dist = ep.dist.name if ep.dist is not None else "unknown"
            version = ep.dist.version if ep.dist is not None else "unknown"
            record = PluginRecord(ep.name, ep.value, dist, version)
            records.append(record)
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin must not break the others
                record.error = f"{type(exc).__name__}: {exc}"
    for name, plugin in extra_plugins:
        pm.register(plugin, name=name)
        module = getattr(plugin, "__name__", type(plugin).__name__)
        records.append(PluginRecord(name, module, "unknown", "unknown"))
    pm.check_pending()
    for record in records:
        plugin = pm.get_plugin(record.name)
        if plugin is not None:
            record.hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
    return pm, records


class PluginHost:
    """Typed access to the plugins of one process.

    Parameters
    ----------
    pm : pluggy.PluginManager
        A manager made by :func:`create_plugin_manager`.
    records : list of PluginRecord
        The plugins it knows, failed ones included.

    """

    def __init__(self, pm: pluggy.PluginManager, records: List[PluginRecord]) -> None:
        self.pm = pm
        self.records = records
        self._tags: Optional[Dict[str, TagTarget]] = None
        self._namespaces: Optional[Dict[str, TagTarget]] = None
        self._lock = threading.RLock()

    # -- plugins ------------------------------------------------------------
    def record(self, name: str) -> Optional[PluginRecord]:
        """The record of the plugin registered under ``name``."""
        return next((r for r in self.records if r.name == name), None)

    def failures(self) -> List[PluginRecord]:
        """Plugins that could not be loaded."""
        return [r for r in self.records if r.error]

    def _per_plugin(self, hook_name: str) -> List[Tuple[PluginRecord, Any]]:
        """Call a registration hook on each plugin separately, keeping who said what."""
        results = []
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):  # registration order
            record = self.record(impl.plugin_name) or PluginRecord(
                impl.plugin_name, "?", "unknown", "unknown")
            try:
                value = impl.function()
            except Exception as exc:
                raise PluginError(
                    f"plugin {record.name!r} ({record.distribution}) failed in {hook_name}: "
                    f"{type(exc).__name__}: {exc}") from exc
            if value:
                results.append((record, value))
        return results

    def declarations(self, hook_name: str) -> List[Tuple[PluginRecord, Any]]:
        """What each plugin returned from a registration hook, in registration order."""
        return self._per_plugin(hook_name)

    # -- tags ---------------------------------------------------------------
    def tags(self) -> Dict[str, TagTarget]:
        """Every tag declared by a plugin; raises on a tag claimed twice."""
        with self._lock, paused_gc():
            if self._tags is None:
                self._tags = self._collect("flambe_tags", "tag")
            return self._tags

    def namespaces(self) -> Dict[str, TagTarget]:
        """Every tag namespace declared by a plugin (prefix -> resolver)."""
        with self._lock:
            if self._namespaces is None:
                self._namespaces = self._collect("flambe_tag_namespaces", "tag namespace")
            return self._namespaces

    def _collect(self, hook_name: str, what: str) -> Dict[str, TagTarget]:
        table: Dict[str, TagTarget] = {}
        for record, mapping in self._per_plugin(hook_name):
            for name, path in mapping.items():
                name = name.lstrip("!")
                old = table.get(name)
                if old is not None and old.import_path != path:
                    raise DuplicateTagError(
                        f"{what} '!{name}' is claimed by two plugins: "
                        f"{old.plugin!r} from {old.distribution} ({old.import_path}) and "
                        f"{record.name!r} from {record.distribution} ({path})",
                        hint="uninstall one of the two distributions, or block one with "
                             f"{BLOCK_ENV}=<plugin name>")
                table[name] = TagTarget(path, record.name, record.distribution)
        return table

    # -- commands and storage -----------------------------------------------
    def commands(self) -> Dict[str, Tuple[LazyCommand, PluginRecord]]:
        """Subcommands added by plugins, with the plugin that added each."""
        found: Dict[str, Tuple[LazyCommand, PluginRecord]] = {}
        for record, mapping in self._per_plugin("flambe_cli_commands"):
            for name, command in mapping.items():
                if name in found:
                    other = found[name][1]
                    raise PluginError(
                        f"command 'flambe {name}' is added by two plugins: {other.name!r} "
                        f"({other.distribution}) and {record.name!r} ({record.distribution})")
                found[name] = (command, record)
        return found

    def storage_backends(self) -> Dict[str, TagTarget]:
        """URL scheme -> backend declared by a plugin."""
        return self._collect("flambe_storage_backends", "storage scheme")

    # -- remote execution and events ------------------------------------------
    def run_on_cluster(self, request: ClusterRequest) -> Optional[int]:
        """Hand a cluster run to the first plugin that takes it (``None``: nobody did)."""
        return self.pm.hook.flambe_run_on_cluster(request=request)

    def emit(self, event: str, **payload: Any) -> None:
        """Fire an experiment event hook (``experiment_started``, ``trial_result``...)."""
        getattr(self.pm.hook, f"flambe_{event}")(**payload)


_host: Optional[PluginHost] = None
_host_lock = threading.Lock()


def get_host() -> PluginHost:
    """The plugin host of this process, built on first use."""
    global _host
    with _host_lock:
        if _host is None:
            _host = PluginHost(*create_plugin_manager())
        return _host


def set_host(host: Optional[PluginHost]) -> Optional[PluginHost]:
    """Replace the process host (``None`` drops it); returns the previous one."""
    global _host
    with _host_lock:
        previous, _host = _host, host
        return previous


def reset_host() -> None:
    """Forget the process host; the next :func:`get_host` builds a new one."""
    set_host(None)


def import_object(path: str) -> Any:
    """Import ``"module:attr.attr"`` and return the object."""
    module_name, _, attrs = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for attr in filter(None, attrs.split(".")):
        obj = getattr(obj, attr)
    return obj


def declared_tags(host: Optional[PluginHost] = None) -> Mapping[str, TagTarget]:
    """Tags declared by the plugins of ``host`` (the process host by default)."""
    return (host or get_host()).tags()
