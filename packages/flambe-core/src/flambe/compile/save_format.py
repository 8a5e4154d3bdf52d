"""The on-disk format of a save: one folder per component.

Each component folder holds ``state.pt`` (a torch file of tensors and plain
data only, keys relative to the component, readable with
``torch.load(weights_only=True)``), ``objects.pkl`` when some values need
pickling, ``version.txt`` (``<Class>:<version>``), ``class.txt``
(``module:QualifiedName``), ``source.py``, ``config.yaml``, ``stash.pkl`` and
``protocol_version.txt``; the root also holds ``plugins.json`` and
``requirements.txt``. A component reached through a torch-only module lives
in a folder whose name has dots (``item/torch_only.child``).
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Union

from flambe.compile.state import (
    FLAMBE_CLASS_KEY,
    FLAMBE_CONFIG_KEY,
    FLAMBE_DIRECTORIES_KEY,
    FLAMBE_MODULE_KEY,
    FLAMBE_PLUGINS_KEY,
    FLAMBE_SOURCE_KEY,
    FLAMBE_STASH_KEY,
    KEEP_VARS_KEY,
    STATE_DICT_DELIMETER,
    VERSION_KEY,
    State,
)
from flambe.errors import LoadError

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
_TEXT_METADATA = (
    VERSION_KEY,
    FLAMBE_CLASS_KEY,
    FLAMBE_MODULE_KEY,
    FLAMBE_SOURCE_KEY,
    FLAMBE_CONFIG_KEY,
    FLAMBE_STASH_KEY,
    FLAMBE_PLUGINS_KEY,
)
TRUST_HINT = "load it with weights_only=False, only if you trust where the file comes from"

# -- requirements ----------------------------------------------------------------------

_frozen_requirements: list[str] | None = None


def frozen_requirements(refresh: bool = False) -> list[str]:
    """The installed distributions as sorted ``name==version`` lines (cached per process)."""
    global _frozen_requirements
    if _frozen_requirements is None or refresh:
        found: dict[str, str] = {}
        for dist in importlib_metadata.distributions():
            name, version = _name_and_version(dist)
            if name and name.lower() not in found:
                found[name.lower()] = f"{name}=={version}"
        _frozen_requirements = [found[k] for k in sorted(found)]
    return list(_frozen_requirements)


def _name_and_version(dist: importlib_metadata.Distribution) -> tuple[str | None, str | None]:
    """A distribution's ``Name`` and ``Version``, read from the header of its metadata file.

    ``dist.metadata`` parses the whole file, long description included
    (4x slower over a typical environment, paid by every fresh trial
    process at its first checkpoint); the two fields are in the header.
    A file whose header lacks them is parsed in full.
    """
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    fields: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").partition("\n\n")[0].split("\n"):
        key, colon, value = line.partition(":")
        key = key.lower()
        if colon and key in ("name", "version") and key not in fields:
            fields[key] = value.strip()
    if "name" in fields and "version" in fields:
        return fields["name"], fields["version"]
    metadata = dist.metadata
    if not metadata:
        return None, None
    return metadata["Name"], metadata["Version"]


def write_deps(filename: PathLike, deps: list[str] | None = None) -> None:
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
    return key[len(owner) + 1 :] if owner else key


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
        self.values: OrderedDict[str, Any] = OrderedDict()
        self.objects: OrderedDict[str, Any] = OrderedDict()
        self.order: list[str] = []
        self.metadata: dict[str, Any] = {}
        self.flambe: dict[str, Any] = {}


def _split_state(state: State) -> dict[str, _NodeFiles]:
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


def _write_node(
    folder: Path, node: _NodeFiles, is_root: bool, pickle_module: Any, pickle_protocol: int
) -> None:
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    plain_metadata = {k: v for k, v in node.metadata.items() if _is_plain(v)}
    odd_metadata = {k: v for k, v in node.metadata.items() if k not in plain_metadata}
    payload = {
        "protocol": DEFAULT_SERIALIZATION_PROTOCOL_VERSION,
        "order": node.order,
        "values": node.values,
        "pickled": list(node.objects),
        "metadata": plain_metadata,
        "pickled_metadata": list(odd_metadata),
    }
    torch.save(payload, folder / STATE_FILE_NAME, pickle_protocol=pickle_protocol)
    if node.objects or odd_metadata:
        torch.save(
            {"values": node.objects, "metadata": odd_metadata},
            folder / OBJECTS_FILE_NAME,
            pickle_module=pickle_module,
            pickle_protocol=pickle_protocol,
        )
    flambe = node.flambe
    (folder / VERSION_FILE_NAME).write_text(
        f"{flambe.get(FLAMBE_CLASS_KEY, '')}:{flambe.get(VERSION_KEY, '0.0.0')}"
    )
    (folder / CLASS_FILE_NAME).write_text(flambe.get(FLAMBE_MODULE_KEY, ""))
    (folder / SOURCE_FILE_NAME).write_text(flambe.get(FLAMBE_SOURCE_KEY, ""))
    (folder / CONFIG_FILE_NAME).write_text(flambe.get(FLAMBE_CONFIG_KEY, ""))
    (folder / PROTOCOL_VERSION_FILE_NAME).write_text(str(DEFAULT_SERIALIZATION_PROTOCOL_VERSION))
    torch.save(
        flambe.get(FLAMBE_STASH_KEY, {}),
        folder / STASH_FILE_NAME,
        pickle_module=pickle_module,
        pickle_protocol=pickle_protocol,
    )
    if is_root:
        (folder / PLUGINS_FILE_NAME).write_text(
            json.dumps(flambe.get(FLAMBE_PLUGINS_KEY, {}), indent=2, sort_keys=True)
        )
        write_deps(folder / REQUIREMENTS_FILE_NAME)


def write_tree(state: State, root: Path, pickle_module: Any, pickle_protocol: int) -> None:
    """Write ``state`` as a folder tree under ``root``: one folder per component, tensors apart.

    Parameters
    ----------
    state : State
        The state to write.
    root : Path
        The folder to write into.
    pickle_module : module
        Pickles what is neither a tensor nor plain data.
    pickle_protocol : int
        The pickle protocol.
    """
    nodes = _split_state(state)
    directories = set(nodes)
    for name in sorted(nodes, key=lambda d: (d.count(STATE_DICT_DELIMETER), d)):
        _write_node(
            _node_path(root, name, directories),
            nodes[name],
            name == "",
            pickle_module,
            pickle_protocol,
        )


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
            hint="upgrade flambe-core to load it",
        )
    return protocol


def _torch_load(
    file: Path, map_location: Any, weights_only: bool, pickle_module: Any, what: str
) -> Any:
    import pickle

    import torch

    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if weights_only:
            raise LoadError(
                f"{file} holds {what} that only a trusted load can read "
                "(unpickling it may run code)",
                hint=TRUST_HINT,
            ) from exc
    return torch.load(
        file, map_location=map_location, weights_only=False, pickle_module=pickle_module
    )


def _read_node(
    folder: Path, key: str, state: State, map_location: Any, weights_only: bool, pickle_module: Any
) -> None:
    _read_protocol(folder)
    payload = _torch_load(
        folder / STATE_FILE_NAME, map_location, weights_only, pickle_module, "values"
    )
    values = payload.get("values", {})
    metadata = dict(payload.get("metadata", {}))
    pickled_keys = list(payload.get("pickled", [])) + list(payload.get("pickled_metadata", []))
    objects: dict[str, Any] = {"values": {}, "metadata": {}}
    if pickled_keys:
        if weights_only:
            raise LoadError(
                f"{folder / OBJECTS_FILE_NAME} holds pickled values for "
                + ", ".join(repr(_join(key, k)) for k in pickled_keys)
                + "; unpickling them may run code from the file",
                hint=TRUST_HINT,
            )
        objects = torch_load_objects(folder / OBJECTS_FILE_NAME, map_location, pickle_module)
    metadata.update(objects.get("metadata", {}))
    for rel in payload.get("order", list(values)):
        state[_join(key, rel)] = values[rel] if rel in values else objects["values"][rel]
    local: dict[str, Any] = dict(metadata.pop("", {}))
    version_text = _read_text(folder / VERSION_FILE_NAME)
    if version_text is not None:
        class_name, _, version = version_text.rpartition(":")
        local[VERSION_KEY] = version or "0.0.0"
        if class_name:
            local[FLAMBE_CLASS_KEY] = class_name
    for file_name, meta_key in (
        (CLASS_FILE_NAME, FLAMBE_MODULE_KEY),
        (SOURCE_FILE_NAME, FLAMBE_SOURCE_KEY),
        (CONFIG_FILE_NAME, FLAMBE_CONFIG_KEY),
    ):
        text = _read_text(folder / file_name)
        if text is not None and (text or meta_key == FLAMBE_SOURCE_KEY):
            local[meta_key] = text
    if (folder / STASH_FILE_NAME).exists():
        stash = _torch_load(
            folder / STASH_FILE_NAME,
            map_location,
            weights_only,
            pickle_module,
            "a stash of config values",
        )
        if stash:
            local[FLAMBE_STASH_KEY] = stash
    plugins = _read_text(folder / PLUGINS_FILE_NAME)
    if plugins:
        local[FLAMBE_PLUGINS_KEY] = json.loads(plugins)
    state._metadata[key] = local
    for rel, entry in metadata.items():
        state._metadata[_join(key, rel)] = entry
    state._metadata[FLAMBE_DIRECTORIES_KEY].add(key)


def torch_load_objects(file: Path, map_location: Any, pickle_module: Any) -> dict[str, Any]:
    """Unpickle an ``objects.pkl`` file (trusted mode only: it may run code)."""
    import torch

    return torch.load(
        file, map_location=map_location, weights_only=False, pickle_module=pickle_module
    )


def _join(key: str, rel: str) -> str:
    if not key:
        return rel
    return f"{key}{STATE_DICT_DELIMETER}{rel}" if rel else key


def _read_text(file: Path) -> str | None:
    return file.read_text() if file.exists() else None


def read_tree(root: Path, map_location: Any, weights_only: bool, pickle_module: Any) -> State:
    """Read a state written by :func:`write_tree` from the folder ``root``.

    Parameters
    ----------
    root : Path
        The saved folder.
    map_location : Any
        Where tensors are loaded (as for ``torch.load``).
    weights_only : bool
        Refuse pickled code: only tensors and plain data are read.
    pickle_module : module
        Unpickles what was pickled.

    Returns
    -------
    State
        The state.
    """
    if not (root / STATE_FILE_NAME).exists():
        raise LoadError(
            f"{root} is not a flambe save: it has no {STATE_FILE_NAME}",
            hint="point to the folder written by flambe.save, or one of its component sub-folders",
        )
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
