"""The logging calls: ``flambe.log`` and the typed ``log_*`` functions.

Each call emits one INFO record on the caller's module logger whose message
is a :mod:`~flambe.logging.datatypes` tuple. Inside a
:class:`~flambe.logging.trial.TrialLogging` context (or after
:func:`~flambe.logging.trial.set_log_dir`) the record is written to
TensorBoard; elsewhere it is an ordinary INFO record such as
``loss#3 = 0.5 (12:00:00)``.
"""

from __future__ import annotations

import logging
import numbers
import sys
from typing import Any, cast

from flambe.logging.datatypes import HistogramT, ImageT, PRCurveT, ScalarsT, ScalarT, TextT

ValueT = float | dict[str, float] | str


_LOGGERS: dict[str, logging.Logger] = {}


def _logger(logger: logging.Logger | None, depth: int = 2) -> logging.Logger:
    """``logger``, or the logger of the module ``depth`` frames above this call."""
    if logger is not None:
        return logger
    name = sys._getframe(depth).f_globals.get("__name__", "flambe")
    found = _LOGGERS.get(name)
    if found is None:  # getLogger takes a lock: look each module's logger up once
        found = _LOGGERS[name] = logging.getLogger(name)
    return found


def _scalar_of(data: Any) -> float | None:
    """``data`` as a Python number when it is one (or a one-element tensor/array)."""
    if isinstance(data, (bool, numbers.Number)):
        return cast(float, data)  # any real number (an int, a numpy scalar) is logged as it is
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(data, torch.Tensor) and data.numel() == 1:
        return data.item()
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(data, numpy.ndarray) and data.size == 1:
        return data.item()
    return None


def log(tag: str, data: object, global_step: int, walltime: float | None = None) -> None:
    """Log a value under ``tag``; its type picks the TensorBoard kind.

    Numbers and one-element tensors are scalars, dicts of numbers are
    grouped scalars, strings are text; anything else becomes a plain INFO
    text record ``"<tag> #<step>: <data> (not logged to tensorboard)"``.

    Parameters
    ----------
    tag : str
        The name TensorBoard shows.
    data : float, dict or str
        The value (anything else is logged as text).
    global_step : int
        The x-axis position.
    walltime : float, optional
        Seconds since the epoch; the time of the call by default.

    """
    logger = _logger(None)
    scalar = _scalar_of(data)
    if scalar is not None:
        logger.info(ScalarT(tag, scalar, global_step, walltime))
    elif isinstance(data, dict):
        # a value that is no number is passed on as None, which the TensorBoard writer reports
        scalars = cast(dict[str, float], {k: _scalar_of(v) for k, v in data.items()})
        logger.info(ScalarsT(tag, scalars, global_step, walltime))
    elif isinstance(data, str):
        logger.info(TextT(tag, data, global_step, walltime))
    else:
        logger.info("%s #%s: %s (not logged to tensorboard)", tag, global_step, data)


def log_scalar(
    tag: str,
    data: float,
    global_step: int,
    walltime: float | None = None,
    logger: logging.Logger | None = None,
) -> None:
    """Log one scalar (see :func:`log` for the parameters; ``logger`` defaults to the caller's)."""
    _logger(logger).info(ScalarT(tag, data, global_step, walltime))


def log_scalars(
    tag: str,
    data: dict[str, float],
    global_step: int,
    walltime: float | None = None,
    logger: logging.Logger | None = None,
) -> None:
    """Log several scalars under one main tag (one curve per key)."""
    _logger(logger).info(ScalarsT(tag, data, global_step, walltime))


def log_text(
    tag: str,
    data: str,
    global_step: int,
    walltime: float | None = None,
    logger: logging.Logger | None = None,
) -> None:
    """Log a text."""
    _logger(logger).info(TextT(tag, data, global_step, walltime))


def log_image(
    tag: str,
    data: Any,
    global_step: int,
    walltime: float | None = None,
    logger: logging.Logger | None = None,
) -> None:
    """Log an image: a tensor or array of shape ``[3, H, W]`` (values in [0, 1])."""
    _logger(logger).info(ImageT(tag, data, global_step, walltime))


def log_histogram(
    tag: str,
    data: Any,
    global_step: int,
    bins: str = "auto",
    walltime: float | None = None,
    logger: logging.Logger | None = None,
) -> None:
    """Log the distribution of the values of a tensor or array."""
    _logger(logger).info(HistogramT(tag, data, global_step, bins, walltime))


def log_pr_curve(
    tag: str,
    labels: Any,
    predictions: Any,
    global_step: int,
    num_thresholds: int = 127,
    walltime: float | None = None,
    logger: logging.Logger | None = None,
) -> None:
    """Log a precision-recall curve of binary ``labels`` against ``predictions`` in [0, 1]."""
    _logger(logger).info(
        PRCurveT(tag, labels, predictions, global_step, num_thresholds, None, walltime)
    )


log_pr_curves = log_pr_curve  # the name the user guide uses
