"""One run per output folder: an exclusive lock held for the whole run.

``flambe run`` takes ``<output folder>/.flambe.lock`` with ``fcntl.flock``
before it reads or writes anything in the folder. The kernel drops the lock
when the process ends, however it ends (``kill -9`` included), so a dead
run never blocks the next one. While a run holds it, the file names the
holder (pid, host, start time) and a second run refuses at once with
:class:`~flambe.errors.OutputBusyError` (``flambe`` exits with status 16).
Readers (the report site, ``flambe plan``, ``progress.json``) never take it.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import logging
import os
import socket
import time
from typing import Any

from flambe.errors import OutputBusyError

logger = logging.getLogger(__name__)

LOCK_FILE = ".flambe.lock"


def read_holder(folder: str) -> dict[str, Any] | None:
    """Read what the lock file of ``folder`` says about its last holder (None if unreadable)."""
    try:
        with open(os.path.join(folder, LOCK_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe_holder(holder: dict[str, Any] | None) -> str:
    """``pid 123 on host h, started 2026-01-01 10:00:00 UTC``, or a neutral phrase."""
    if not holder:
        return "another process (it has not written its name yet)"
    started = holder.get("started")
    when = (
        datetime.datetime.fromtimestamp(float(started), datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S UTC"
        )
        if isinstance(started, (int, float))
        else "?"
    )
    return f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, started {when}"


class OutputLock:
    """The exclusive lock of an output folder (a context manager).

    Parameters
    ----------
    folder : str
        The output folder; it is created when missing.
    what : str
        What holds it, written into the lock file (``"flambe run exp.yaml"``).

    """

    def __init__(self, folder: str, what: str = "flambe run") -> None:
        self.folder = os.path.abspath(folder)
        self.path = os.path.join(self.folder, LOCK_FILE)
        self.what = what
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def acquire(self) -> OutputLock:
        """Take the lock, or raise at once when another process holds it.

        Raises
        ------
        OutputBusyError
            Another live process holds the folder; the message names it.

        """
        if self._fd is not None:
            return self
        os.makedirs(self.folder, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if not isinstance(exc, BlockingIOError) and exc.errno in (
                errno.ENOLCK,
                errno.EOPNOTSUPP,
            ):
                # a file system without locks (some network mounts): run, but say so
                logger.warning(
                    "cannot lock %s (%s): nothing stops a second run of this output folder",
                    self.path,
                    exc.strerror,
                )
                self._fd = fd
                return self
            os.close(fd)
            if not isinstance(exc, BlockingIOError):
                raise
            holder = read_holder(self.folder)
            raise OutputBusyError(
                f"the output folder {self.folder} is in use by another run: "
                f"{describe_holder(holder)}"
                + (f" ({holder['what']})" if holder and holder.get("what") else ""),
                hint="wait for that run to finish (or stop it), or give this experiment another "
                "name or save_path; the lock goes away by itself when that process ends",
            ) from None
        except BaseException:
            os.close(fd)
            raise
        record = json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": time.time(),
                "what": self.what,
            }
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go of the lock (the file stays: removing it would race with a new holder)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError:
            pass  # never locked (a file system without locks); closing is enough
        os.close(fd)

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()
