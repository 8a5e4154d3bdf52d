"""Save components to disk and load them back: ``flambe.save`` and ``flambe.load``.

A save is a directory per component, nested like the objects (see
:mod:`flambe.compile.state`)::

    model/                  the root component
        state.pt            its tensors and plain values (keys relative to it)
        version.txt         "<Class>:<version>"
        class.txt           "module:QualifiedName"
        source.py           the class source, when it was available
        config.yaml         the YAML to rebuild it (empty when built in code)
        stash.pkl           values the config could not write as YAML
        protocol_version.txt
        plugins.json        root only: versions of the distributions involved
        requirements.txt    root only: the installed distributions, ``name==version``
        encoder/            a component held by ``model.encoder``
            ...

Every component directory can be loaded on its own. ``compress=True``
writes one ``<path>.tar.gz`` archive instead, ``pickle_only=True`` one
``<path>.pkl`` pickle of the whole state.

Security
--------
Loading runs code from the file in trusted mode (the default): pickled
values (``objects.pkl``, ``stash.pkl``, ``.pkl`` saves) are unpickled with
``dill``, which can execute anything. Only load files you trust, or pass
``weights_only=True``: then ``state.pt`` files are read with torch's
restricted unpickler and any pickled value is refused with a
:class:`~flambe.errors.LoadError`. ``state.pt`` never holds arbitrary
objects, so plain ``torch.load(path)`` reads it too.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tarfile
import tempfile
import uuid
from collections import OrderedDict
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import dill

from flambe.compile.state import (FLAMBE_CLASS_KEY, FLAMBE_CONFIG_KEY, FLAMBE_DIRECTORIES_KEY,
                                  FLAMBE_MODULE_KEY, FLAMBE_PLUGINS_KEY, FLAMBE_SOURCE_KEY,
                                  FLAMBE_STASH_KEY, KEEP_VARS_KEY, STATE_DICT_DELIMETER,
                                  VERSION_KEY, State)
from flambe.errors import ExtensionError, FlambeError, LoadError

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

HIGHEST_SERIALIZATION_PROTOCOL_VERSION = 1
DEFAULT_SERIALIZATION_PROTOCOL_VERSION = 1
DEFAULT_PROTOCOL = 2  # pickle protocol

STATE_FILE_NAME = "state.pt"
OBJECTS_FILE_NAME = "objects.pkl"
VERSION_FILE_NAME = "version.txt"
CLASS_FILE_NAME = "class.txt"
SOURCE_FILE_NAME = "source.py"
CONFIG_FILE_NAME = "config.yaml"
STASH_FILE_NAME = "stash.pkl"
PROTOCOL_VERSION_FILE_NAME = "protocol_version.txt"
PLUGINS_FILE_NAME = "plugins.json"
REQUIREMENTS_FILE_NAME = "requirements.txt"

# metadata written as text files instead of inside state.pt
_TEXT_METADATA = (VERSION_KEY, FLAMBE_CLASS_KEY, FLAMBE_MODULE_KEY, FLAMBE_SOURCE_KEY,
                  FLAMBE_CONFIG_KEY, FLAMBE_STASH_KEY, FLAMBE_PLUGINS_KEY)
_TRUST_HINT = "load it with weights_only=False, only if you trust where the file comes from"


class DestinationExistsError(FlambeError, ValueError):
    """The save destination already holds something and ``overwrite`` was not given."""


# -- requirements ----------------------------------------------------------------------

_frozen_requirements: Optional[List[str]] = None


def frozen_requirements(refresh: bool = False) -> List[str]:
    """The installed distributions as sorted ``name==version`` lines (cached per process)."""
    global _frozen_requirements
    if _frozen_requirements is None or refresh:
        found: Dict[str, str] = {}
        for dist in importlib_metadata.distributions():
            name = dist.metadata["Name"] if dist.metadata else None
            if name and name.lower() not in found:
                found[name.lower()] = f"{name}=={dist.version}"
        _frozen_requirements = [found[k] for k in sorted(found)]
    return list(_frozen_requirements)


def write_deps(filename: PathLike, deps: Optional[List[str]] = None) -> None:
    """Write ``deps`` (default: the installed distributions) newline-joined, no trailing newline."""
    Path(filename).write_text("\n".join(frozen_requirements() if deps is None else deps))


# -- values -------------------------------------------------------------------------------

_PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)


def _is_plain(value: Any) -> bool:
    """True when torch's ``weights_only`` unpickler can read ``value`` back."""
    import torch
    if isinstance(value, (_PLAIN_SCALARS, torch.Tensor, torch.Size, torch.dtype, torch.device)):
        return True
    if type(value) in (list, tuple, set):
        return all(_is_plain(v) for v in value)
    if type(value) in (dict, OrderedDict):
        return all(isinstance(k, (str, int)) and _is_plain(v) for k, v in value.items())
    return False


# -- layout ------------------------------------------------------------------------------

def _owner(key: str, directories: set) -> str:
    """The deepest component directory that ``key`` belongs to."""
    parts = key.split(STATE_DICT_DELIMETER)
    for i in range(len(parts), 0, -1):
        candidate = STATE_DICT_DELIMETER.join(parts[:i])
        if candidate in directories:
            return candidate
    return ""


def _relative(key: str, owner: str) -> str:
    return key[len(owner) + 1:] if owner else key


def _node_path(root: Path, node: str, directories: set) -> Path:
    """The folder of ``node``: its parent's folder / the rest of its dotted path."""
    if not node:
        return root
    parts = node.split(STATE_DICT_DELIMETER)
    parent = _owner(STATE_DICT_DELIMETER.join(parts[:-1]), directories) if len(parts) > 1 else ""
    return _node_path(root, parent, directories) / _relative(node, parent)


class _NodeFiles:
    """What one component directory holds, before it is written."""

    def __init__(self) -> None:
        self.values: "OrderedDict[str, Any]" = OrderedDict()
        self.objects: "OrderedDict[str, Any]" = OrderedDict()
        self.order: List[str] = []
        self.metadata: Dict[str, Any] = {}
        self.flambe: Dict[str, Any] = {}


def _split_state(state: State) -> Dict[str, _NodeFiles]:
    metadata = getattr(state, "_metadata", None) or {}
    directories = set(metadata.get(FLAMBE_DIRECTORIES_KEY) or ()) | {""}
    nodes = {d: _NodeFiles() for d in directories}
    for key, value in state.items():
        node = nodes[_owner(key, directories)]
        rel = _relative(key, _owner(key, directories))
        node.order.append(rel)
        (node.values if _is_plain(value) else node.objects)[rel] = value
    for path, local in metadata.items():
        if path in (FLAMBE_DIRECTORIES_KEY, KEEP_VARS_KEY) or not isinstance(local, dict):
            continue
        owner = _owner(path, directories) if path else ""
        node = nodes[owner]
        rel = "" if path == owner else _relative(path, owner)
        rest = {k: v for k, v in local.items() if rel or k not in _TEXT_METADATA}
        if not rel:
            node.flambe = {k: local[k] for k in _TEXT_METADATA if k in local}
        if rest:
            node.metadata[rel] = rest
    return nodes


def _write_node(folder: Path, node: _NodeFiles, is_root: bool, pickle_module: Any,
                pickle_protocol: int) -> None:
    import torch
    folder.mkdir(parents=True, exist_ok=True)
    plain_metadata = {k: v for k, v in node.metadata.items() if _is_plain(v)}
    odd_metadata = {k: v for k, v in node.metadata.items() if k not in plain_metadata}
    payload = {"protocol": DEFAULT_SERIALIZATION_PROTOCOL_VERSION, "order": node.order,
               "values": node.values, "pickled": list(node.objects), "metadata": plain_metadata,
               "pickled_metadata": list(odd_metadata)}
    torch.save(payload, folder / STATE_FILE_NAME, pickle_protocol=pickle_protocol)
    if node.objects or odd_metadata:
        torch.save({"values": node.objects, "metadata": odd_metadata}, folder / OBJECTS_FILE_NAME,
                   pickle_module=pickle_module, pickle_protocol=pickle_protocol)
    flambe = node.flambe
    (folder / VERSION_FILE_NAME).write_text(
        f"{flambe.get(FLAMBE_CLASS_KEY, '')}:{flambe.get(VERSION_KEY, '0.0.0')}")
    (folder / CLASS_FILE_NAME).write_text(flambe.get(FLAMBE_MODULE_KEY, ""))
    (folder / SOURCE_FILE_NAME).write_text(flambe.get(FLAMBE_SOURCE_KEY, ""))
    (folder / CONFIG_FILE_NAME).write_text(flambe.get(FLAMBE_CONFIG_KEY, ""))
    (folder / PROTOCOL_VERSION_FILE_NAME).write_text(str(DEFAULT_SERIALIZATION_PROTOCOL_VERSION))
    torch.save(flambe.get(FLAMBE_STASH_KEY, {}), folder / STASH_FILE_NAME,
               pickle_module=pickle_module, pickle_protocol=pickle_protocol)
    if is_root:
        (folder / PLUGINS_FILE_NAME).write_text(
            json.dumps(flambe.get(FLAMBE_PLUGINS_KEY, {}), indent=2, sort_keys=True))
        write_deps(folder / REQUIREMENTS_FILE_NAME)


def _write_tree(state: State, root: Path, pickle_module: Any, pickle_protocol: int) -> None:
    nodes = _split_state(state)
    directories = set(nodes)
    for name in sorted(nodes, key=lambda d: (d.count(STATE_DICT_DELIMETER), d)):
        _write_node(_node_path(root, name, directories), nodes[name], name == "",
                    pickle_module, pickle_protocol)


# -- save ------------------------------------------------------------------------------------

def _destination(path: str, compress: bool, pickle_only: bool) -> str:
    final = path
    if pickle_only and not final.endswith(".pkl") and not final.endswith(".pkl.tar.gz"):
        final += ".pkl"
    if compress and not final.endswith(".tar.gz"):
        final += ".tar.gz"
    return final


def _check_free(final: str, overwrite: bool) -> None:
    if overwrite or not os.path.lexists(final):
        return
    if os.path.isdir(final) and not os.listdir(final):
        return
    what = "directory" if os.path.isdir(final) else "file"
    raise DestinationExistsError(
        f"cannot save to {final!r}: the {what} already exists"
        + (" and is not empty" if what == "directory" else ""),
        hint="pass overwrite=True to replace it, or choose another path")


def _replace(tmp: str, final: str) -> None:
    """Move ``tmp`` to ``final``; an existing ``final`` is removed only once ``tmp`` is complete."""
    old = None
    if os.path.lexists(final):
        old = f"{final}.old-{uuid.uuid4().hex[:8]}"
        os.rename(final, old)
    os.rename(tmp, final)
    if old is not None:
        shutil.rmtree(old) if os.path.isdir(old) and not os.path.islink(old) else os.remove(old)


def save_state_to_file(state: State, path: PathLike, compress: bool = False,
                       pickle_only: bool = False, overwrite: bool = False,
                       pickle_module: Any = dill, pickle_protocol: int = DEFAULT_PROTOCOL) -> str:
    """Write ``state`` to ``path``.

    Parameters
    ----------
    state : State
        Usually ``obj.get_state()``.
    path : str or PathLike
        The directory to create (``<path>.pkl`` with ``pickle_only``,
        ``<path>.tar.gz`` or ``<path>.pkl.tar.gz`` with ``compress``).
    compress : bool
        Write a single ``.tar.gz`` archive whose top member is ``basename(path)``.
    pickle_only : bool
        Pickle the whole state into one file instead of the directory tree.
    overwrite : bool
        Replace an existing destination. The new save is complete before
        the old one is removed.
    pickle_module : module
        Pickles the values that are not tensors or plain data (default ``dill``).
    pickle_protocol : int
        The pickle protocol.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    DestinationExistsError
        (also a ``ValueError``) The destination exists and is not an empty
        directory, and ``overwrite`` is false.

    """
    import torch
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    final = _destination(path, compress, pickle_only)
    _check_free(final, overwrite)
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".flambe-save-", dir=parent) as tmp:
        member = os.path.basename(final[:-len(".tar.gz")] if compress else final)
        built = os.path.join(tmp, member)
        if pickle_only:
            torch.save(state, built, pickle_module=pickle_module, pickle_protocol=pickle_protocol)
        else:
            _write_tree(state, Path(built), pickle_module, pickle_protocol)
        if compress:
            archive = os.path.join(tmp, "archive.tar.gz")
            with tarfile.open(archive, "w:gz") as tar:
                tar.add(built, arcname=member)
            built = archive
        if os.path.isdir(final) and not os.listdir(final):
            os.rmdir(final)
        _replace(built, final)
    return final


def save(obj: Any, path: PathLike, compress: bool = False, pickle_only: bool = False,
         overwrite: bool = False, pickle_module: Any = dill,
         pickle_protocol: int = DEFAULT_PROTOCOL) -> str:
    """Save a component (config, state and code information) to ``path``.

    ``save(obj, path)`` is ``save_state_to_file(obj.get_state(), path, ...)``;
    see :func:`save_state_to_file` for the parameters. Load it back with
    :func:`load`.
    """
    return save_state_to_file(obj.get_state(), path, compress=compress, pickle_only=pickle_only,
                              overwrite=overwrite, pickle_module=pickle_module,
                              pickle_protocol=pickle_protocol)


# -- load state ------------------------------------------------------------------------------

def _read_protocol(folder: Path) -> int:
    file = folder / PROTOCOL_VERSION_FILE_NAME
    if not file.exists():
        return DEFAULT_SERIALIZATION_PROTOCOL_VERSION
    text = file.read_text().strip()
    try:
        protocol = int(text)
    except ValueError:
        raise LoadError(f"{file} holds {text!r}, not a serialization protocol number") from None
    if protocol > HIGHEST_SERIALIZATION_PROTOCOL_VERSION:
        raise LoadError(
            f"{folder} was saved with serialization protocol {protocol}; this version of "
            f"flambe reads protocols up to {HIGHEST_SERIALIZATION_PROTOCOL_VERSION}",
            hint="upgrade flambe-core to load it")
    return protocol


def _torch_load(file: Path, map_location: Any, weights_only: bool, pickle_module: Any,
                what: str) -> Any:
    import pickle
    import torch
    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if weights_only:
            raise LoadError(f"{file} holds {what} that only a trusted load can read "
                            "(unpickling it may run code)", hint=_TRUST_HINT) from exc
    return torch.load(file, map_location=map_location, weights_only=False,
                      pickle_module=pickle_module)


def _read_node(folder: Path, key: str, state: State, map_location: Any, weights_only: bool,
               pickle_module: Any) -> None:
    _read_protocol(folder)
    payload = _torch_load(folder / STATE_FILE_NAME, map_location, weights_only, pickle_module,
                          "values")
    values = payload.get("values", {})
    metadata = dict(payload.get("metadata", {}))
    pickled_keys = list(payload.get("pickled", [])) + list(payload.get("pickled_metadata", []))
    objects: Dict[str, Any] = {"values": {}, "metadata": {}}
    if pickled_keys:
        if weights_only:
            raise LoadError(
                f"{folder / OBJECTS_FILE_NAME} holds pickled values for "
                + ", ".join(repr(_join(key, k)) for k in pickled_keys)
                + "; unpickling them may run code from the file", hint=_TRUST_HINT)
        objects = torch_load_objects(folder / OBJECTS_FILE_NAME, map_location, pickle_module)
    metadata.update(objects.get("metadata", {}))
    for rel in payload.get("order", list(values)):
        state[_join(key, rel)] = values[rel] if rel in values else objects["values"][rel]
    local: Dict[str, Any] = dict(metadata.pop("", {}))
    version_text = _read_text(folder / VERSION_FILE_NAME)
    if version_text is not None:
        class_name, _, version = version_text.rpartition(":")
        local[VERSION_KEY] = version or "0.0.0"
        if class_name:
            local[FLAMBE_CLASS_KEY] = class_name
    for file_name, meta_key in ((CLASS_FILE_NAME, FLAMBE_MODULE_KEY),
                                (SOURCE_FILE_NAME, FLAMBE_SOURCE_KEY),
                                (CONFIG_FILE_NAME, FLAMBE_CONFIG_KEY)):
        text = _read_text(folder / file_name)
        if text is not None and (text or meta_key == FLAMBE_SOURCE_KEY):
            local[meta_key] = text
    if (folder / STASH_FILE_NAME).exists():
        stash = _torch_load(folder / STASH_FILE_NAME, map_location, weights_only, pickle_module,
                            "a stash of config values")
        if stash:
            local[FLAMBE_STASH_KEY] = stash
    plugins = _read_text(folder / PLUGINS_FILE_NAME)
    if plugins:
        local[FLAMBE_PLUGINS_KEY] = json.loads(plugins)
    state._metadata[key] = local
    for rel, entry in metadata.items():
        state._metadata[_join(key, rel)] = entry
    state._metadata[FLAMBE_DIRECTORIES_KEY].add(key)


def torch_load_objects(file: Path, map_location: Any, pickle_module: Any) -> Dict[str, Any]:
    """Unpickle an ``objects.pkl`` file (trusted mode only: it may run code)."""
    import torch
    return torch.load(file, map_location=map_location, weights_only=False,
                      pickle_module=pickle_module)


def _join(key: str, rel: str) -> str:
    if not key:
        return rel
    return f"{key}{STATE_DICT_DELIMETER}{rel}" if rel else key


def _read_text(file: Path) -> Optional[str]:
    return file.read_text() if file.exists() else None


def _read_tree(root: Path, map_location: Any, weights_only: bool, pickle_module: Any) -> State:
    if not (root / STATE_FILE_NAME).exists():
        raise LoadError(f"{root} is not a flambe save: it has no {STATE_FILE_NAME}",
                        hint="point to the folder written by flambe.save, or one of its "
                             "component sub-folders")
    state = State()
    state._metadata[FLAMBE_DIRECTORIES_KEY] = set()
    state._metadata[KEEP_VARS_KEY] = False
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        if STATE_FILE_NAME not in filenames:
            dirnames[:] = []  # not a component folder: nothing below belongs to the save
            continue
        rel = os.path.relpath(dirpath, root)
        key = "" if rel == "." else rel.replace(os.sep, STATE_DICT_DELIMETER)
        _read_node(Path(dirpath), key, state, map_location, weights_only, pickle_module)
    return state


def load_state_from_file(path: PathLike, map_location: Any = None, weights_only: bool = False,
                         pickle_module: Any = dill) -> State:
    """Read the state saved at ``path`` (a save folder, a sub-folder, an archive or a ``.pkl``).

    Parameters
    ----------
    path : str or PathLike
        Local path, or a URL (``http(s)://``, ``s3://`` with flambe-cluster, ...).
    map_location : optional
        Where to put the tensors, as in ``torch.load``.
    weights_only : bool
        Refuse everything that needs unpickling arbitrary objects (safe for
        untrusted files). The default trusted mode may run code from the file.
    pickle_module : module
        Unpickles pickled values in trusted mode (default ``dill``).

    Raises
    ------
    LoadError
        The path is not a save, was written by a newer protocol, or needs
        trusted mode while ``weights_only`` is set.

    """
    from flambe.storage import local_path, open_local, scheme_of
    source = os.fspath(path)
    if scheme_of(source) in ("", "file"):
        return _load_local_state(Path(local_path(source)), map_location, weights_only,
                                 pickle_module)
    with open_local(source) as local:
        return _load_local_state(Path(local), map_location, weights_only, pickle_module)


def _load_local_state(path: Path, map_location: Any, weights_only: bool,
                      pickle_module: Any) -> State:
    if path.is_dir():
        return _read_tree(path, map_location, weights_only, pickle_module)
    if not path.exists():
        raise LoadError(f"cannot load {str(path)!r}: no such file or directory")
    if tarfile.is_tarfile(path):
        with tempfile.TemporaryDirectory(prefix="flambe-load-") as tmp:
            with tarfile.open(path) as tar:
                members = tar.getnames()
                if not members:
                    raise LoadError(f"the archive {str(path)!r} is empty")
                tar.extractall(tmp, filter="data")
            top = members[0].split("/", 1)[0]
            return _load_local_state(Path(tmp) / top, map_location, weights_only, pickle_module)
    if weights_only:
        raise LoadError(f"{str(path)!r} is a single-file pickle of a whole state; only a trusted "
                        "load can read it (unpickling it may run code)", hint=_TRUST_HINT)
    import torch
    state = torch.load(path, map_location=map_location, weights_only=False,
                       pickle_module=pickle_module)
    if not isinstance(state, dict):
        raise LoadError(f"{str(path)!r} does not hold a flambe state (found {type(state).__name__})")
    return state


# -- load objects ---------------------------------------------------------------------------

def _compile_saved_config(state: State, source: str, auto_install: bool) -> Any:
    from flambe.compile import yaml as flambe_yaml
    from flambe.compile.extensions import ensure_extensions

    root = state._metadata.get("", {})
    config = root.get(FLAMBE_CONFIG_KEY)
    if not config or not config.strip():
        raise LoadError(
            f"no config found in {source}: the object was built in code, not from YAML",
            hint="build the object yourself and call obj.load_state(load_state_from_file(path))")
    where = os.path.join(source, CONFIG_FILE_NAME)
    try:
        # extensions must be importable before the main document is built
        extensions = flambe_yaml.split_config(config, where)[0]
        if extensions:
            ensure_extensions(extensions, install=auto_install)
        loaded = flambe_yaml.load_config(config, file=where)
    except (LoadError, ExtensionError):
        raise
    except FlambeError as exc:
        raise LoadError(f"the config saved in {source} cannot be read: {exc.message}",
                        location=exc.location, hint=exc.hint) from exc
    schema = loaded.root
    if schema is None:
        raise LoadError(f"no config found in {source}: {where} holds no object")
    if not callable(schema):
        raise LoadError(f"the config saved in {source} describes a "
                        f"{type(schema).__name__}, not a component")
    try:
        return schema(root.get(FLAMBE_STASH_KEY) or {})
    except TypeError as exc:
        raise LoadError(f"cannot rebuild the object saved in {source}: {exc}",
                        hint="the class may have changed since the save, or come from an "
                             "extension that is not installed") from exc


# -- building models without initialising them --------------------------------------------

FAST_INIT_MIN_NUMEL = 1_000_000


def _fast_init_eligible(state: State, force: bool) -> bool:
    """Whether the saved object is made of torch modules only, with enough weights to matter."""
    import torch
    from flambe.plugins.manager import import_object
    if not force:
        numel = sum(v.numel() for v in state.values() if isinstance(v, torch.Tensor))
        if numel < FAST_INIT_MIN_NUMEL:
            return False
    root = state._metadata.get("", {})
    if FLAMBE_MODULE_KEY not in root:
        return False
    for local in state._metadata.values():
        if isinstance(local, dict) and FLAMBE_MODULE_KEY in local:
            try:
                cls = import_object(local[FLAMBE_MODULE_KEY])
            except Exception:
                return False
            if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
                return False
    return True


def _meta_tensors(value: Any) -> bool:
    import torch
    if isinstance(value, torch.Tensor):
        return value.is_meta
    if isinstance(value, (list, tuple, set)):
        return any(isinstance(v, torch.Tensor) and v.is_meta for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, torch.Tensor) and v.is_meta for v in value.values())
    return False


def _restorable_on_meta(obj: Any, state: State) -> bool:
    """Every tensor the meta-built ``obj`` holds will be overwritten by ``state``."""
    from flambe.compile.state import walk
    saved = set(state)
    names = [n for n, _ in obj.named_parameters(remove_duplicate=False)]
    names += [n for n, _ in obj.named_buffers(remove_duplicate=False)]
    if any(n not in saved for n in names):
        return False  # missing or non-persistent tensors would stay uninitialised
    holders = [(p, m) for p, m in obj.named_modules()] + [(n.key, n.obj) for n in walk(obj)]
    for path, holder in holders:
        registered = set(getattr(holder, "_registered_attrs", lambda: [])())
        for name, value in vars(holder).items():
            if name in ("_parameters", "_buffers", "_modules"):
                continue
            if not _meta_tensors(value):
                continue
            key = f"{path}{STATE_DICT_DELIMETER}{name}" if path else name
            if name not in registered or key not in saved:
                return False
    return True


def _build_on_meta(state: State, source: str, auto_install: bool) -> Optional[Any]:
    """Build the saved model on the meta device (no random init), then allocate it empty.

    Returns ``None`` when that is not safe for this object: the normal path
    then builds it again, on the default device.
    """
    import torch
    try:
        with torch.device("meta"):
            obj = _compile_saved_config(state, source, auto_install)
    except Exception as exc:  # anything that needs real tensors in __init__
        logger.debug("building %s on the meta device failed (%s); building it normally",
                     source, exc)
        return None
    if not isinstance(obj, torch.nn.Module) or not _restorable_on_meta(obj, state):
        logger.debug("%s holds tensors the state does not restore; building it normally", source)
        return None
    shared = _shared_tensors(obj)
    obj = obj.to_empty(device=torch.get_default_device())
    if shared:  # to_empty gives each name its own tensor: tie them again
        tensors = dict(obj.named_parameters(remove_duplicate=False))
        tensors.update(obj.named_buffers(remove_duplicate=False))
    for names in shared:
        first = tensors[names[0]]
        for name in names[1:]:
            owner, _, attr = name.rpartition(STATE_DICT_DELIMETER)
            setattr(obj.get_submodule(owner), attr, first)
    return obj


def _shared_tensors(module: Any) -> List[List[str]]:
    """Names of parameters and buffers that are one and the same tensor (tied weights)."""
    groups: Dict[int, List[str]] = {}
    for name, tensor in list(module.named_parameters(remove_duplicate=False)) + list(
            module.named_buffers(remove_duplicate=False)):
        groups.setdefault(id(tensor), []).append(name)
    return [names for names in groups.values() if len(names) > 1]


def load(path: PathLike, map_location: Any = None, auto_install: bool = False,
         weights_only: bool = False, strict: bool = False,
         fast_init: Optional[bool] = None) -> Any:
    """Rebuild the component saved at ``path`` and load its state.

    The object is compiled from the saved ``config.yaml`` (after making the
    extensions it declares importable), then ``load_state`` restores its
    state. ``path`` may be a save folder or any component sub-folder of it,
    an archive, a ``.pkl`` save, or a URL served by a storage backend.

    Parameters
    ----------
    path : str or PathLike
        Where the object was saved.
    map_location : optional
        Where to put the tensors, as in ``torch.load``.
    auto_install : bool
        Install missing extensions with pip instead of failing.
    weights_only : bool
        Refuse anything that needs unpickling (see the module docstring).
        The default trusted mode may run code from the file.
    strict : bool
        Fail when the saved keys differ from the rebuilt object's.
    fast_init : bool, optional
        Build a model made only of torch modules on the meta device, so
        that its weights are not randomly initialised before being
        overwritten. ``None`` (default) does so for states of at least
        ``FAST_INIT_MIN_NUMEL`` elements, ``True`` always, ``False`` never.
        Objects whose ``__init__`` needs real tensors, or that hold tensors
        the state does not restore, are built normally in any case.

    Raises
    ------
    LoadError
        No config was saved, it cannot be read or rebuilt, or the state does not fit.
    VersionMismatchError
        A component was saved with another major version of its class.
    ExtensionError
        An extension is missing and ``auto_install`` is false.

    """
    source = os.fspath(path)
    state = load_state_from_file(source, map_location=map_location, weights_only=weights_only)
    obj = None
    if fast_init is not False and _fast_init_eligible(state, force=bool(fast_init)):
        obj = _build_on_meta(state, source, auto_install)
    if obj is None:
        obj = _compile_saved_config(state, source, auto_install)
    obj.load_state(state, strict=strict)
    return obj
