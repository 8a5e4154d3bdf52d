"""The state of a component tree: ``get_state`` and ``load_state``.

A :class:`State` is a flat ordered mapping ``{"a.b.c": value}`` like a torch
``state_dict``, plus ``_metadata``: one dict per component (keyed by its
dotted path, ``''`` for the root) with its class, version, source and config.

:class:`StatefulMixin` gives every :class:`~flambe.compile.component.Component`
a recursive ``get_state``/``load_state``. The traversal is flambe's own:
``model.state_dict()`` of a component that is an ``nn.Module`` stays a pure
torch state dict (tensors only, loadable with ``strict=True``), while
``model.get_state()`` adds registered attributes, custom state and the
metadata needed to rebuild the object.

Class versions are checked at load, after ``_migrate_state`` had a chance
to upgrade old states: see :mod:`flambe.compile.versioning`.
"""

from __future__ import annotations

import csv
import functools
import inspect
import logging
import sys
from collections import OrderedDict
from collections.abc import Iterator
from importlib import metadata as importlib_metadata
from typing import Any, NamedTuple

from flambe.compile.versioning import (
    UNVERSIONED,
    VERSION_KEY,
    StateVersionWarning,
    check_version,
    class_source,
    parse_version,
)
from flambe.errors import LoadError

logger = logging.getLogger(__name__)

__all__ = [
    "State",
    "StatefulMixin",
    "LoadResult",
    "StateVersionWarning",
    "check_version",
    "parse_version",
    "class_source",
    "class_import_path",
    "distribution_of",
    "walk",
]

# -- keys of the metadata dicts ------------------------------------------------
STATE_DICT_DELIMETER = "."
FLAMBE_CLASS_KEY = "_flambe_class"
FLAMBE_MODULE_KEY = "_flambe_module"
FLAMBE_SOURCE_KEY = "_flambe_source"
FLAMBE_CONFIG_KEY = "_flambe_config"
FLAMBE_STASH_KEY = "_flambe_stash"
FLAMBE_PLUGINS_KEY = "_flambe_plugins"
FLAMBE_DIRECTORIES_KEY = "_flambe_directories"
KEEP_VARS_KEY = "keep_vars"
FLAMBE_METADATA_KEYS = (
    VERSION_KEY,
    FLAMBE_CLASS_KEY,
    FLAMBE_MODULE_KEY,
    FLAMBE_SOURCE_KEY,
    FLAMBE_CONFIG_KEY,
    FLAMBE_STASH_KEY,
    FLAMBE_PLUGINS_KEY,
)

# Instance attributes that are flambe bookkeeping, never state.
_SKIPPED_ATTRIBUTES = frozenset(
    {
        "_schema",
        "_saved_kwargs",
        "_created_with_tag",
        "_extensions",
        "_flambe_registered_attrs",
        "_modules",
        "_parameters",
        "_buffers",
    }
)


class State(OrderedDict):
    """A flat ``{"dotted.key": value}`` mapping with per-component ``_metadata``.

    ``_metadata`` maps a component's dotted path (``''`` for the root) to its
    metadata dict (``_flambe_version``, ``_flambe_class``, ``_flambe_module``,
    ``_flambe_source``, ``_flambe_config``, optionally ``_flambe_stash`` and,
    for the root, ``_flambe_plugins``); torch adds ``{"version": n}`` entries
    for its modules. ``_metadata["_flambe_directories"]`` is the set of
    component paths, ``_metadata["keep_vars"]`` the flag used to build it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metadata: dict[str, Any] = OrderedDict()


class LoadResult(NamedTuple):
    """Keys that :meth:`StatefulMixin.load_state` expected but did not find, and the reverse."""

    missing_keys: list[str]
    unexpected_keys: list[str]


# -- class information ----------------------------------------------------------


def class_import_path(cls: type) -> str:
    """``"module:QualifiedName"`` of ``cls``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def _top_level_names(dist: importlib_metadata.Distribution) -> set[str]:
    """The top-level importable names a distribution provides.

    The same answer as ``importlib.metadata.packages_distributions`` gives,
    read faster: ``top_level.txt`` when present, else the first component of
    each path in ``RECORD`` (read as plain CSV text, not as ``dist.files``).
    """
    text = dist.read_text("top_level.txt")
    if text and text.split():
        return set(text.split())
    record = dist.read_text("RECORD")
    if record is None:  # egg-info and others: the general (slower) reader
        paths = [str(path) for path in dist.files or []]
    else:  # the path is the first CSV field: quoted only when it holds a comma or a quote
        paths = [
            next(csv.reader([line]))[0] if line[0] == '"' else line.partition(",")[0]
            for line in record.splitlines()
            if line
        ]
    names = set()
    for path in paths:
        head, slash, _ = path.partition("/")
        if head in ("", "."):  # a path starting with '/' or './': the general rule
            parts = [part for part in path.split("/") if part not in ("", ".")]
            if not parts:
                continue
            head, slash = parts[0], "/" if len(parts) > 1 else ""
        name = head if slash else inspect.getmodulename(head) or head
        if "." not in name:
            names.add(name)
    return names


@functools.cache
def _distributions_providing(top: str) -> list[str]:
    """Names of the installed distributions that provide top-level module ``top``.

    Only the distributions providing ``top`` have their metadata parsed: a
    fresh process (a Ray trial's worker) saves its first checkpoint without
    building the whole ``packages_distributions()`` map.
    """
    return [
        dist.metadata["Name"]
        for dist in importlib_metadata.distributions()
        if top in _top_level_names(dist)
    ]


@functools.cache
def distribution_of(module_name: str) -> tuple[str, str] | None:
    """The installed distribution (name, version) that provides ``module_name``.

    ``flambe.<sub>`` modules come from ``flambe-<sub>`` when such a
    distribution is installed, else from ``flambe-core``. Other modules are
    looked up by their top-level package. ``None`` when unknown.
    """
    parts = module_name.split(".")
    if parts[0] in ("__main__", "builtins"):
        return None
    candidates: list[str] = []
    if parts[0] == "flambe":
        if len(parts) > 1:
            candidates.append(f"flambe-{parts[1]}")
        candidates.append("flambe-core")
    else:
        candidates.extend(_distributions_providing(parts[0]))
    for name in candidates:
        try:
            return name, importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    if parts[0] == "flambe":
        import flambe

        return "flambe-core", flambe.__version__
    return None


# -- traversal ------------------------------------------------------------------------


def _torch() -> Any:
    """The torch module if it was imported; without it no object can be a tensor or module."""
    return sys.modules.get("torch")


def _is_module(obj: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(obj, torch.nn.Module)


def _is_optimizer_or_scheduler(obj: Any) -> bool:
    torch = _torch()
    if torch is None:
        return False
    scheduler = getattr(torch.optim.lr_scheduler, "LRScheduler", None)
    plateau = getattr(torch.optim.lr_scheduler, "ReduceLROnPlateau", None)
    kinds = tuple(k for k in (torch.optim.Optimizer, scheduler, plateau) if k is not None)
    return isinstance(obj, kinds)


def _join(key: str, name: str) -> str:
    return f"{key}{STATE_DICT_DELIMETER}{name}" if key else name


def _dotted(key: str) -> str:
    """A node key as a torch-style prefix: ``''`` or ``'a.b.'``."""
    return key + STATE_DICT_DELIMETER if key else ""


def _children(obj: Any) -> Iterator[tuple[str, Any, bool]]:
    """(name, child, held_by_torch) for the components and modules ``obj`` holds directly."""
    for name, value in list(vars(obj).items()):
        if name in _SKIPPED_ATTRIBUTES or _is_optimizer_or_scheduler(value):
            continue
        if isinstance(value, StatefulMixin) or _is_module(value):
            yield name, value, False
    if _is_module(obj):
        for name, value in obj.named_children():
            yield name, value, True


class _Node(NamedTuple):
    key: str  # dotted path without trailing dot, '' for the root
    obj: Any
    owns_tensors: bool  # its tensors are saved/loaded through its own state_dict


def walk(root: Any, key: str = "") -> Iterator[_Node]:
    """Depth-first nodes of the state tree of ``root``, each object once.

    A node is a component, or a plain ``nn.Module`` whose tensors no
    ancestor module covers (a module held by a non-module component).
    """
    visited: set[int] = set()

    def visit(obj: Any, key: str, covered: bool) -> Iterator[_Node]:
        if id(obj) in visited:
            return
        visited.add(id(obj))
        is_module = _is_module(obj)
        owns = is_module and not covered
        if isinstance(obj, StatefulMixin) or owns:
            yield _Node(key, obj, owns)
        for name, child, held_by_torch in _children(obj):
            yield from visit(
                child, _join(key, name), covered=(covered or is_module) and held_by_torch
            )

    yield from visit(root, key, False)


def _merge_torch_metadata(state: State, torch_state: Any) -> None:
    for path, local in (getattr(torch_state, "_metadata", None) or {}).items():
        state._metadata.setdefault(path, {}).update(local)


def _working_copy(state: State) -> State:
    """A copy of ``state`` to load from, its metadata copied one level deep."""
    metadata = getattr(state, "_metadata", None) or {}
    work = State(state)
    work._metadata = OrderedDict(
        (k, dict(v) if isinstance(v, dict) else v) for k, v in metadata.items()
    )
    return work


def _load_node(
    work: State,
    node: _Node,
    strict: bool,
    missing: list[Any],
    unexpected: list[Any],
    errors: list[str],
) -> None:
    """Load one node of an object tree: its version checked, its tensors, its attributes."""
    local = work._metadata.get(node.key, {})
    component = isinstance(node.obj, StatefulMixin)
    if component and VERSION_KEY in local:
        check_version(type(node.obj), local[VERSION_KEY], node.key, local.get(FLAMBE_SOURCE_KEY))
    if node.owns_tensors:
        _load_torch(node, work)
    if component:
        for name in node.obj._registered_attrs():
            full = _join(node.key, name)
            if full in work:
                setattr(node.obj, name, work[full])
        node.obj._load_state(work, _dotted(node.key), local, strict, missing, unexpected, errors)


class StatefulMixin:
    """Recursive state for components: registered attributes, custom hooks, versions.

    Override :meth:`_state` and :meth:`_load_state` to save computed values,
    and :meth:`_migrate_state` to upgrade states saved by older versions of
    the class. Nothing here needs ``__init__`` to run.
    """

    _flambe_version: str = UNVERSIONED

    # -- registration -------------------------------------------------------------
    def register_attrs(self, *names: str) -> None:
        """Include these attributes in the state, under ``<path>.<name>``.

        Repeated calls add to the set. Call it at the end of ``__init__``,
        once the attributes exist.

        Raises
        ------
        AttributeError
            An attribute does not exist on the object.

        """
        for name in names:
            if not hasattr(self, name):
                raise AttributeError(
                    f"{type(self).__name__} has no attribute {name!r} to register; "
                    "assign it before calling register_attrs"
                )
        registered = self.__dict__.setdefault("_flambe_registered_attrs", [])
        for name in names:
            if name not in registered:
                registered.append(name)

    def _registered_attrs(self) -> list[str]:
        return list(self.__dict__.get("_flambe_registered_attrs", ()))

    # -- user hooks ----------------------------------------------------------------
    def _state(self, state: State, prefix: str, local_metadata: dict[str, Any]) -> State:
        """Add custom entries to ``state`` (keys start with ``prefix``) and return it."""
        return state

    def _load_state(
        self,
        state: State,
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[Any],
        unexpected_keys: list[Any],
        error_msgs: list[str],
    ) -> None:
        """Restore what :meth:`_state` added; append to ``error_msgs`` to fail the load."""

    @classmethod
    def _migrate_state(cls, state: State, prefix: str, from_version: str) -> str | None:
        """Upgrade, in place, the entries under ``prefix`` of a state saved by an older version.

        Called before loading when the saved version is older than
        ``cls._flambe_version``. ``state`` is a copy: rename, convert, add or
        drop keys freely. Return the version the migrated entries now match
        (usually ``cls._flambe_version``) so that the version check uses it;
        return ``None`` (the default) when nothing was migrated, and the
        saved version is checked as is (a major difference then fails).

        Example
        -------
        >>> class Net(Module):
        ...     _flambe_version = "2.0.0"
        ...     @classmethod
        ...     def _migrate_state(cls, state, prefix, from_version):
        ...         if from_version.startswith("1."):
        ...             state[prefix + "head.weight"] = state.pop(prefix + "out.weight")
        ...             return "2.0.0"
        ...         return None

        """
        return None

    # -- get ------------------------------------------------------------------------
    def _local_metadata(self) -> dict[str, Any]:
        cls: type = type(self)
        local: dict[str, Any] = {
            VERSION_KEY: getattr(cls, VERSION_KEY, UNVERSIONED),
            FLAMBE_CLASS_KEY: cls.__name__,
            FLAMBE_MODULE_KEY: class_import_path(cls),
            FLAMBE_SOURCE_KEY: class_source(cls),
        }
        config_for_save = getattr(self, "_config_for_save", None)
        if config_for_save is not None:
            try:
                config, stash = config_for_save()
            except AttributeError:
                pass  # built in code, not from a config
            else:
                local[FLAMBE_CONFIG_KEY] = config
                if stash:
                    local[FLAMBE_STASH_KEY] = dict(stash)
        return local

    def get_state(
        self, destination: State | None = None, prefix: str = "", keep_vars: bool = False
    ) -> State:
        """The state of this object and of every component and module it holds.

        Parameters
        ----------
        destination : State, optional
            Add to this state instead of a new one.
        prefix : str
            Path of this object in ``destination`` (``'model'`` or ``'model.'``).
        keep_vars : bool
            Keep parameters as they are instead of detached tensors (as in torch).

        Returns
        -------
        State
            Tensors of modules, registered attributes and custom entries;
            ``_metadata`` holds one dict per component.

        """
        return self._collect_state(
            destination, prefix.rstrip(STATE_DICT_DELIMETER), keep_vars, with_metadata=True
        )

    def _collect_state(
        self, destination: State | None, key: str, keep_vars: bool, with_metadata: bool
    ) -> State:
        state = destination if destination is not None else State()
        if not hasattr(state, "_metadata"):
            state._metadata = OrderedDict()
        directories = state._metadata.setdefault(FLAMBE_DIRECTORIES_KEY, set())
        state._metadata[KEEP_VARS_KEY] = keep_vars
        plugins: dict[str, str] = {}
        for node in walk(self, key):
            local: dict[str, Any] = {}
            component = isinstance(node.obj, StatefulMixin)
            if component and with_metadata:
                local = node.obj._local_metadata()
                state._metadata.setdefault(node.key, {}).update(local)
                local = state._metadata[node.key]
                cls = getattr(type(node.obj), "_flambe_wrapped", type(node.obj))
                found = distribution_of(cls.__module__)
                if found is not None:
                    plugins[found[0]] = found[1]
            if component:
                directories.add(node.key)
            if node.owns_tensors:
                torch_state = node.obj.state_dict(prefix=_dotted(node.key), keep_vars=keep_vars)
                state.update(torch_state)
                if with_metadata:
                    _merge_torch_metadata(state, torch_state)
            if component:
                for name in node.obj._registered_attrs():
                    state[_join(node.key, name)] = getattr(node.obj, name)
                state = node.obj._state(state, _dotted(node.key), local)
        if with_metadata and plugins:
            state._metadata.setdefault(key, {})[FLAMBE_PLUGINS_KEY] = dict(sorted(plugins.items()))
        return state

    # -- load -----------------------------------------------------------------------
    def load_state(self, state: State, strict: bool = False) -> LoadResult:
        """Load ``state`` (from :meth:`get_state` or a file) into this object, recursively.

        Parameters
        ----------
        state : State or Mapping
            The state to load; not modified. A plain torch ``state_dict`` works too.
        strict : bool
            Raise when keys are missing or unexpected instead of warning.

        Returns
        -------
        LoadResult
            The missing and unexpected keys.

        Raises
        ------
        LoadError
            ``strict`` and keys differ, tensors do not fit (shape), or a
            custom ``_load_state`` reported errors.
        VersionMismatchError
            A component was saved with another major version.

        """
        work = _working_copy(state)
        nodes = list(walk(self))
        for node in nodes:  # upgrade old states before anything reads them
            if isinstance(node.obj, StatefulMixin):
                self._migrate_node(work, node)
        missing: list[Any] = []
        unexpected: list[Any] = []
        errors: list[str] = []
        for node in nodes:
            _load_node(work, node, strict, missing, unexpected, errors)
        expected = self._collect_state(None, "", keep_vars=True, with_metadata=False)
        missing.extend(k for k in expected if k not in work and k not in missing)
        unexpected.extend(k for k in work if k not in expected and k not in unexpected)
        self._report_load(missing, unexpected, errors, strict)
        return LoadResult(missing, unexpected)

    def _report_load(
        self, missing: list[Any], unexpected: list[Any], errors: list[str], strict: bool
    ) -> None:
        """Raise on the errors of a load (keys that differ count when ``strict``), else warn."""
        if strict and (missing or unexpected):
            errors.insert(0, _describe_keys(missing, unexpected))
        if errors:
            raise LoadError(
                f"error(s) loading the state of {type(self).__name__}:\n  " + "\n  ".join(errors),
                hint="pass strict=False to load what matches" if strict else None,
            )
        if missing or unexpected:
            logger.warning(
                "loading the state of %s: %s",
                type(self).__name__,
                _describe_keys(missing, unexpected),
            )

    @staticmethod
    def _migrate_node(state: State, node: _Node) -> None:
        local = state._metadata.get(node.key)
        if not isinstance(local, dict) or VERSION_KEY not in local:
            return
        cls = type(node.obj)
        saved = local[VERSION_KEY]
        current = getattr(cls, VERSION_KEY, UNVERSIONED)
        if parse_version(saved, f"the saved version of {cls.__name__}") >= parse_version(
            current, f"{cls.__name__}._flambe_version"
        ):
            return
        migrated = cls._migrate_state(state, _dotted(node.key), str(saved))
        if migrated is not None:
            parse_version(migrated, f"the version returned by {cls.__name__}._migrate_state")
            logger.info(
                "migrated the state of %s at '%s' from version %s to %s",
                cls.__name__,
                node.key,
                saved,
                migrated,
            )
            local[VERSION_KEY] = str(migrated)


def _load_torch(node: _Node, state: State) -> None:
    """Copy the tensors under ``node.key`` into the module with torch's own loader."""
    prefix = _dotted(node.key)
    if prefix:
        sub: Any = OrderedDict(
            (k[len(prefix) :], v) for k, v in state.items() if k.startswith(prefix)
        )
        sub._metadata = OrderedDict(
            (k[len(prefix) :] if k != node.key else "", v)
            for k, v in state._metadata.items()
            if isinstance(k, str) and (k == node.key or k.startswith(prefix))
        )
    else:
        sub = state
    try:
        node.obj.load_state_dict(sub, strict=False)
    except RuntimeError as exc:
        where = f"'{node.key}'" if node.key else "the root"
        raise LoadError(
            f"cannot load the tensors of {type(node.obj).__name__} at {where}: {exc}",
            hint="the saved model has another architecture; check the config "
            "the state was saved with",
        ) from exc


def _describe_keys(missing: list[Any], unexpected: list[Any]) -> str:
    parts = []
    if missing:
        parts.append("missing key(s): " + ", ".join(repr(k) for k in missing))
    if unexpected:
        parts.append("unexpected key(s): " + ", ".join(repr(k) for k in unexpected))
    return "; ".join(parts)
