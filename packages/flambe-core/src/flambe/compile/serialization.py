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

import errno
import fcntl
import logging
import os
import re
import shutil
import tarfile
import tempfile
import uuid
from pathlib import Path
from typing import Any, cast

import dill

from flambe.compile import meta_init
from flambe.compile import yaml as flambe_yaml
from flambe.compile.code_built import config_for_code_built
from flambe.compile.extensions import ensure_extensions
from flambe.compile.registry import restricted
from flambe.compile.save_format import (
    CONFIG_FILE_NAME,
    DEFAULT_PROTOCOL,
    HIGHEST_SERIALIZATION_PROTOCOL_VERSION,
    STATE_FILE_NAME,
    TRUST_HINT,
    PathLike,
    frozen_requirements,
    read_tree,
    write_deps,
    write_tree,
)
from flambe.compile.state import FLAMBE_CONFIG_KEY, FLAMBE_STASH_KEY, State
from flambe.errors import DiskFullError, ExtensionError, FlambeError, LoadError
from flambe.utils.atomic import disk_full_error, is_disk_full
from flambe.utils.faults import fault_point

logger = logging.getLogger(__name__)

__all__ = [
    "save",
    "load",
    "save_state_to_file",
    "load_state_from_file",
    "DestinationExistsError",
    "frozen_requirements",
    "write_deps",
    "HIGHEST_SERIALIZATION_PROTOCOL_VERSION",
]


TMP_PREFIX = ".flambe-save-"
OWNER_FILE = ".owner"
OLD_MARK = ".old-"
_EXCHANGE_WORKS = True


class DestinationExistsError(FlambeError, ValueError):
    """The save destination already holds something and ``overwrite`` was not given."""


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
        hint="pass overwrite=True to replace it, or choose another path",
    )


def _replace(tmp: str, final: str) -> None:
    """Move the complete save ``tmp`` to ``final``; the previous copy stays loadable throughout.

    A file replaces a file in one ``rename``. A folder over an existing one
    is swapped in one ``renameat2(RENAME_EXCHANGE)`` where the file system
    supports it (the old copy ends up at ``tmp``, inside the temporary
    folder that is removed next). Elsewhere the old copy is first renamed to
    ``<final>.old-<id>``: a kill between the two renames leaves only that
    copy, which :func:`load` then reads.
    """
    final_is_dir = os.path.isdir(final) and not os.path.islink(final)
    if os.path.lexists(final) and os.path.isdir(tmp) != final_is_dir:
        _aside_then_rename(tmp, final)  # a folder replacing a file, a link, or the reverse
        return
    if not final_is_dir:
        os.replace(tmp, final)  # a file over a file (or nothing): one rename
        return
    if _exchange(tmp, final):
        fault_point("save.swapped", final)
        return
    _aside_then_rename(tmp, final)


def _is_old_copy(entry: str, base: str) -> bool:
    """Whether ``entry`` is a copy of ``base`` set aside by :func:`_aside_then_rename`."""
    return re.fullmatch(re.escape(base + OLD_MARK) + r"[0-9a-f]{8}", entry) is not None


def _aside_then_rename(tmp: str, final: str) -> None:
    old = f"{final}{OLD_MARK}{uuid.uuid4().hex[:8]}"
    os.rename(final, old)
    fault_point("save.set-aside", final)
    os.rename(tmp, final)
    fault_point("save.renamed", final)
    _remove(old)


def _exchange(a: str, b: str) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where that is not available."""
    global _EXCHANGE_WORKS
    if not _EXCHANGE_WORKS:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        _EXCHANGE_WORKS = False
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        _EXCHANGE_WORKS = False  # this kernel or file system cannot: rename aside instead
        return False
    raise OSError(err, os.strerror(err), b)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        try:
            os.remove(path)
        except OSError:
            pass


def _owner_alive(folder: str) -> bool:
    """Whether the save that made the temporary ``folder`` is still running."""
    try:
        fd = os.open(os.path.join(folder, OWNER_FILE), os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        # killed before its lock file existed: go by the pid in the name
        match = re.match(re.escape(TMP_PREFIX) + r"(\d+)-", os.path.basename(folder))
        if match is None:
            return False  # written by an older version: nobody owns it
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def remove_leftovers(final: str) -> list[str]:
    """Remove what dead saves left beside ``final``; returns the paths removed.

    Temporary ``.flambe-save-*`` folders of saves whose process is gone (in
    the same folder, whatever path they were saving) go; ``<final>.old-*``
    copies go only when ``final`` itself is complete (otherwise they are
    the copy :func:`load` falls back on).
    """
    parent = os.path.dirname(final) or "."
    removed: list[str] = []
    try:
        entries = os.listdir(parent)
    except OSError:
        return removed
    base = os.path.basename(final)
    for entry in entries:
        path = os.path.join(parent, entry)
        if entry.startswith(TMP_PREFIX) and os.path.isdir(path) and not _owner_alive(path):
            _remove(path)
            removed.append(path)
        elif _is_old_copy(entry, base) and _is_complete(final):
            _remove(path)
            removed.append(path)
    if removed:
        logger.debug("removed leftovers of interrupted saves: %s", ", ".join(removed))
    return removed


def _is_complete(path: str) -> bool:
    if os.path.isdir(path):
        return os.path.exists(os.path.join(path, STATE_FILE_NAME))
    return os.path.isfile(path)


def previous_copy(path: str) -> str | None:
    """Find the copy an interrupted ``overwrite`` set aside, when ``path`` itself is missing.

    Returns the newest complete ``<path>.old-*``, or None (also when
    ``path`` exists).
    """
    if os.path.lexists(path):
        return None
    parent = os.path.dirname(path) or "."
    base = os.path.basename(path)
    try:
        found = [os.path.join(parent, e) for e in os.listdir(parent) if _is_old_copy(e, base)]
    except OSError:
        return None
    found = [f for f in found if _is_complete(f)]
    return max(found, key=os.path.getmtime) if found else None


def save_state_to_file(
    state: State,
    path: PathLike,
    compress: bool = False,
    pickle_only: bool = False,
    overwrite: bool = False,
    pickle_module: Any = dill,
    pickle_protocol: int = DEFAULT_PROTOCOL,
) -> str:
    """Write ``state`` to ``path``.

    Parameters
    ----------
    state : State
        Usually ``obj.get_state()``.
    path : str or PathLike
        The directory to create (``<path>.pkl`` with ``pickle_only``,
        ``<path>.tar.gz`` or ``<path>.pkl.tar.gz`` with ``compress``): a
        plain path, a ``file://`` URL, or a URL whose scheme an installed
        storage plugin serves (``s3://`` with flambe-cluster), where the
        save is uploaded once complete.
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
    StorageError
        ``path`` is a ``scheme://`` URL that no installed plugin serves
        (nothing is written), or the upload failed.

    """
    from flambe import storage

    path = os.fspath(path)
    if not storage.is_local(path):
        return _save_to_url(
            state, path, compress, pickle_only, overwrite, pickle_module, pickle_protocol
        )
    local = os.path.abspath(storage.local_path(path))
    return _save_local(
        state, local, compress, pickle_only, overwrite, pickle_module, pickle_protocol
    )


def _save_local(
    state: State,
    path: str,
    compress: bool,
    pickle_only: bool,
    overwrite: bool,
    pickle_module: Any,
    pickle_protocol: int,
) -> str:
    """:func:`save_state_to_file` to a local absolute ``path``: returns the path written."""
    final = _destination(path, compress, pickle_only)
    _check_free(final, overwrite)
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    remove_leftovers(final)
    try:
        _save_through_temp(state, final, compress, pickle_only, pickle_module, pickle_protocol)
        remove_leftovers(final)  # a copy set aside by a killed save, now that final is whole
        return final
    except (OSError, RuntimeError) as exc:  # torch's writer reports a short write as RuntimeError
        if is_disk_full(exc) and not isinstance(exc, DiskFullError):
            raise disk_full_error(final, "the save") from exc
        raise


def _save_through_temp(
    state: State,
    final: str,
    compress: bool,
    pickle_only: bool,
    pickle_module: Any,
    pickle_protocol: int,
) -> str:
    """Build the save in a temporary folder beside ``final``, then put it in place."""
    import torch

    parent = os.path.dirname(final)
    tmp = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=parent)
    owner = os.open(os.path.join(tmp, OWNER_FILE), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(owner, fcntl.LOCK_EX)  # held until the end: the folder is not a leftover
        member = os.path.basename(final[: -len(".tar.gz")] if compress else final)
        built = os.path.join(tmp, member)
        if pickle_only:
            torch.save(state, built, pickle_module=pickle_module, pickle_protocol=pickle_protocol)
        else:
            write_tree(state, Path(built), pickle_module, pickle_protocol)
        if compress:
            archive = os.path.join(tmp, "archive.tar.gz")
            with tarfile.open(archive, "w:gz") as tar:
                tar.add(built, arcname=member)
            built = archive
        fault_point("save.built", final)
        if os.path.isdir(final) and not os.listdir(final):
            os.rmdir(final)
        _replace(built, final)
    finally:
        os.close(owner)
        _remove(tmp)
    return final


def _save_to_url(
    state: State,
    url: str,
    compress: bool,
    pickle_only: bool,
    overwrite: bool,
    pickle_module: Any,
    pickle_protocol: int,
) -> str:
    """Save to a local temporary folder, then upload it through the URL's storage backend."""
    from flambe import storage

    backend = storage.backend_for(url, "cannot save to")
    final = _destination(url.rstrip("/"), compress, pickle_only)
    if not overwrite and backend.exists(final):
        raise DestinationExistsError(
            f"cannot save to {final!r}: something is there already",
            hint="pass overwrite=True to replace it, or choose another location",
        )
    with tempfile.TemporaryDirectory(prefix="flambe-upload-") as tmp:
        name = os.path.basename(final[: -len(".tar.gz")] if compress else final)
        name = name[: -len(".pkl")] if pickle_only and name.endswith(".pkl") else name
        produced = save_state_to_file(
            state,
            os.path.join(tmp, name or "saved"),
            compress=compress,
            pickle_only=pickle_only,
            pickle_module=pickle_module,
            pickle_protocol=pickle_protocol,
        )
        backend.upload(produced, final)
    return final


def save(
    obj: Any,
    path: PathLike,
    compress: bool = False,
    pickle_only: bool = False,
    overwrite: bool = False,
    pickle_module: Any = dill,
    pickle_protocol: int = DEFAULT_PROTOCOL,
) -> str:
    """Save a component (config, state and code information) to ``path``.

    ``save(obj, path)`` is ``save_state_to_file(obj.get_state(), path, ...)``;
    see :func:`save_state_to_file` for the parameters. Load it back with
    :func:`load`. A component built in code is saved with a config made of
    the arguments it was built with, so that :func:`load` rebuilds it.

    Raises
    ------
    SaveError
        ``obj`` was built in code and one of its arguments cannot be written
        as YAML (the message names it); nothing is written.

    """
    made = config_for_code_built(obj)  # checked before anything is written
    state = obj.get_state()
    if made is not None:
        config, stash = made
        root = state._metadata.setdefault("", {})
        root[FLAMBE_CONFIG_KEY] = config
        if stash:
            root[FLAMBE_STASH_KEY] = dict(stash)
    return save_state_to_file(
        state,
        path,
        compress=compress,
        pickle_only=pickle_only,
        overwrite=overwrite,
        pickle_module=pickle_module,
        pickle_protocol=pickle_protocol,
    )


# -- load state ------------------------------------------------------------------------------


def load_state_from_file(
    path: PathLike, map_location: Any = None, weights_only: bool = False, pickle_module: Any = dill
) -> State:
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
        return _load_local_state(
            Path(local_path(source)), map_location, weights_only, pickle_module
        )
    with open_local(source) as local:
        return _load_local_state(Path(local), map_location, weights_only, pickle_module)


def _load_local_state(
    path: Path, map_location: Any, weights_only: bool, pickle_module: Any
) -> State:
    if path.is_dir():
        return read_tree(path, map_location, weights_only, pickle_module)
    if not path.exists():
        previous = previous_copy(str(path))
        if previous is None:
            raise LoadError(f"cannot load {str(path)!r}: no such file or directory")
        logger.warning(
            "%s is missing: a save with overwrite=True was interrupted while it "
            "replaced it; loading the previous copy, %s",
            path,
            previous,
        )
        return _load_local_state(Path(previous), map_location, weights_only, pickle_module)
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
        raise LoadError(
            f"{str(path)!r} is a single-file pickle of a whole state; only a trusted "
            "load can read it (unpickling it may run code)",
            hint=TRUST_HINT,
        )
    import torch

    state = torch.load(
        path, map_location=map_location, weights_only=False, pickle_module=pickle_module
    )
    if not isinstance(state, dict):
        raise LoadError(
            f"{str(path)!r} does not hold a flambe state (found {type(state).__name__})"
        )
    return cast(State, state)  # a State, or a plain dict of an older save: read alike


# -- load objects ---------------------------------------------------------------------------


def _compile_saved_config(
    state: State, source: str, auto_install: bool, weights_only: bool = False
) -> Any:
    if weights_only:
        with restricted():
            return _compile_saved_config_inert(state, source)
    return _compile_trusted(state, source, auto_install)


def _saved_config(state: State, source: str) -> str:
    config = state._metadata.get("", {}).get(FLAMBE_CONFIG_KEY)
    if not config or not config.strip():
        raise LoadError(
            f"no config found in {source}: the object was built in code, not from YAML",
            hint="build the object yourself and call obj.load_state(load_state_from_file(path))",
        )
    return config


def _compile_saved_config_inert(state: State, source: str) -> Any:
    """Rebuild in weights-only mode: no extension is imported or installed (see ``restricted``)."""
    config = _saved_config(state, source)
    where = os.path.join(source, CONFIG_FILE_NAME)
    try:
        extensions, _, main, name = flambe_yaml.split_config(config, where)
        if extensions:
            logger.info(
                "weights_only: ignoring the extensions header of %s (%s); only classes "
                "already registered in this process can be rebuilt",
                where,
                ", ".join(sorted(extensions)),
            )
        schema = flambe_yaml.build(main, name)
    except FlambeError as exc:
        raise LoadError(
            f"the config saved in {source} cannot be rebuilt in weights-only mode: {exc.message}",
            location=exc.location,
            hint="weights_only=True builds only classes that are already registered (installed "
            "plugins, modules you imported); import the module that defines the class "
            "yourself, or load with weights_only=False if you trust the file",
        ) from exc
    return _instantiate(schema, state, source)


def _instantiate(schema: Any, state: State, source: str) -> Any:
    if schema is None:
        raise LoadError(
            f"no config found in {source}: {os.path.join(source, CONFIG_FILE_NAME)} holds no object"
        )
    if not callable(schema):
        raise LoadError(
            f"the config saved in {source} describes a {type(schema).__name__}, not a component"
        )
    try:
        return schema(state._metadata.get("", {}).get(FLAMBE_STASH_KEY) or {})
    except TypeError as exc:
        raise LoadError(
            f"cannot rebuild the object saved in {source}: {exc}",
            hint="the class may have changed since the save, or come from an "
            "extension that is not installed",
        ) from exc


def _compile_trusted(state: State, source: str, auto_install: bool) -> Any:
    root = state._metadata.get("", {})
    config = root.get(FLAMBE_CONFIG_KEY)
    if not config or not config.strip():
        raise LoadError(
            f"no config found in {source}: the object was built in code, not from YAML",
            hint="build the object yourself and call obj.load_state(load_state_from_file(path))",
        )
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
        raise LoadError(
            f"the config saved in {source} cannot be read: {exc.message}",
            location=exc.location,
            hint=exc.hint,
        ) from exc
    schema = loaded.root
    if schema is None:
        raise LoadError(f"no config found in {source}: {where} holds no object")
    if not callable(schema):
        raise LoadError(
            f"the config saved in {source} describes a {type(schema).__name__}, not a component"
        )
    try:
        return schema(root.get(FLAMBE_STASH_KEY) or {})
    except TypeError as exc:
        raise LoadError(
            f"cannot rebuild the object saved in {source}: {exc}",
            hint="the class may have changed since the save, or come from an "
            "extension that is not installed",
        ) from exc


def load(
    path: PathLike,
    map_location: Any = None,
    auto_install: bool = False,
    weights_only: bool = False,
    strict: bool = False,
    fast_init: bool | None = None,
) -> Any:
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
        Where to put the tensors, as in ``torch.load`` (a device, a string
        such as ``"cuda:0"`` or ``"meta"``, a dict or a callable). When it
        maps every tensor to one device, the object is built on that device,
        so its parameters and buffers end up there.
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
        ``meta_init.FAST_INIT_MIN_NUMEL`` elements, ``True`` always, ``False`` never.
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
    _refuse_install_of_untrusted(weights_only, auto_install)
    source = os.fspath(path)
    return _rebuild(source, map_location, auto_install, weights_only, strict, fast_init)


def _refuse_install_of_untrusted(weights_only: bool, auto_install: bool) -> None:
    """Refuse to install what a file names when only its weights are trusted."""
    if weights_only and auto_install:
        raise LoadError(
            "auto_install=True cannot be combined with weights_only=True: installing "
            "what a file names runs code from it",
            hint="install the extensions yourself, or load trusted files with weights_only=False",
        )


def _rebuild(
    source: str,
    map_location: Any,
    auto_install: bool,
    weights_only: bool,
    strict: bool,
    fast_init: bool | None,
) -> Any:
    """:func:`load` once its options are checked: read the state, build the object, load it."""
    import contextlib

    import torch

    state = load_state_from_file(source, map_location=map_location, weights_only=weights_only)
    # with map_location, the object is built where its tensors were mapped (cuda, meta...):
    # loading them into tensors made on the default device would move them back there
    device = _single_device(state) if map_location is not None else None
    with torch.device(device) if device is not None else contextlib.nullcontext():
        obj = None
        if fast_init is not False and meta_init.eligible(
            state, force=bool(fast_init), may_import=not weights_only
        ):
            obj = meta_init.build_on_meta(
                state,
                lambda: _compile_saved_config(state, source, auto_install, weights_only),
                source,
            )
        if obj is None:
            obj = _compile_saved_config(state, source, auto_install, weights_only)
        obj.load_state(state, strict=strict)
    return obj


def _single_device(state: State) -> Any:
    """The device holding every tensor of ``state``, or None (no tensor, or several devices)."""
    import torch

    devices = {value.device for value in state.values() if isinstance(value, torch.Tensor)}
    return devices.pop() if len(devices) == 1 else None
