"""Logging for the ``flambe`` command line.

The console shows records at INFO (DEBUG with ``-v``); every record at DEBUG
and above also goes to a rotating file, ``<flambe home>/logs/log.log``, so a
failed run can be inspected afterwards. Handlers installed here are tagged so
that calling :func:`setup_logging` twice replaces them instead of piling up.

The notices of the libraries Flambé drives (Ray's start-up and Tune's own
reports of trials, whose failures Flambé reports itself) go to the file
only; ``-v`` shows them on the console as well.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from flambe.utils.paths import log_file, logs_folder, private_folder

CONSOLE_FORMAT = "%(message)s"
CONSOLE_DEBUG_FORMAT = "%(levelname)s %(name)s: %(message)s"
FILE_FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"
MAX_BYTES = 10 * 2**20
BACKUP_COUNT = 5
_MARK = "_flambe_cli_handler"
# loggers whose records reach the console only with -v (always the log file)
QUIET_LOGGERS = ("ray", "pyarrow", "filelock", "urllib3")


class QuietLibrariesFilter(logging.Filter):
    """Keep the records of :data:`QUIET_LOGGERS` off the console (they stay in the file)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether the record may reach the console."""
        name = record.name
        return not any(name == quiet or name.startswith(quiet + ".") for quiet in QUIET_LOGGERS)


def _tag(handler: logging.Handler) -> logging.Handler:
    setattr(handler, _MARK, True)
    return handler


def setup_logging(verbose: bool = False, to_file: bool = True) -> list[logging.Handler]:
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
    if not verbose:
        console.addFilter(QuietLibrariesFilter())
    handlers: list[logging.Handler] = [console]
    if to_file:
        file_handler = _file_handler()
        if file_handler is not None:
            handlers.append(file_handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    return handlers


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file that only its owner can read (mode 0600, also after rotation)."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # a file from an older version may be world-readable
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def _file_handler() -> logging.Handler | None:
    try:
        private_folder(logs_folder())
        handler = PrivateRotatingFileHandler(
            Path(log_file()), maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
        assert handler.stream is not None  # opened by __init__ (no delay)
        handler.stream.write("")  # fails now, not at the first record, when it cannot be written
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


def log_to_file(level: int, message: str, exc: BaseException | None = None) -> str | None:
    """Write a record to the log file only (not the console), e.g. a traceback.

    Returns
    -------
    str or None
        The file the record went to; ``None`` when no log file is open (the
        Flambé home folder could not be written).

    """
    root = logging.getLogger()
    record = logging.getLogger("flambe.cli").makeRecord(
        "flambe.cli",
        level,
        __file__,
        0,
        message,
        (),
        (type(exc), exc, exc.__traceback__) if exc is not None else None,
    )
    written = None
    for handler in root.handlers:
        if getattr(handler, _MARK, False) and isinstance(handler, logging.FileHandler):
            if record.levelno >= handler.level:
                handler.handle(record)
                written = handler.baseFilename
    return written


def console_configured() -> bool:
    """Whether :func:`setup_logging` installed a console handler."""
    return any(
        getattr(h, _MARK, False) and not isinstance(h, logging.FileHandler)
        for h in logging.getLogger().handlers
    )
