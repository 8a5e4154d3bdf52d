"""Make one file write fail part way, as a full disk would, whatever code does the writing.

:func:`fail_writes_in` arms a real operating-system limit: from the first
time a file in ``folder`` is opened for writing, the process may write no
file beyond ``limit`` bytes (``RLIMIT_FSIZE``; the ``SIGXFSZ`` signal is
ignored, so the write fails with ``EFBIG``). A writer that truncates the
destination and writes in place leaves a cut file behind; one that writes
a temporary file and renames it leaves the previous file whole. It works
on the real write path (no mock), so it must run in a child process: the
limit cannot be lifted once armed.
"""

from __future__ import annotations

import os
import resource
import signal
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _writes(mode: object, flags: object) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def fail_writes_in(folder: str, limit: int, name: str | None = None) -> None:
    """Limit file writes to ``limit`` bytes once a file of ``folder`` is opened for writing.

    Parameters
    ----------
    folder : str
        Only opening a file directly in this folder arms the limit.
    limit : int
        The largest file size the process may then write.
    name : str, optional
        Arm only for files whose name contains this (``"run.json"`` matches
        ``run.json`` and a temporary ``.run.json.x1y2.tmp``).

    """
    folder = os.path.realpath(folder)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def hook(event: str, args: tuple) -> None:
        if event != "open" or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        path = os.fsdecode(args[0])
        if not _writes(args[1] if len(args) > 1 else None, args[2] if len(args) > 2 else None):
            return
        if os.path.realpath(os.path.dirname(os.path.abspath(path))) != folder:
            return
        if name is not None and name not in os.path.basename(path):
            return
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))

    sys.addaudithook(hook)
