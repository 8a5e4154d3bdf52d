"""Logging handlers and filters that route data messages.

:class:`TensorboardXHandler` writes the data messages of
:mod:`flambe.logging.datatypes` to TensorBoard event files, one
``SummaryWriter`` per log folder, and a folder's hyper-parameters once
(TensorBoard's HParams dashboard), with the latest value of every scalar
logged there; :class:`ContextualFileHandler` appends
text records to a file inside the folder a record names;
:class:`DataLoggingFilter` separates data messages from plain text.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import sys
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
    folder. Text records and :class:`GraphT` messages are ignored.

    A folder with hyper-parameters gets an ``hparams`` run (TensorBoard's
    HParams dashboard): its hyper-parameters and the names of its scalars
    are written once (again only when new scalar names appear), and each
    :meth:`flush` adds the latest value of every scalar that changed, so the
    dashboard shows the last values. A handler can thus live for a whole
    trial and be flushed after every step, writing the hyper-parameters
    once per trial. :meth:`flush` puts every value logged so far on disk
    (closing the writers that hold new values: tensorboardX's own flush
    leaves them queued in its writing thread); :meth:`close` closes every
    writer.

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
        import_tensorboardx()  # fail here when the library is missing (before registering)
        super().__init__()

        self.log_dir = log_dir
        self.flush_secs = flush_secs
        self.writers: dict[str, Any] = {}
        self._hparams: dict[str, dict] = {}
        # log folder -> tag -> (step, value) of the last scalar logged there
        self._last_scalars: dict[str, dict[str, tuple[int | None, float]]] = {}
        # log folder -> the scalar names its hparams summary lists (absent: not written yet)
        self._hparams_tags: dict[str, tuple[str, ...]] = {}
        # log folder -> the (step, value) of each scalar last added to its hparams run
        self._hparams_sent: dict[str, dict[str, tuple[int | None, float]]] = {}
        self._unflushed: set[str] = set()  # writers holding values not flushed yet
        if log_dir is not None and hyper_params:
            self._hparams[log_dir] = dict(hyper_params)
        self.addFilter(DataLoggingFilter(default=False, dont_include=(GraphT,)))

    def writer(self, log_dir: str) -> Any:
        """The writer of ``log_dir``, created on first use."""
        writer = self.writers.get(log_dir)
        if writer is None:
            from tensorboardX import SummaryWriter

            # event files are named after the second they are opened in; a trial resumed (or a
            # second handler on the folder) in the same second would otherwise overwrite the
            # first writer's file and its points
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
            self._unflushed.add(log_dir)
            if isinstance(message, ScalarT):
                self._last_scalars.setdefault(log_dir, {})[message.tag] = (
                    message.global_step,
                    float(message.scalar_value),
                )
        except Exception:  # a bad value must not stop training
            self.handleError(record)

    def flush(self) -> None:
        """Bring each folder's hparams run up to date, then put every logged value on disk.

        The writers holding new values are closed (the next value opens a
        new writer, and event file); the others are left alone.
        """
        self.acquire()
        try:
            self._write_hparams()
            for log_dir in sorted(self._unflushed):
                writer = self.writers.pop(log_dir, None)
                if writer is not None:
                    writer.close()
            self._unflushed.clear()
        finally:
            self.release()

    def close(self) -> None:
        """Bring the hparams runs up to date, then flush and close every writer."""
        try:
            self.acquire()
            try:
                self._write_hparams()
                for writer in self.writers.values():
                    writer.close()
                self.writers.clear()
                self._hparams.clear()
                self._unflushed.clear()
            finally:
                self.release()
        finally:
            super().close()

    def _write_hparams(self) -> None:
        """Write each folder's hyper-parameters (once) and its scalars that changed since."""
        for log_dir, hparams in self._hparams.items():
            scalars = self._last_scalars.get(log_dir, {})
            run = os.path.join(log_dir, HPARAMS_RUN)
            tags = tuple(sorted(scalars))
            if self._hparams_tags.get(log_dir) != tags:  # first time, or new scalar names
                from tensorboardX.summary import hparams as hparams_summaries

                summaries = hparams_summaries(
                    {str(k): _hparam_value(v) for k, v in hparams.items()},
                    {tag: value for tag, (_, value) in scalars.items()},
                )
                file_writer = self.writer(run)._get_file_writer()
                for summary in summaries:  # the experiment, session start and session end
                    file_writer.add_summary(summary)
                self._hparams_tags[log_dir] = tags
                self._unflushed.add(run)
            sent = self._hparams_sent.setdefault(log_dir, {})
            for tag, (step, value) in scalars.items():
                if sent.get(tag) != (step, value):
                    self.writer(run).add_scalar(tag, value, step)
                    sent[tag] = (step, value)
                    self._unflushed.add(run)


HPARAMS_RUN = "hparams"  # the sub-folder of a log folder holding its hparams session


def import_tensorboardx() -> Any:
    """Import tensorboardX without importing boto3 with it.

    tensorboardX imports boto3 when it is installed, for event files on S3;
    that import took 0.2 s of every fresh trial process (a Ray trial is
    one), for local folders that never need it. While tensorboardX is first
    imported, ``import boto3`` fails for it; then its S3 writer gets a
    stand-in that imports boto3 when first used, so ``s3://`` log folders
    work as before where boto3 is installed.
    """
    found = sys.modules.get("tensorboardX")
    if found is not None:
        return found
    blocked = "boto3" not in sys.modules
    if blocked:
        sys.modules["boto3"] = None  # type: ignore[assignment]  # makes 'import boto3' fail
    try:
        import tensorboardX
    finally:
        if blocked and sys.modules.get("boto3", False) is None:
            del sys.modules["boto3"]
    if blocked:
        import importlib.util

        from tensorboardX import record_writer

        if importlib.util.find_spec("boto3") is not None:
            record_writer.boto3 = _ImportedOnUse("boto3")
            record_writer.S3_ENABLED = True
    return tensorboardX


class _ImportedOnUse:
    """Stands for a module, imported when one of its attributes is first read."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self.name), attribute)


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
