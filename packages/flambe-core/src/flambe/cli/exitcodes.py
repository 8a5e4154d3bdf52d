"""Exit codes of the ``flambe`` command, and how failures are shown.

=====  =============================================================
code   meaning
=====  =============================================================
0      success
1      the runnable failed while running (or a plugin command failed)
2      usage error: unknown option, missing argument, bad combination
16     the experiment's output folder is in use by another run (``EBUSY``);
       the message names it (pid, host, start time)
22     configuration error (``EINVAL``): YAML, tags, links, arguments,
       extensions, secrets file, a root that is not a runnable
28     a disk filled up (``ENOSPC``): the message names the file and the
       space left; everything finished before is kept
130    interrupted (Ctrl-C)
=====  =============================================================
"""

from __future__ import annotations

import errno
import logging
import traceback
from typing import NoReturn

import click

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONFIG = errno.EINVAL
EXIT_BUSY = errno.EBUSY
EXIT_DISK_FULL = errno.ENOSPC
EXIT_INTERRUPTED = 130

logger = logging.getLogger("flambe.cli")


def show_error(exc: BaseException, show_traceback: bool = False, hint_log: bool = False) -> None:
    """Print ``error: <message>`` on stderr; the traceback only when asked for.

    A :class:`~flambe.errors.FlambeError` prints as ``file:line:col: message``
    followed by its hint. The traceback always goes to the log file; with
    ``hint_log`` the message says where to find it.
    """
    from flambe.errors import FlambeError

    if isinstance(exc, FlambeError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    if show_traceback:
        click.echo(
            "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            err=True,
            nl=False,
        )
    click.echo(f"error: {text}", err=True)
    from flambe.cli.logs import log_to_file

    written = log_to_file(logging.ERROR, f"error: {text}", exc)
    if hint_log and not show_traceback:
        if written is not None:
            click.echo(f"  (traceback in {written}; rerun with -v to print it)", err=True)
        else:
            click.echo(
                "  (no log file was written: the Flambé home folder cannot be written; "
                "rerun with -v to print the traceback)",
                err=True,
            )


def exit_with(code: int) -> NoReturn:
    """Leave the command with ``code`` (click turns it into the process status)."""
    raise SystemExit(code)


def interrupted() -> NoReturn:
    """Ctrl-C: say so and exit with 130."""
    from flambe.cli.logs import console_configured

    if console_configured():
        logger.warning("Exiting early")
    else:
        click.echo("Exiting early", err=True)
    exit_with(EXIT_INTERRUPTED)
