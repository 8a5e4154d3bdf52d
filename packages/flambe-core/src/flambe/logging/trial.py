"""Logging around a unit of work: the console, ``console.out`` and TensorBoard.

:class:`TrialLogging` is the context every trial step runs in. Inside it,
text records go to ``<log_dir>/console.out`` (errors also to the console),
data messages (:func:`flambe.logging.log`) go to TensorBoard event files in
``<log_dir>``, and :func:`get_trial_dir` returns ``log_dir``. The active
context is held in a context variable, so concurrent trials in threads of
one process each write to their own folder. :func:`set_log_dir` does the
same for a plain script, without a ``with`` block.
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
from typing import Any

from flambe.errors import FlambeError
from flambe.logging.datatypes import DATA_TYPES
from flambe.logging.handlers import (
    ContextualFileHandler,
    DataLoggingFilter,
    TensorboardXHandler,
    is_data,
)

__all__ = [
    "TrialLogging",
    "NoTrialError",
    "get_trial_dir",
    "set_log_dir",
    "setup_global_logging",
    "FlambeFilter",
    "ContextInjection",
    "TqdmFileWrapper",
]

_ACTIVE: contextvars.ContextVar[TrialLogging | None] = contextvars.ContextVar(
    "flambe_trial_logging", default=None
)
_GLOBAL: list[TrialLogging] = []  # the context opened by set_log_dir, if any


class NoTrialError(FlambeError, RuntimeError):
    """Something needs a trial's log folder but no :class:`TrialLogging` is active."""


class ContextInjection(logging.Filter):
    """A filter that sets attributes on every record it sees.

    Parameters
    ----------
    **attrs
        Attribute names and values to set.

    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__()
        self.attrs = attrs

    def filter(self, record: logging.LogRecord) -> bool:
        """Set the attributes on ``record``; keep every record."""
        for name, value in self.attrs.items():
            setattr(record, name, value)
        return True

    __call__ = filter


class FlambeFilter(logging.Filter):
    """Accept only records of flambe's loggers and of ``__main__``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` comes from a flambe logger or from ``__main__``."""
        return record.name.startswith("flambe") or record.name.startswith("__main__")


class TqdmFileWrapper:
    """A file whose writes go through ``tqdm.write`` so progress bars stay intact.

    Parameters
    ----------
    file : file-like
        The file to write to.

    """

    def __init__(self, file: Any) -> None:
        self.file = file

    def write(self, text: str) -> int:
        """Write ``text`` above the progress bars; the number of characters written."""
        if not text.rstrip():
            return 0
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover - tqdm is optional
            return self.file.write(text)
        tqdm.write(text.rstrip("\n"), file=self.file)
        return len(text)

    def flush(self) -> None:
        """Flush the wrapped file, if it can be flushed."""
        flush = getattr(self.file, "flush", None)
        if flush is not None:
            flush()


class _OwnedBy(logging.Filter):
    """Pass records only while ``trial`` is the active context of the emitting code."""

    def __init__(self, trial: TrialLogging) -> None:
        super().__init__()
        self.trial = trial

    def filter(self, record: logging.LogRecord) -> bool:
        if _ACTIVE.get() is not self.trial:
            return False
        record._tf_log_dir = self.trial.log_dir
        record._console_log_dir = self.trial.log_dir
        record._tf_hparams = self.trial.hyper_params
        return True


class _HideData(logging.Filter):
    """Keep data messages of a quiet trial off the handlers that were there before it."""

    def __init__(self, trial: TrialLogging) -> None:
        super().__init__()
        self.trial = trial

    def filter(self, record: logging.LogRecord) -> bool:
        return not (is_data(record) and _ACTIVE.get() is self.trial)


class TrialLogging:
    """Route logging to a trial's folder while the context is open.

    Parameters
    ----------
    log_dir : str
        The trial's folder: ``console.out`` and the TensorBoard event files
        are written there (created when missing).
    verbose : bool
        Show every record, data included, on the console; otherwise only
        errors reach the console and the rest goes to ``console.out``.
    root_log_level : int, optional
        The root logger's level inside the context (default: everything).
    capture_warnings : bool
        Route ``warnings`` through logging inside the context.
    console_prefix : str, optional
        Shown in console lines as ``<logger> [block_<console_prefix>]``.
    hyper_params : dict, optional
        Written to TensorBoard as the run's hparams (once), with the latest
        value of each scalar, when the context closes.
    persistent : bool
        For a trial that enters the context once per step: keep its
        TensorBoard handler from one time to the next (every value is on
        disk when the context closes all the same), so that the
        hyper-parameters are written once per trial, not once per step;
        :meth:`close` releases it.

    Examples
    --------
    >>> with TrialLogging("runs/trial_0"):               # doctest: +SKIP
    ...     flambe.log("Training/Loss", 0.5, 1)

    """

    def __init__(
        self,
        log_dir: str,
        verbose: bool = False,
        root_log_level: int | None = None,
        capture_warnings: bool = True,
        console_prefix: str | None = None,
        hyper_params: dict | None = None,
        persistent: bool = False,
    ) -> None:
        self.log_dir = str(log_dir)
        self.verbose = verbose
        self.root_log_level = root_log_level
        self.capture_warnings = capture_warnings
        self.console_prefix = console_prefix
        self.hyper_params = dict(hyper_params) if hyper_params else None
        self.persistent = persistent
        self.handlers: list[logging.Handler] = []
        self._token: contextvars.Token | None = None
        self._tensorboard: TensorboardXHandler | None = None  # kept (persistent)
        self._owned: _OwnedBy | None = None
        self._said_missing = False

    def __enter__(self) -> logging.Logger:
        root = logging.getLogger()
        os.makedirs(self.log_dir, exist_ok=True)
        self._saved_level = root.level
        self._saved_factory = logging.getLogRecordFactory()
        self._saved_capture = _warnings_captured()
        owned = self._owned = _OwnedBy(self)
        prefix = f" [block_{self.console_prefix}]" if self.console_prefix else ""
        fmt = logging.Formatter("%(name)s" + prefix.replace("%", "%%") + " %(message)s")

        console = logging.StreamHandler(TqdmFileWrapper(sys.stdout))
        console.setLevel(logging.NOTSET if self.verbose else logging.ERROR)
        file = ContextualFileHandler("console.out", encoding="utf-8")
        file.setLevel(logging.NOTSET if self.verbose else logging.INFO)
        if not self.verbose:  # data goes to TensorBoard; a line per value would slow training
            file.addFilter(DataLoggingFilter(default=True, dont_include=DATA_TYPES))
        handlers: list[logging.Handler] = [console, file]
        tensorboard = self._tensorboard_handler()
        if tensorboard is not None:
            tensorboard.setLevel(logging.NOTSET if self.verbose else logging.INFO)
            handlers.append(tensorboard)
        console.setFormatter(fmt)
        file.setFormatter(fmt)
        for handler in handlers:
            handler.addFilter(owned)
        self._hidden: list[logging.Handler] = []
        if not self.verbose:
            self._hide = _HideData(self)
            for handler in root.handlers:
                handler.addFilter(self._hide)
                self._hidden.append(handler)
        for handler in handlers:
            root.addHandler(handler)
        self.handlers = handlers
        root.setLevel(logging.NOTSET if self.root_log_level is None else self.root_log_level)
        logging.captureWarnings(self.capture_warnings)
        factory = self._saved_factory

        def record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            record.raw_msg_obj = record.msg
            return record

        logging.setLogRecordFactory(record_factory)
        self._token = _ACTIVE.set(self)
        return root

    def __exit__(self, *exc: Any) -> None:
        root = logging.getLogger()
        if self._token is not None:
            try:
                _ACTIVE.reset(self._token)
            except ValueError:  # left from another context (set_log_dir)
                _ACTIVE.set(None)
            self._token = None
        for handler in self._hidden:
            handler.removeFilter(self._hide)
        self._hidden = []
        for handler in self.handlers:
            root.removeHandler(handler)
            try:
                handler.flush()
                if handler is self._tensorboard:  # kept for the next time (persistent)
                    if self._owned is not None:
                        handler.removeFilter(self._owned)
                else:
                    handler.close()
            except Exception:  # closing must not hide the trial's own error
                logging.getLogger(__name__).exception("could not close %s", handler)
        self.handlers = []
        self._owned = None
        logging.setLogRecordFactory(self._saved_factory)
        logging.captureWarnings(self._saved_capture)
        root.setLevel(self._saved_level)

    def close(self) -> None:
        """Close the TensorBoard handler kept from one context to the next (``persistent``)."""
        handler, self._tensorboard = self._tensorboard, None
        if handler is not None:
            handler.close()

    def _tensorboard_handler(self) -> TensorboardXHandler | None:
        """The TensorBoard handler of this context: the kept one, or a new one."""
        if self._tensorboard is not None:
            return self._tensorboard
        try:
            handler = TensorboardXHandler(self.log_dir, self.hyper_params)
        except ImportError:
            if not self._said_missing:
                print("tensorboardX is not installed: TensorBoard logging is off", file=sys.stderr)
                self._said_missing = True
            return None
        if self.persistent:
            self._tensorboard = handler
        return handler


def _warnings_captured() -> bool:
    return getattr(logging, "_warnings_showwarning", None) is not None


def get_trial_dir() -> str:
    """The log folder of the active :class:`TrialLogging` (or :func:`set_log_dir`).

    Raises
    ------
    NoTrialError
        No trial logging context is active.

    """
    trial = _ACTIVE.get()
    if trial is None:
        raise NoTrialError(
            "there is no active trial, so there is no trial folder",
            hint="call this inside 'with TrialLogging(log_dir)' or after "
            "flambe.logging.set_log_dir(path)",
        )
    return trial.log_dir


def set_log_dir(path: str | None, verbose: bool = False) -> None:
    """Send ``flambe.log`` data to TensorBoard files in ``path`` from now on.

    The script-level counterpart of ``with TrialLogging(path)``. Calling it
    again switches folders (closing the previous writers); ``None`` stops.

    Parameters
    ----------
    path : str, optional
        The folder, created when missing; ``None`` closes the current one.
    verbose : bool
        As for :class:`TrialLogging`.

    """
    while _GLOBAL:
        _GLOBAL.pop().__exit__(None, None, None)
    if path is not None:
        trial = TrialLogging(path, verbose=verbose)
        trial.__enter__()
        _GLOBAL.append(trial)


def setup_global_logging(console_log_level: int = logging.INFO) -> None:
    """Console logging at ``console_log_level`` and rotating files under the Flambé home.

    Parameters
    ----------
    console_log_level : int
        The lowest level shown on the console; ``logging.DEBUG`` shows all.

    """
    from flambe.cli.logs import setup_logging

    setup_logging(verbose=console_log_level <= logging.DEBUG)
    logging.captureWarnings(True)
