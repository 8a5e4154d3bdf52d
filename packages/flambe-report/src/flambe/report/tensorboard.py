"""TensorBoard beside the site: whether it is installed, starting it, links filtered by run.

TensorBoard's Time Series dashboard reads a run filter (a regular
expression over run folders) from the ``runFilter`` query parameter, so a
link can open it on one stage (``^train/``) or one variant.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from urllib.parse import quote

INSTALL_HINT = "pip install 'flambe-report[tensorboard]'"
DEFAULT_PORT = 49556


def installed() -> bool:
    """Whether the ``tensorboard`` package (its server) can be imported."""
    try:
        return importlib.util.find_spec("tensorboard.main") is not None
    except (ImportError, ValueError):
        return False


def filtered_url(base: str, stage: str | None = None, variant: str | None = None) -> str:
    """Return a TensorBoard URL showing only one stage's or one variant's runs."""
    base = base.rstrip("/")
    if stage is None:
        return f"{base}/#timeseries"
    pattern = "^" + re.escape(stage) + "/"
    if variant is not None:
        pattern += re.escape(variant) + "(/|$)"
    return f"{base}/?runFilter={quote(pattern, safe='')}#timeseries"


def command(logdir: str, host: str, port: int) -> list[str]:
    """Return the command that serves ``logdir`` with this Python's TensorBoard."""
    return [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir",
        logdir,
        "--host",
        host,
        "--port",
        str(port),
    ]


def start(logdir: str, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> subprocess.Popen:
    """Start TensorBoard on ``logdir``; the caller stops it (``terminate()``)."""
    return subprocess.Popen(
        command(logdir, host, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
