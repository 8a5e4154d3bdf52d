"""Building the plugin manager, and the typed facade Flambé calls it through.

:func:`create_plugin_manager` builds a fresh ``pluggy.PluginManager``: the
built-in plugin of flambe-core first (by module path), then every entry
point of the ``flambe.plugins`` group, then ``check_pending()``. A plugin
whose module fails to import is recorded with its error and skipped, so one
broken plugin never breaks unrelated commands.

:class:`PluginHost` wraps the manager with typed methods (tags, namespaces,
commands, storage backends, remote execution, one method per experiment
event, subscribers); the rest of Flambé never calls ``pm.hook`` or
``pm.register`` directly. :func:`get_host` returns the host of the
current process, built on first use; :func:`reset_host` drops it (tests).

Environment variables
---------------------
``FLAMBE_DISABLE_PLUGIN_AUTOLOAD=1``
    Load only the built-in plugin, no entry points.
``FLAMBE_BLOCK_PLUGINS=name,name``
    Skip the entry points with these names.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from flambe.errors import DuplicateTagError, FlambeError, UnknownTagError
from flambe.plugins import ENTRY_POINT_GROUP, PROJECT_NAME, hookspecs
from flambe.plugins.types import ClusterRequest, LazyCommand
from flambe.utils.gcpause import paused_gc, without_gc

if TYPE_CHECKING:  # pragma: no cover - types only
    from flambe.experiment.experiment import Experiment
    from flambe.plugins.types import ExperimentStatus, StageStatus

BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (("core", "flambe.plugins.builtin"),)
CORE_DISTRIBUTION = "flambe-core"
DISABLE_AUTOLOAD_ENV = "FLAMBE_DISABLE_PLUGIN_AUTOLOAD"
BLOCK_ENV = "FLAMBE_BLOCK_PLUGINS"

logger = logging.getLogger(__name__)


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
    error: str | None = None
    hooks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TagTarget:
    """Where a tag declared by a plugin points, and who declared it."""

    import_path: str
    plugin: str
    distribution: str


# hooks that return registrations; called once per host, checked by check_declaration
REGISTRATION_HOOKS: tuple[str, ...] = (
    "flambe_tags",
    "flambe_tag_namespaces",
    "flambe_cli_commands",
    "flambe_storage_backends",
    "flambe_search_algorithms",
    "flambe_experiment_executors",
)
_IDENT = r"[A-Za-z_]\w*"
_IMPORT_PATH = re.compile(rf"{_IDENT}(\.{_IDENT})*:{_IDENT}(\.{_IDENT})*")
_TAG_NAME = re.compile(r"[^\s!:\[\]{},#&*|>'\"%@`]+|@|\$")
_PREFIX = re.compile(_IDENT)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


def check_declaration(hook_name: str, value: Any) -> str | None:
    """Say what is wrong with a registration hook's return value (``None``: nothing).

    Tags map a name (no spaces, an optional leading ``!``) to
    ``"module:attribute"``; namespaces map an identifier to
    ``"module:function"``; storage backends map a lower-case URL scheme to
    ``"module:Class"``; commands map a name to a
    :class:`~flambe.plugins.types.LazyCommand`.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return f"a {type(value).__name__}, not a mapping of names to declarations"
    for name, target in value.items():
        if not isinstance(name, str):
            return f"the name {name!r} is a {type(name).__name__}, not a string"
        if hook_name == "flambe_cli_commands":
            if not isinstance(target, LazyCommand) or not _IMPORT_PATH.fullmatch(
                str(target.import_path)
            ):
                return (
                    f"command {name!r}: {target!r} is not a LazyCommand('module:attribute', 'help')"
                )
            if not name or any(c.isspace() for c in name):
                return f"command name {name!r} is empty or holds spaces"
            continue
        if hook_name == "flambe_tags" and not _TAG_NAME.fullmatch(name.lstrip("!")):
            return f"tag name {name!r} is not a valid YAML tag name (no spaces or brackets)"
        if hook_name == "flambe_tag_namespaces" and not _PREFIX.fullmatch(name):
            return f"namespace {name!r} is not an identifier (no dots)"
        if hook_name == "flambe_storage_backends" and not _SCHEME.fullmatch(name):
            return f"scheme {name!r} is not a lower-case URL scheme"
        if not isinstance(target, str) or not _IMPORT_PATH.fullmatch(target):
            return f"{name!r}: {target!r} is not an import path 'module:attribute'"
    return None


def _count(items: list[Any]) -> str:
    return "two" if len(items) == 2 else str(len(items))


def _plugin_names(record: PluginRecord) -> set[str]:
    """Names a user may know a plugin by: entry point, distribution, its short form, module."""
    dist = record.distribution.lower().replace("_", "-")
    names = {record.name.lower(), dist, dist.replace("-", "_")}
    if dist.startswith("flambe-"):
        names.add(dist[len("flambe-") :])
    top = record.module.split(":", 1)[0].split(".", 1)[0].lower()
    names.add(top)
    if top.startswith("flambe_"):
        names.add(top[len("flambe_") :])
    return names


def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _blocked_names() -> set[str]:
    return {n.strip() for n in os.environ.get(BLOCK_ENV, "").split(",") if n.strip()}


def plugin_entry_points() -> list[metadata.EntryPoint]:
    """The entry points of the ``flambe.plugins`` group.

    Same as ``entry_points(group=...)``, but only the distributions that
    mention the group have their entry points parsed: this runs on every
    ``flambe`` command and config load.
    """
    found: list[metadata.EntryPoint] = []
    seen: set[str] = set()
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


def _register(pm: pluggy.PluginManager, record: PluginRecord, plugin: Any) -> None:
    """Register one plugin; on any problem record why and leave it out.

    Problems are: pluggy refusing the plugin (a hook implementation whose
    arguments do not match its specification) and a hook implementation
    whose name matches no specification (a misspelled hook).
    """
    try:
        pm.register(plugin, name=record.name)
    except Exception as exc:
        record.error = f"{type(exc).__name__}: {exc}"
        return
    unknown = [
        impl.function.__name__ if hasattr(impl.function, "__name__") else caller.name
        for caller in pm.get_hookcallers(plugin) or []
        if not caller.has_spec()
        for impl in caller.get_hookimpls()
        if impl.plugin is plugin and not impl.optionalhook
    ]
    if unknown:
        pm.unregister(plugin)
        record.error = "; ".join(_unknown_hook_message(name) for name in sorted(set(unknown)))


def _unknown_hook_message(name: str) -> str:
    known = [n for n in dir(hookspecs) if n.startswith("flambe_")]
    close = difflib.get_close_matches(name, known, n=1)
    guess = f" (did you mean '{close[0]}'?)" if close else ""
    return (
        f"unknown hook '{name}'{guess}; the hooks are listed in docs/plugins.md "
        "and flambe.plugins.hookspecs"
    )


@without_gc
def create_plugin_manager(
    autoload: bool | None = None, extra_plugins: Iterable[tuple[str, Any]] = ()
) -> tuple[pluggy.PluginManager, list[PluginRecord]]:
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
    records: list[PluginRecord] = []
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
                plugin = ep.load()
            except (Exception, SystemExit) as exc:  # a broken plugin must not break the others
                record.error = f"{type(exc).__name__}: {exc}"
                continue
            _register(pm, record, plugin)
    for name, plugin in extra_plugins:
        module_name = str(getattr(plugin, "__name__", type(plugin).__name__))
        record = PluginRecord(name, module_name, "unknown", "unknown")
        records.append(record)
        _register(pm, record, plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:  # pragma: no cover - _register checks each plugin
        logger.warning("plugin check failed: %s", exc)
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

    def __init__(self, pm: pluggy.PluginManager, records: list[PluginRecord]) -> None:
        self.pm = pm
        self.records = records
        self._tags: dict[str, TagTarget] | None = None
        self._namespaces: dict[str, TagTarget] | None = None
        self._storage: dict[str, TagTarget] | None = None
        self._commands: dict[str, tuple[LazyCommand, PluginRecord]] | None = None
        self._declared: list[tuple[PluginRecord, dict[str, Any]]] | None = None
        self._conflicts: dict[tuple[str, str], DuplicateTagError] = {}
        self._failed_tags: dict[str, PluginRecord] = {}
        self._failed_namespaces: dict[str, PluginRecord] = {}
        self._lock = threading.RLock()

    # -- plugins ------------------------------------------------------------
    def record(self, name: str) -> PluginRecord | None:
        """The record of the plugin registered under ``name``."""
        return next((r for r in self.records if r.name == name), None)

    def failures(self) -> list[PluginRecord]:
        """Plugins that could not be loaded, or whose declarations are broken."""
        self._load_declarations()
        return [r for r in self.records if r.error]

    def _per_plugin(self, hook_name: str) -> list[tuple[PluginRecord, Any]]:
        """Return what each loaded plugin declared in a registration hook, in order."""
        return [
            (record, values[hook_name])
            for record, values in self._load_declarations()
            if values.get(hook_name)
        ]

    def _load_declarations(self) -> list[tuple[PluginRecord, dict[str, Any]]]:
        """Call every registration hook of every plugin once, and check what they return.

        A plugin whose registration hook raises or returns something malformed
        is marked failed (its record gets the error) and unregistered, so
        none of its declarations or event hooks is used; the names it
        declared are remembered to explain a config that uses them.
        """
        with self._lock:
            if self._declared is not None:
                return self._declared
            declared: list[tuple[PluginRecord, dict[str, Any]]] = []
            by_plugin: dict[str, dict[str, Any]] = {}
            order: list[str] = []
            for hook_name in REGISTRATION_HOOKS:
                caller = getattr(self.pm.hook, hook_name)
                for impl in reversed(caller.get_hookimpls()):  # registration order
                    if impl.plugin_name not in by_plugin:
                        by_plugin[impl.plugin_name] = {}
                        order.append(impl.plugin_name)
                    values = by_plugin[impl.plugin_name]
                    if "__error__" in values:
                        continue
                    try:
                        value = impl.function()
                    except Exception as exc:
                        values["__error__"] = f"{hook_name} raised {type(exc).__name__}: {exc}"
                        continue
                    problem = check_declaration(hook_name, value)
                    if problem:
                        values["__error__"] = f"{hook_name} returned a bad declaration: {problem}"
                        if isinstance(value, Mapping):
                            values[hook_name] = value
                        continue
                    values[hook_name] = dict(value or {})
            position = {r.name: i for i, r in enumerate(self.records)}
            order.sort(key=lambda n: position.get(n, len(position)))  # registration order
            for name in order:
                values = by_plugin[name]
                record = self.record(name) or PluginRecord(name, "?", "unknown", "unknown")
                error = values.pop("__error__", None)
                if error is None:
                    declared.append((record, values))
                    continue
                record.error = error
                plugin = self.pm.get_plugin(name)
                if plugin is not None:
                    self.pm.unregister(plugin)
                for tag in values.get("flambe_tags") or {}:
                    if isinstance(tag, str):
                        self._failed_tags.setdefault(tag.lstrip("!"), record)
                for prefix in values.get("flambe_tag_namespaces") or {}:
                    if isinstance(prefix, str):
                        self._failed_namespaces.setdefault(prefix, record)
            self._declared = declared
            return declared

    def declarations(self, hook_name: str) -> list[tuple[PluginRecord, Any]]:
        """What each plugin returned from a registration hook, in registration order."""
        return self._per_plugin(hook_name)

    # -- tags ---------------------------------------------------------------
    def tags(self) -> dict[str, TagTarget]:
        """Every tag declared by a plugin, less those two plugins claim (see :meth:`conflicts`)."""
        with self._lock, paused_gc():
            if self._tags is None:
                self._tags = self._collect("flambe_tags", "tag")
            return self._tags

    def namespaces(self) -> dict[str, TagTarget]:
        """Every tag namespace declared by a plugin (prefix -> resolver)."""
        with self._lock:
            if self._namespaces is None:
                self._namespaces = self._collect("flambe_tag_namespaces", "tag namespace")
            return self._namespaces

    def _collect(self, hook_name: str, what: str) -> dict[str, TagTarget]:
        table: dict[str, TagTarget] = {}
        clashes: dict[str, list[tuple[PluginRecord, str]]] = {}
        for record, mapping in self._per_plugin(hook_name):
            for name, path in mapping.items():
                name = name.lstrip("!")
                old = table.get(name)
                if name in clashes:
                    clashes[name].append((record, path))
                elif old is not None and old.import_path != path:
                    first = self.record(old.plugin) or PluginRecord(
                        old.plugin, "?", old.distribution, "unknown"
                    )
                    clashes[name] = [(first, old.import_path), (record, path)]
                else:
                    table[name] = TagTarget(path, record.name, record.distribution)
        for name, claims in clashes.items():
            del table[name]
            who = " and ".join(f"{r.name!r} from {r.distribution} ({path})" for r, path in claims)
            self._conflicts[(what, name)] = DuplicateTagError(
                f"{what} '!{name}' is claimed by {_count(claims)} plugins: {who}",
                hint="uninstall one of the distributions, or block one with "
                f"{BLOCK_ENV}=<plugin name>",
            )
        return table

    def conflicts(self) -> list[DuplicateTagError]:
        """Names claimed by two plugins (tags, namespaces, schemes, commands): unusable."""
        self.tags()
        self.namespaces()
        self.storage_backends()
        self.commands()
        return list(self._conflicts.values())

    def tag_problem(self, name: str) -> FlambeError | None:
        """Why a tag that no loaded plugin declares is missing, when a plugin is to blame.

        Returns the conflict error when two plugins claim ``name``, a
        :class:`~flambe.errors.UnknownTagError` naming the distribution and its
        error when ``name`` belongs to a plugin that failed (by its
        declarations, or by its namespace prefix, entry-point or
        distribution name), and ``None`` otherwise.
        """
        name = name.lstrip("!")
        self.tags()
        self.namespaces()
        conflict = self._conflicts.get(("tag", name))
        if conflict is None and "." in name:
            conflict = self._conflicts.get(("tag namespace", name.split(".", 1)[0]))
        if conflict is not None:  # a copy: the caller attaches its own location
            return DuplicateTagError(conflict.message, hint=conflict.hint)
        record = self._failed_tags.get(name)
        if record is None and "." in name:
            prefix = name.split(".", 1)[0]
            record = self._failed_namespaces.get(prefix)
            if record is None:
                record = next(
                    (r for r in self.failures() if prefix.lower() in _plugin_names(r)), None
                )
        if record is None:
            return None
        return UnknownTagError(
            f"unknown tag '!{name}': it comes from plugin {record.name!r} of "
            f"{record.distribution}, which failed to load: {record.error}",
            hint=f"fix or reinstall {record.distribution} (pip install --force-reinstall "
            f"{record.distribution}); 'flambe plugins' lists every plugin and its error",
        )

    # -- commands and storage -----------------------------------------------
    def commands(self) -> dict[str, tuple[LazyCommand, PluginRecord]]:
        """Every subcommand, core's included, with the plugin that added each.

        Core declares its own (``run``, ``validate``...) through the same hook
        as any plugin, first. A name two plugins add is left out; a plugin
        adding one of core's names is left out and core's command kept. Both
        are reported by :meth:`conflicts`.
        """
        with self._lock:
            if self._commands is not None:
                return self._commands
            found: dict[str, tuple[LazyCommand, PluginRecord]] = {}
            clashes: dict[str, list[PluginRecord]] = {}
            for record, mapping in self._per_plugin("flambe_cli_commands"):
                for name, command in mapping.items():
                    if name in found and found[name][1].distribution == CORE_DISTRIBUTION:
                        self._conflicts[("command", name)] = DuplicateTagError(
                            f"command 'flambe {name}' of plugin {record.name!r} "
                            f"({record.distribution}) is a command of flambe-core: left out",
                            hint=f"rename the plugin's command, or block the plugin with "
                            f"{BLOCK_ENV}={record.name}",
                        )
                    elif name in clashes:
                        clashes[name].append(record)
                    elif name in found:
                        clashes[name] = [found[name][1], record]
                    else:
                        found[name] = (command, record)
            for name, records in clashes.items():
                del found[name]
                who = " and ".join(f"{r.name!r} ({r.distribution})" for r in records)
                self._conflicts[("command", name)] = DuplicateTagError(
                    f"command 'flambe {name}' is added by {_count(records)} plugins: {who}",
                    hint="uninstall one of the distributions, or block one with "
                    f"{BLOCK_ENV}=<plugin name>",
                )
            self._commands = found
            return found

    def storage_backends(self) -> dict[str, TagTarget]:
        """URL scheme -> backend declared by a plugin."""
        with self._lock:
            if self._storage is None:
                self._storage = self._collect("flambe_storage_backends", "storage scheme")
            return self._storage

    def executors(self) -> dict[str, TagTarget]:
        """Stage executor name -> class declared by a plugin (``executor: <name>``)."""
        with self._lock:
            return self._collect("flambe_experiment_executors", "executor")

    def search_algorithms(self) -> dict[str, TagTarget]:
        """Search algorithm name -> class declared by a plugin (``!search.<name>``)."""
        with self._lock:
            return self._collect("flambe_search_algorithms", "search algorithm")

    # -- remote execution and events ------------------------------------------
    def run_on_cluster(self, request: ClusterRequest) -> int | None:
        """Hand a cluster run to the first plugin that takes it (``None``: nobody did)."""
        self._load_declarations()  # leaves out plugins whose declarations are broken
        status: int | None = self.pm.hook.flambe_run_on_cluster(request=request)
        return status

    # -- experiment events: one typed method per hook of hookspecs --------------------
    def experiment_started(self, experiment: Experiment, output_path: str) -> None:
        """Tell every plugin that ``experiment`` starts (``flambe_experiment_started``)."""
        self._notify(self.pm.hook.flambe_experiment_started, experiment, output_path)

    def stage_started(
        self, experiment: Experiment, stage: str, variants: Sequence[Mapping[str, Any]]
    ) -> None:
        """Tell every plugin that a stage starts with these variants (``flambe_stage_started``)."""
        self._notify(self.pm.hook.flambe_stage_started, experiment, stage, variants)

    def trial_result(
        self, experiment: Experiment, stage: str, variant: str, result: Mapping[str, Any]
    ) -> None:
        """Tell every plugin that a variant finished a step (``flambe_trial_result``)."""
        self._notify(self.pm.hook.flambe_trial_result, experiment, stage, variant, result)

    def checkpoint_written(
        self, experiment: Experiment, stage: str, variant: str, path: str
    ) -> None:
        """Tell every plugin that a trial wrote a checkpoint (``flambe_checkpoint_written``)."""
        self._notify(self.pm.hook.flambe_checkpoint_written, experiment, stage, variant, path)

    def stage_finished(self, experiment: Experiment, stage: str, status: StageStatus) -> None:
        """Tell every plugin that a stage finished (``flambe_stage_finished``)."""
        self._notify(self.pm.hook.flambe_stage_finished, experiment, stage, status)

    def experiment_finished(
        self, experiment: Experiment, output_path: str, status: ExperimentStatus
    ) -> None:
        """Tell every plugin that ``experiment`` ended (``flambe_experiment_finished``)."""
        self._notify(self.pm.hook.flambe_experiment_finished, experiment, output_path, status)

    def _notify(self, caller: pluggy.HookCaller, *args: object) -> None:
        """Call an event hook with ``args`` (its arguments in order), each plugin on its own.

        A plugin that raises is logged as a warning naming its distribution,
        and the others are still called.
        """
        self._load_declarations()
        spec = caller.spec
        assert spec is not None, caller.name  # every event hook has a specification
        payload = dict(zip(spec.argnames, args, strict=True))
        impls = caller.get_hookimpls()
        if any(impl.hookwrapper or impl.wrapper for impl in impls):
            caller(**payload)  # wrappers need pluggy's own call loop
            return
        for impl in reversed(impls):  # pluggy's order: the last registered first
            try:
                impl.function(*[payload[arg] for arg in impl.argnames])
            except Exception as exc:
                record = self.record(impl.plugin_name)
                dist = record.distribution if record is not None else "unknown"
                logger.warning(
                    "plugin %r (%s) failed in %s: %s: %s",
                    impl.plugin_name,
                    dist,
                    caller.name,
                    type(exc).__name__,
                    exc,
                )

    # -- subscribers ------------------------------------------------------------------
    def subscribe(self, subscriber: object, name: str | None = None) -> str:
        """Register ``subscriber`` for the experiment events until :meth:`unsubscribe`.

        A subscriber is an object (or module) with ``@hookimpl`` methods named
        after event hooks (``flambe_trial_result``...), like a plugin that no
        distribution declares: the engine's progress record is one.

        Parameters
        ----------
        subscriber : object
            The object whose hook implementations are to be called.
        name : str, optional
            The name it is registered under (default: one made from its id).

        Returns
        -------
        str
            The name it was registered under.

        Raises
        ------
        ValueError
            When one of its hook implementations names no hook, or takes
            arguments its hook does not give.

        """
        name = name or f"subscriber-{type(subscriber).__name__}-{id(subscriber)}"
        try:
            self.pm.register(subscriber, name=name)
        except pluggy.PluginValidationError as exc:
            raise ValueError(f"subscriber {name!r}: {exc}") from exc
        unknown = [
            caller.name
            for caller in self.pm.get_hookcallers(subscriber) or []
            if not caller.has_spec()
        ]
        if unknown:
            self.pm.unregister(subscriber)
            raise ValueError(
                f"subscriber {name!r}: "
                + "; ".join(_unknown_hook_message(hook) for hook in sorted(set(unknown)))
            )
        return name

    def unsubscribe(self, subscriber: object) -> None:
        """Stop calling ``subscriber`` (one that is not subscribed is ignored)."""
        if self.pm.is_registered(subscriber):
            self.pm.unregister(subscriber)


_host: PluginHost | None = None
_host_lock = threading.Lock()


def get_host() -> PluginHost:
    """The plugin host of this process, built on first use."""
    global _host
    with _host_lock:
        if _host is None:
            _host = PluginHost(*create_plugin_manager())
        return _host


def set_host(host: PluginHost | None) -> PluginHost | None:
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


def declared_tags(host: PluginHost | None = None) -> Mapping[str, TagTarget]:
    """Tags declared by the plugins of ``host`` (the process host by default)."""
    return (host or get_host()).tags()
