"""The log output of the libraries Flambé drives (Ray), routed through Flambé's logging.

Ray installs its own handler on the ``ray`` logger (straight to stderr, not
propagated), and its core prints start-up notices ("Failed to determine local
IP" in a namespace without network) on the process's file descriptor 2. Both
are taken here into the ``logging`` tree, where the ``flambe`` command sends
them to its log file (and to the console only with ``-v``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence

ADOPTED = ("ray",)


def adopt_library_loggers(names: Sequence[str] = ADOPTED) -> None:
    """Remove the libraries' own handlers so that their records reach the root logger.

    Parameters
    ----------
    names : sequence of str
        Logger names (``"ray"``): their handlers are removed, they propagate, and
        their level is INFO (the library may have raised it: its notices, and the
        lines :func:`stderr_to_log` captures on its loggers, must reach the log file).

    """
    for name in names:
        library = logging.getLogger(name)
        for handler in list(library.handlers):
            library.removeHandler(handler)
        library.propagate = True
        library.setLevel(logging.INFO)


@contextlib.contextmanager
def stderr_to_log(logger_name: str, level: int = logging.INFO) -> Iterator[None]:
    """Capture what is written on file descriptor 2 (C++ code included) into log records.

    Each non-empty captured line becomes a record of ``logger_name`` at
    ``level`` once the block ends (at ERROR when the block raised). Python's
    ``sys.stderr`` writes made inside the block are captured too.

    Parameters
    ----------
    logger_name : str
        The logger the captured lines are logged on (e.g. ``"ray.init"``).
    level : int
        Their level.

    """
    fd = 2  # what C++ code writes to, whatever sys.stderr is
    try:
        saved = os.dup(fd)
    except OSError:
        yield
        return
    failed = False
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), fd)
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            try:
                sys.stderr.flush()
            finally:
                os.dup2(saved, fd)
                os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            logger = logging.getLogger(logger_name)
            for line in text.splitlines():
                if line.strip():
                    logger.log(logging.ERROR if failed else level, "%s", line.rstrip())
