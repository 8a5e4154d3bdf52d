"""Logging for the ``flambe`` command line.

The console shows records at INFO (DEBUG with ``-v``); every record at DEBUG
and above also goes to a rotating file, ``<flambe home>/logs/log.log``, so a
failed run can be inspected afterwards. Handlers installed here are tagged so
that calling :func:`setup_logging` twice replaces them instead of piling up.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import List, Optional

from flambe.utils.paths import log_file, logs_folder

CONSOLE_FORMAT = "%(message)s"
CONSOLE_DEBUG_FORMAT = "%(levelname)s %(name)s: %(message)s"
FILE_FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"
MAX_BYTES = 10 * 2**20
BACKUP_COUNT = 5
_MARK = "_flambe_cli_handler"


def _tag(handler: logging.Handler) -> logging.Handler:
    setattr(handler, _MARK, True)
    return handler


def setup_logging(verbose: bool = False, to_file: bool = True) -> List[logging.Handler]:
    """Install the console and file handlers on the root logger.

    Parameters
    ----------
    verbose : bool
        Show DEBUG records on the console instead of INFO and above.
    to_file : bool
        Also write every record to ``<flambe home>/logs/log.log`` (rotating,
        10 MiB per file, 5 backups). A home folder that cannot be written is
        not an error: logging then goes to the console only.

    Returns
    -------
    list of logging.Handler
        The handlers installed.

    """
    root = logging.getLogger()
    teardown_logging()
    console = _tag(logging.StreamHandler(sys.stderr))
    console.setLevel(logging.DEBUG if verbose else logging.INFO)
    console.setFormatter(logging.Formatter(CONSOLE_DEBUG_FORMAT if verbose else CONSOLE_FORMAT))
    handlers: List[logging.Handler] = [console]
    if to_file:
        file_handler = _file_handler()
        if file_handler is not None:
            handlers.append(file_handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    return handlers


def _file_handler() -> Optional[logging.Handler]:
    try:
        logs_folder(create=True)
        handler = logging.handlers.RotatingFileHandler(
            Path(log_file()), maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write logs to %s: %s", log_file(), exc)
        return None
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    return _tag(handler)


def teardown_logging() -> None:
    """Remove (and close) the handlers installed by :func:`setup_logging`."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
            handler.close()


def log_to_file(level: int, message: str, exc: Optional[BaseException] = None) -> None:
    """Write a record to the log file only (not the console), e.g. a traceback."""
    root = logging.getLogger()
    record = logging.getLogger("flambe.cli").makeRecord(
        "flambe.cli", level, __file__, 0, message, (),
        (type(exc), exc, exc.__traceback__) if exc is not None else None)
    for handler in root.handlers:
        if getattr(handler, _MARK, False) and isinstance(handler, logging.FileHandler):
            if record.levelno >= handler.level:
                handler.handle(record)


def console_configured() -> bool:
    """Whether :func:`setup_logging` installed a console handler."""
    return any(getattr(h, _MARK, False) and not isinstance(h, logging.FileHandler)
               for h in logging.getLogger().handlers)
