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

import logging
import os
import shutil
import tarfile
import tempfile
import uuid
from pathlib import Path
from typing import Any, Optional

import dill

from flambe.compile import meta_init
from flambe.compile.save_format import (CONFIG_FILE_NAME, DEFAULT_PROTOCOL,
                                        HIGHEST_SERIALIZATION_PROTOCOL_VERSION, PathLike,
                                        TRUST_HINT, frozen_requirements, read_tree, write_deps,
                                        write_tree)
from flambe.compile.state import FLAMBE_CONFIG_KEY, FLAMBE_STASH_KEY, State
from flambe.errors import ExtensionError, FlambeError, LoadError

logger = logging.getLogger(__name__)

__all__ = ["save", "load", "save_state_to_file", "load_state_from_file", "DestinationExistsError",
           "frozen_requirements", "write_deps", "HIGHEST_SERIALIZATION_PROTOCOL_VERSION"]


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
    import torch

    from flambe import storage
    path = os.fspath(path)
    if not storage.is_local(path):
        return _save_to_url(state, path, compress, pickle_only, overwrite, pickle_module,
                            pickle_protocol)
    path = os.path.abspath(storage.local_path(path))
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
            write_tree(state, Path(built), pickle_module, pickle_protocol)
        if compress:
            archive = os.path.join(tmp, "archive.tar.gz")
            with tarfile.open(archive, "w:gz") as tar:
                tar.add(built, arcname=member)
            built = archive
        if os.path.isdir(final) and not os.listdir(final):
            os.rmdir(final)
        _replace(built, final)
    return final


def _save_to_url(state: State, url: str, compress: bool, pickle_only: bool, overwrite: bool,
                 pickle_module: Any, pickle_protocol: int) -> str:
    """Save to a local temporary folder, then upload it through the URL's storage backend."""
    from flambe import storage
    backend = storage.backend_for(url, "cannot save to")
    final = _destination(url.rstrip("/"), compress, pickle_only)
    if not overwrite and backend.exists(final):
        raise DestinationExistsError(f"cannot save to {final!r}: something is there already",
                                     hint="pass overwrite=True to replace it, or choose another "
                                          "location")
    with tempfile.TemporaryDirectory(prefix="flambe-upload-") as tmp:
        name = os.path.basename(final[:-len(".tar.gz")] if compress else final)
        name = name[:-len(".pkl")] if pickle_only and name.endswith(".pkl") else name
        produced = save_state_to_file(state, os.path.join(tmp, name or "saved"),
                                      compress=compress, pickle_only=pickle_only,
                                      pickle_module=pickle_module,
                                      pickle_protocol=pickle_protocol)
        backend.upload(produced, final)
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
        return read_tree(path, map_location, weights_only, pickle_module)
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
                        "load can read it (unpickling it may run code)", hint=TRUST_HINT)
    import torch
    state = torch.load(path, map_location=map_location, weights_only=False,
                       pickle_module=pickle_module)
    if not isinstance(state, dict):
        raise LoadError(f"{str(path)!r} does not hold a flambe state "
                        f"(found {type(state).__name__})")
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
    source = os.fspath(path)
    state = load_state_from_file(source, map_location=map_location, weights_only=weights_only)
    obj = None
    if fast_init is not False and meta_init.eligible(state, force=bool(fast_init)):
        obj = meta_init.build_on_meta(
            state, lambda: _compile_saved_config(state, source, auto_install), source)
    if obj is None:
        obj = _compile_saved_config(state, source, auto_install)
    obj.load_state(state, strict=strict)
    return obj
