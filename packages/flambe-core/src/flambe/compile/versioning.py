"""Semantic versions of component classes, checked when a state is loaded.

Each class has ``_flambe_version = "MAJOR.MINOR.PATCH"``. ``"0.0.0"`` means
unversioned: at load, a class whose source changed since the save only
warns. Any other version opts in; when the saved and current versions
differ, loading:

- first calls ``cls._migrate_state(state, prefix, from_version)`` when the
  saved version is older, so that the class can upgrade the old state (see
  :meth:`flambe.compile.state.StatefulMixin._migrate_state`);
- then compares the versions (the migrated one if the hook returned one):
  a different MAJOR raises :class:`~flambe.errors.VersionMismatchError`,
  a different MINOR warns (:class:`StateVersionWarning`), a different PATCH
  is logged at debug level.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import warnings
from typing import Any

from flambe.errors import LoadError, VersionMismatchError

logger = logging.getLogger(__name__)

VERSION_KEY = "_flambe_version"
UNVERSIONED = "0.0.0"


class StateVersionWarning(UserWarning):
    """A saved state comes from another minor version, or an edited unversioned class."""


@functools.cache
def class_source(cls: type) -> str:
    """The source code of ``cls``, or ``''`` when it is unavailable (REPL, notebooks)."""
    cls = getattr(cls, "_flambe_wrapped", cls)  # wrappers of third-party classes
    try:
        return inspect.getsource(cls)
    except Exception:  # OSError/TypeError, or odd module loaders
        return ""


_VERSION_RE = re.compile(r"^\s*(\d+)\.(\d+)\.(\d+)")


def parse_version(version: Any, what: str = "version") -> tuple[int, int, int]:
    """``"1.2.3"`` -> ``(1, 2, 3)``; anything after the patch number is ignored.

    Raises
    ------
    LoadError
        When ``version`` does not start with ``MAJOR.MINOR.PATCH``.

    """
    match = _VERSION_RE.match(str(version))
    if match is None:
        raise LoadError(
            f"{what} {version!r} is not a semantic version",
            hint="write versions as 'MAJOR.MINOR.PATCH', for example '1.0.0'",
        )
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def check_version(cls: type, saved: Any, path: str, saved_source: str | None = None) -> None:
    """Compare the version a state was saved with to the current version of ``cls``.

    Parameters
    ----------
    cls : type
        The class the state is loaded into.
    saved : str
        The version recorded when the state was saved.
    path : str
        The component's dotted path in the state (``''`` for the root), for messages.
    saved_source : str, optional
        The class source recorded at save time (compared for unversioned classes).

    Raises
    ------
    VersionMismatchError
        The major versions differ.

    """
    name = cls.__name__
    where = f"'{path}'" if path else "the root"
    current = getattr(cls, VERSION_KEY, UNVERSIONED)
    saved_v = parse_version(saved, f"the saved version of {name} at {where}")
    current_v = parse_version(current, f"{name}._flambe_version")
    if saved_v == current_v == (0, 0, 0):
        source = class_source(cls)
        if saved_source and source and saved_source != source:
            warnings.warn(
                f"the source of {name} changed since its state at {where} was saved; "
                f"the state is loaded anyway. Set {name}._flambe_version (for example to "
                "'1.0.0') to have flambe check versions instead of sources",
                StateVersionWarning,
                stacklevel=3,
            )
        return
    if saved_v[0] != current_v[0]:
        raise VersionMismatchError(
            f"cannot load the state of {name} at {where}: it was saved with version {saved}, "
            f"the class is now version {current} (major versions differ)",
            hint=f"load it with code whose {name}._flambe_version is {saved_v[0]}.x.x, or "
            f"implement {name}._migrate_state to upgrade states from version {saved} "
            f"and return the version the migrated state matches",
        )
    if saved_v[1] != current_v[1]:
        warnings.warn(
            f"the state of {name} at {where} was saved with version {saved}; the class is now "
            f"version {current} (minor versions differ); loading it anyway",
            StateVersionWarning,
            stacklevel=3,
        )
    elif saved_v[2] != current_v[2]:
        logger.debug(
            "state of %s at %s saved with version %s, class is version %s",
            name,
            where,
            saved,
            current,
        )
