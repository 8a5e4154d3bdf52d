"""Logging handlers and filters that route data messages.

:class:`TensorboardXHandler` writes the data messages of
:mod:`flambe.logging.datatypes` to TensorBoard event files, one
``SummaryWriter`` per log folder; :class:`ContextualFileHandler` appends
text records to a file inside the folder a record names;
:class:`DataLoggingFilter` separates data messages from plain text.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import uuid
import zlib
from typing import Any

from flambe.logging.datatypes import DATA_TYPES, WRITER_METHODS, GraphT, ImageT, ScalarT

logger = logging.getLogger(__name__)


def is_data(record: logging.LogRecord) -> bool:
    """Whether the record carries a data message rather than text."""
    return isinstance(getattr(record, "raw_msg_obj", record.msg), DATA_TYPES)


class DataLoggingFilter(logging.Filter):
    """Accept or reject records depending on whether they carry data.

    Parameters
    ----------
    default : bool
        The answer for records of plain text.
    level : int
        Data records below this level are rejected.
    dont_include : tuple of type, optional
        Data message types always rejected.

    """

    def __init__(
        self,
        default: bool = True,
        level: int = logging.NOTSET,
        dont_include: tuple[type, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.default = default
        self.level = level
        self.dont_include = tuple(dont_include or ())

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether to keep ``record``: data values by type and level, other records by default."""
        message = getattr(record, "raw_msg_obj", record.msg)
        if isinstance(message, DATA_TYPES):
            return not isinstance(message, self.dont_include) and record.levelno >= self.level
        return self.default


class ContextualFileHandler(logging.FileHandler):
    """Append records to ``<record._console_log_dir>/<canonical_name>``.

    The file is opened lazily and reopened whenever a record names another
    folder (created when missing). Records that name no folder are ignored.

    Parameters
    ----------
    canonical_name : str
        The file name inside each folder, e.g. ``console.out``.
    mode : str
        The mode the file is opened with.
    encoding : str, optional
        The file's encoding.

    """

    def __init__(self, canonical_name: str, mode: str = "a", encoding: str | None = None) -> None:
        logging.Handler.__init__(self)
        self.current_log_dir = ""
        self.canonical_name = canonical_name
        self.mode = mode
        self.encoding = encoding
        self.errors = None
        self.delay = True
        self.stream = None
        self._builtin_open = open

    @property
    def baseFilename(self) -> str:  # noqa: N802 - the name FileHandler uses
        """The log file of the current folder (the folder decides it, not an assignment)."""
        return os.path.abspath(os.path.join(self.current_log_dir, self.canonical_name))

    @baseFilename.setter
    def baseFilename(self, value: str) -> None:  # FileHandler assigns it; the folder decides
        pass

    def emit(self, record: logging.LogRecord) -> None:
        """Append ``record`` to the ``console.log`` of the folder it names (no folder: dropped)."""
        log_dir = getattr(record, "_console_log_dir", None)
        if log_dir is None:
            return
        if log_dir != self.current_log_dir:
            self.acquire()
            try:
                if self.stream is not None:
                    self.stream.close()
                    self.stream = None
                self.current_log_dir = log_dir
                os.makedirs(log_dir, exist_ok=True)
            finally:
                self.release()
        super().emit(record)


class TensorboardXHandler(logging.Handler):
    """Write data messages to TensorBoard event files with tensorboardX.

    A record goes to the folder named by its ``_tf_log_dir`` attribute, or
    to ``log_dir`` when it has none; one ``SummaryWriter`` is kept per
    folder. Text records and :class:`GraphT` messages are ignored. On
    :meth:`close` the hyper-parameters of a folder (if any) are written as
    TensorBoard hparams with the last value of every scalar logged there,
    and every writer is flushed and closed.

    Parameters
    ----------
    log_dir : str, optional
        The folder for records that name none.
    hyper_params : dict, optional
        Hyper-parameters of the run written to ``log_dir``.
    flush_secs : int
        How often the writers flush to disk on their own.

    """

    def __init__(
        self, log_dir: str | None = None, hyper_params: dict | None = None, flush_secs: int = 10
    ) -> None:
        super().__init__()
        import tensorboardX  # noqa: F401 - fail here when the library is missing

        self.log_dir = log_dir
        self.flush_secs = flush_secs
        self.writers: dict[str, Any] = {}
        self._hparams: dict[str, dict] = {}
        self._last_scalars: dict[str, dict[str, float]] = {}
        if log_dir is not None and hyper_params:
            self._hparams[log_dir] = dict(hyper_params)
        self.addFilter(DataLoggingFilter(default=False, dont_include=(GraphT,)))

    def writer(self, log_dir: str) -> Any:
        """The writer of ``log_dir``, created on first use."""
        writer = self.writers.get(log_dir)
        if writer is None:
            from tensorboardX import SummaryWriter

            # event files are named after the second they are opened in; a trial opens a writer
            # per step, so without a suffix of its own a second writer in the same second
            # would overwrite the first one's file and its points
            suffix = f".{os.getpid()}.{uuid.uuid4().hex[:8]}"
            writer = SummaryWriter(log_dir, flush_secs=self.flush_secs, filename_suffix=suffix)
            self.writers[log_dir] = writer
        return writer

    def emit(self, record: logging.LogRecord) -> None:
        """Write a data value of ``record`` to the TensorBoard event file of its folder."""
        message: Any = getattr(record, "raw_msg_obj", record.msg)
        method = WRITER_METHODS.get(type(message))
        log_dir = getattr(record, "_tf_log_dir", None) or self.log_dir
        if method is None or log_dir is None:
            return
        hparams = getattr(record, "_tf_hparams", None)
        if hparams and log_dir not in self._hparams:
            self._hparams[log_dir] = dict(hparams)
        try:
            tag_field = "main_tag" if "main_tag" in message._fields else "tag"
            tag = getattr(message, tag_field)
            clean = _clean_tag(tag)
            if clean != tag:
                message = message._replace(**{tag_field: clean})
            if isinstance(message, ImageT):
                _add_image(self.writer(log_dir), message)
            else:
                getattr(self.writer(log_dir), method)(**message._asdict())
            if isinstance(message, ScalarT):
                self._last_scalars.setdefault(log_dir, {})[message.tag] = float(
                    message.scalar_value
                )
        except Exception:  # a bad value must not stop training
            self.handleError(record)

    def flush(self) -> None:
        """Flush every open TensorBoard writer."""
        for writer in self.writers.values():
            writer.flush()

    def close(self) -> None:
        """Write each folder's hyperparameters with its last scalars, then close the writers."""
        try:
            for log_dir, hparams in self._hparams.items():
                metrics = self._last_scalars.get(log_dir, {})
                self.writer(log_dir).add_hparams(
                    {str(k): _hparam_value(v) for k, v in hparams.items()}, metrics, name="hparams"
                )
            for writer in self.writers.values():
                writer.close()
            self.writers.clear()
            self._hparams.clear()
        finally:
            super().close()


_ILLEGAL = re.compile(r"[^-/\w\.]")
_CLEAN: dict[str, str] = {}


def _clean_tag(tag: str) -> str:
    r"""A tag TensorBoard accepts: characters other than ``[-/\w.]`` become ``_``."""
    clean = _CLEAN.get(tag)
    if clean is None:
        clean = _ILLEGAL.sub("_", tag)
        if len(_CLEAN) < 10000:
            _CLEAN[tag] = clean
    return clean


def _hparam_value(value: Any) -> Any:
    """TensorBoard takes only scalars and strings as hyper-parameter values."""
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def _png(pixels: Any) -> bytes:
    """PNG bytes of an ``[H, W, C]`` uint8 array (C = 1, 3 or 4), without Pillow."""
    height, width, channels = pixels.shape
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _add_image(writer: Any, message: ImageT) -> None:
    """Write an image summary; ``[C, H, W]`` or ``[H, W]``, floats in [0, 1] or uint8."""
    import numpy as np
    from tensorboardX.proto.summary_pb2 import Summary

    data = message.img_tensor
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    array = np.asarray(data)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"an image must have 2 or 3 dimensions, not shape {array.shape}")
    array = np.transpose(array, (1, 2, 0))  # CHW -> HWC
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)
    array = np.ascontiguousarray(array)
    height, width, channels = array.shape
    image = Summary.Image(
        height=height, width=width, colorspace=channels, encoded_image_string=_png(array)
    )
    summary = Summary(value=[Summary.Value(tag=message.tag, image=image)])
    writer._get_file_writer().add_summary(summary, message.global_step, message.walltime)
