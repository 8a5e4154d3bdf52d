"""Logging: text through the standard ``logging`` module, data to TensorBoard.

``flambe.log(tag, value, step)`` (and ``log_image``, ``log_histogram``,
``log_pr_curve``, ``log_text``, ``log_scalars``) emits a typed message as an
INFO record. Inside :class:`TrialLogging` (or after :func:`set_log_dir`) the
records are written to TensorBoard event files in the trial's folder with
tensorboardX; outside, they are ordinary INFO records. Importing this
package loads neither torch nor tensorboardX.
"""

from flambe.logging.api import (
    ValueT,
    log,
    log_histogram,
    log_image,
    log_pr_curve,
    log_pr_curves,
    log_scalar,
    log_scalars,
    log_text,
)
from flambe.logging.datatypes import (
    DATA_TYPES,
    EmbeddingT,
    GraphT,
    HistogramT,
    ImageT,
    PRCurveT,
    ScalarsT,
    ScalarT,
    TextT,
)
from flambe.logging.handlers import ContextualFileHandler, DataLoggingFilter, TensorboardXHandler
from flambe.logging.trial import (
    ContextInjection,
    FlambeFilter,
    NoTrialError,
    TqdmFileWrapper,
    TrialLogging,
    get_trial_dir,
    set_log_dir,
    setup_global_logging,
)

__all__ = [
    "log",
    "log_scalar",
    "log_scalars",
    "log_text",
    "log_image",
    "log_histogram",
    "log_pr_curve",
    "log_pr_curves",
    "ValueT",
    "ScalarT",
    "ScalarsT",
    "HistogramT",
    "ImageT",
    "TextT",
    "PRCurveT",
    "EmbeddingT",
    "GraphT",
    "DATA_TYPES",
    "TrialLogging",
    "NoTrialError",
    "get_trial_dir",
    "set_log_dir",
    "setup_global_logging",
    "FlambeFilter",
    "ContextInjection",
    "TqdmFileWrapper",
    "DataLoggingFilter",
    "ContextualFileHandler",
    "TensorboardXHandler",
]
