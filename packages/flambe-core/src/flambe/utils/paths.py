"""Where Flambé keeps its own files: the Flambé home folder.

The home folder holds the rotating logs (``logs/log.log``) and the default
secrets file (``secrets.ini``). It is ``~/.flambe`` unless the
``FLAMBE_HOME`` environment variable names another folder.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "FLAMBE_HOME"
DEFAULT_HOME = "~/.flambe"
SECRETS_FILE = "secrets.ini"
LOGS_FOLDER = "logs"
LOG_FILE = "log.log"


def flambe_home(create: bool = False) -> Path:
    """The Flambé home folder (``$FLAMBE_HOME``, default ``~/.flambe``).

    Parameters
    ----------
    create : bool
        Make the folder (and its parents) when it does not exist.

    Returns
    -------
    Path
        The absolute path of the folder, ``~`` expanded.

    """
    raw = os.environ.get(HOME_ENV) or DEFAULT_HOME
    home = Path(os.path.expanduser(raw)).absolute()
    if create:
        home.mkdir(parents=True, exist_ok=True)
    return home


def logs_folder(create: bool = False) -> Path:
    """The folder of the rotating log files, ``<home>/logs``."""
    folder = flambe_home() / LOGS_FOLDER
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_file() -> Path:
    """The current log file, ``<home>/logs/log.log``."""
    return logs_folder() / LOG_FILE


def default_secrets_path() -> Path | None:
    """``<home>/secrets.ini`` when that file exists, else ``None``."""
    path = flambe_home() / SECRETS_FILE
    return path if path.is_file() else None


def private_folder(folder: Path) -> Path:
    """Make ``folder`` (and a missing Flambé home above it) readable by the user only.

    The folders are created with mode 0700; an existing ``folder`` is set to
    0700 as well (it holds logs, which may quote configuration values).
    Parents that already exist keep their mode.

    Raises
    ------
    OSError
        When the folder cannot be created.

    """
    missing = []
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
    try:
        os.chmod(folder, 0o700)
    except PermissionError:
        pass  # not ours: leave it
    return Path(folder)
