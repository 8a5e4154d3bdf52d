"""The version of a component class as it counts in a variant's identity.

A class from an installed, versioned distribution is identified by its
``_flambe_version``: its code changes only with the distribution's version.
A class whose code is the user's own (a module next to the config, a module
on ``PYTHONPATH``, a local extension folder, an editable install) can change
without any version changing, so its identity also holds a hash of its
source: the files of the modules that define it and its user-code bases.
Editing such a file changes the identity of every variant using the class,
so a rerun runs those variants again instead of reusing stale results.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import site
import sys
import sysconfig
from importlib import metadata

CODE_MARK = "+code."
HASH_CHARS = 16


@functools.lru_cache(maxsize=1)
def _installed_roots() -> tuple[str, ...]:
    """Folders holding installed code: site-packages and the standard library."""
    roots: set[str] = set()
    for key in ("purelib", "platlib", "stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    try:
        roots.update(os.path.realpath(p) for p in site.getsitepackages())
    except AttributeError:  # pragma: no cover - virtualenvs of old Pythons
        pass
    user = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    if isinstance(user, str):
        roots.add(os.path.realpath(user))
    return tuple(sorted(roots))


@functools.lru_cache(maxsize=1)
def _packages() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


@functools.cache
def _from_local_folder(top_level: str) -> bool:
    """Whether a distribution providing ``top_level`` was installed from a local folder."""
    for name in _packages().get(top_level, []):
        try:
            text = metadata.distribution(name).read_text("direct_url.json")
        except metadata.PackageNotFoundError:
            continue
        if text:
            try:
                if "dir_info" in json.loads(text):
                    return True
            except ValueError:
                continue
    return False


@functools.cache
def is_user_code(module_name: str) -> bool:
    """Whether a module is the user's own code rather than an installed, versioned release.

    Parameters
    ----------
    module_name : str
        A module's ``__name__``.

    Returns
    -------
    bool
        True for a module file outside site-packages and the standard library
        (next to the config, on ``PYTHONPATH``, an editable install), or one
        of a distribution pip installed from a local folder (PEP 610
        ``dir_info``); False for builtins and released distributions.

    """
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if not file:
        return False
    path = os.path.realpath(file)
    if not any(path.startswith(root + os.sep) for root in _installed_roots()):
        return True
    return _from_local_folder(module_name.split(".")[0])


@functools.lru_cache(maxsize=4096)
def _file_hash(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def source_files(cls: type) -> list[str]:
    """The source files of the user-code modules defining ``cls`` and its bases.

    Parameters
    ----------
    cls : type
        A component class.

    Returns
    -------
    list of str
        Absolute paths, sorted, without duplicates (empty for installed code).

    """
    files: set[str] = set()
    for klass in cls.__mro__:
        module_name = getattr(klass, "__module__", None)
        if not module_name or not is_user_code(module_name):
            continue
        file = getattr(sys.modules.get(module_name), "__file__", None)
        if file and file.endswith(".py") and os.path.isfile(file):
            files.add(os.path.realpath(file))
    return sorted(files)


def source_hash(cls: type) -> str | None:
    """A hash of the source files of ``cls`` (:func:`source_files`); None for installed code."""
    files = source_files(cls)
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        stat = os.stat(path)
        digest.update(_file_hash(path, stat.st_size, stat.st_mtime_ns).encode())
    return digest.hexdigest()[:HASH_CHARS]


def class_version(cls: type) -> str:
    """The version of ``cls`` in variant identities.

    Parameters
    ----------
    cls : type
        A component class.

    Returns
    -------
    str
        ``_flambe_version`` (default ``0.0.0``), followed by
        ``+code.<hash of its source>`` when the class is user code.

    """
    version = str(getattr(cls, "_flambe_version", "0.0.0"))
    code = source_hash(cls)
    return f"{version}{CODE_MARK}{code}" if code else version


def split_version(value: str) -> tuple[str, str | None]:
    """``(version, code hash or None)`` from a :func:`class_version` string."""
    version, mark, code = value.partition(CODE_MARK)
    return version, (code if mark else None)
