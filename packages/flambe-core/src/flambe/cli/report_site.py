"""The report site beside ``flambe run``: the hint, ``--site`` and the console log it shows.

At the start of an experiment ``flambe run`` prints the exact ``flambe site``
command that serves its output folder (or how to install flambe-report).
With ``--site`` the site runs beside the experiment, as a child process
(``python -m flambe.report``), and stops when the run ends, unless
``--site-keep``: then it serves on after the run has ended (and printed its
summary), until Ctrl-C. flambe-core never imports Flask: the site is another process.

Every run of an experiment also copies its console (the records ``flambe
run`` shows) to ``<output folder>/console.log``, appended to on every rerun,
so the site can follow it. The file is opened only once the run has claimed
the folder (its ``run.json`` written), never before.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger("flambe.cli")

REPORT_DISTRIBUTION = "flambe-report"
DEFAULT_PORT = 49558
CONSOLE_LOG = "console.log"
RUN_FILE = "run.json"
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
_MAX_BUFFERED = 10_000


def report_installed() -> bool:
    """Whether flambe-report (the ``flambe site`` command) can be imported."""
    try:
        return importlib.util.find_spec("flambe.report.cli") is not None
    except (ImportError, ValueError):
        return False


def site_hint(output_path: str) -> str:
    """Return the line that tells how to watch an experiment in a browser."""
    if report_installed():
        return f"Report site: flambe site {output_path}"
    return f"Report site: pip install {REPORT_DISTRIBUTION}, then flambe site {output_path}"


class ConsoleLogHandler(logging.Handler):
    """Append log records to ``<output>/console.log`` once the run has written its ``run.json``.

    Records that come earlier are kept (up to 10,000) and written first.

    Parameters
    ----------
    output_path : str
        The experiment's output folder.

    """

    def __init__(self, output_path: str) -> None:
        super().__init__(logging.INFO)
        self.output_path = output_path
        self.started = time.time()
        self._file: Any | None = None
        self._pending: list[str] = []
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def _ready(self) -> bool:
        try:
            return os.stat(os.path.join(self.output_path, RUN_FILE)).st_mtime >= self.started - 1
        except OSError:
            return False

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record, or keep it until the output folder is the run's."""
        try:
            line = self.format(record) + "\n"
            if self._file is None:
                if not self._ready():
                    if len(self._pending) < _MAX_BUFFERED:
                        self._pending.append(line)
                    return
                # readable by the user only, like Flambé's other logs
                fd = os.open(
                    os.path.join(self.output_path, CONSOLE_LOG),
                    os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                    0o600,
                )
                self._file = os.fdopen(fd, "a", encoding="utf-8")
                self._file.write("".join(self._pending))
                self._pending = []
            self._file.write(line)
            self._file.flush()
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
        super().close()


def _start_site(output_path: str, port: int) -> subprocess.Popen | None:
    command = [
        sys.executable,
        "-m",
        "flambe.report",
        output_path,
        "--port",
        str(port),
        "--parent-pid",
        str(os.getpid()),
    ]
    try:
        return subprocess.Popen(command)
    except OSError as exc:
        logger.warning("the report site could not start: %s", exc)
        return None


def _stop_site(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def report_site(
    runnable: Any, start: bool = False, keep: bool = False, port: int = DEFAULT_PORT
) -> Iterator[None]:
    """Around the run of a runnable: the site hint, the console log, ``--site``/``--site-keep``.

    Parameters
    ----------
    runnable : Runnable
        What ``flambe run`` runs; only one with an ``output_path`` (an
        Experiment) has a report site.
    start : bool
        Start the site beside the run (``--site``).
    keep : bool
        Keep serving after the run ended, until Ctrl-C (``--site-keep``).
    port : int
        The site's port on 127.0.0.1.

    """
    output_path = getattr(runnable, "output_path", None)
    if not isinstance(output_path, str):
        if start or keep:
            logger.warning("--site: only an experiment has a report site; running without it")
        yield
        return
    root = logging.getLogger()
    handler = ConsoleLogHandler(output_path)
    root.addHandler(handler)
    process = None
    if (start or keep) and not report_installed():
        logger.warning("--site needs %s: pip install %s", REPORT_DISTRIBUTION, REPORT_DISTRIBUTION)
    elif start or keep:
        process = _start_site(output_path, port)
    logger.info(site_hint(output_path))
    interrupted = False
    try:
        yield
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        root.removeHandler(handler)
        handler.close()
        if process is not None:
            if keep and not interrupted and process.poll() is None:
                # the run has ended and said so (its summary); Ctrl-C ends the wait, not the run
                _wait_for_ctrl_c(process, port)
            _stop_site(process)


def _wait_for_ctrl_c(process: subprocess.Popen, port: int) -> None:
    """Wait until the site ends or Ctrl-C, whatever SIGINT handler the run left installed."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        logger.info("The report site goes on at http://127.0.0.1:%d/ (Ctrl-C stops it)", port)
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, previous)
