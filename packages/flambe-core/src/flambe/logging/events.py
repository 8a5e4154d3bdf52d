"""Read TensorBoard event files back, without TensorBoard itself.

Event files are TFRecord files of ``Event`` protocol buffers; tensorboardX
ships the protobuf classes, so reading needs nothing else. Used by tests and
by tools that summarise a run.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import NamedTuple


class Record(NamedTuple):
    """One summary value of an event file.

    Attributes
    ----------
    run : str
        The folder of the file, relative to the folder read ('' for itself).
    tag : str
        The value's tag.
    step : int
        Its global step.
    wall_time : float
        When it was logged.
    kind : str
        ``scalar``, ``histogram``, ``image``, ``text``, ``pr_curves``, ``hparams`` or ``other``.
    value : object
        The number for scalars, the string for texts, the raw protobuf otherwise.

    """

    run: str
    tag: str
    step: int
    wall_time: float
    kind: str
    value: object


def _tfrecords(path: str) -> Iterator[bytes]:
    with open(path, "rb") as stream:
        while True:
            header = stream.read(12)
            if len(header) < 12:
                return
            (length,) = struct.unpack("<Q", header[:8])
            data = stream.read(length)
            stream.read(4)  # crc of the data
            if len(data) < length:
                return
            yield data


def _kind(value: object) -> str:
    field = value.WhichOneof("value")  # type: ignore[attr-defined]
    plugin = value.metadata.plugin_data.plugin_name  # type: ignore[attr-defined]
    if field == "simple_value":
        return "scalar"
    if field == "histo":
        return "histogram"
    if field == "image":
        return "image"
    if plugin in ("text", "pr_curves", "hparams"):
        return plugin
    if plugin == "scalars":
        return "scalar"
    return "other"


def read_events(log_dir: str, kind: str | None = None) -> list[Record]:
    """Every summary value written under ``log_dir`` (sub-folders included).

    Parameters
    ----------
    log_dir : str
        A folder of event files, e.g. a trial's folder.
    kind : str, optional
        Keep only values of this kind (see :class:`Record`).

    Returns
    -------
    list of Record
        Per run (sub-folder), in the order they were written: a run's values may
        span several event files (one per writer, e.g. one per trial step).

    """
    from tensorboardX.proto import event_pb2

    records: list[Record] = []
    for folder, _, files in sorted(os.walk(log_dir)):
        for name in sorted(files):
            if "tfevents" not in name:
                continue
            run = os.path.relpath(folder, log_dir)
            run = "" if run == "." else run
            for data in _tfrecords(os.path.join(folder, name)):
                event = event_pb2.Event.FromString(data)
                if not event.HasField("summary"):
                    continue
                for value in event.summary.value:
                    found = _kind(value)
                    if kind is not None and found != kind:
                        continue
                    if found == "scalar":
                        payload: object = (
                            value.simple_value
                            if value.HasField("simple_value")
                            else value.tensor.float_val[0]
                        )
                    elif found == "text":
                        payload = value.tensor.string_val[0].decode("utf-8")
                    else:
                        payload = value
                    records.append(
                        Record(run, value.tag, event.step, event.wall_time, found, payload)
                    )
    # stable: values of one event file with equal times keep their file order
    return sorted(records, key=lambda r: (r.run, r.wall_time))


def read_scalars(log_dir: str) -> dict:
    """``{tag: [(step, value), ...]}`` of the scalars written directly in ``log_dir``'s runs.

    Grouped scalars (``log_scalars``) live in sub-runs; their tag is
    ``"<run>/<tag>"``.
    """
    result: dict = {}
    for record in read_events(log_dir, kind="scalar"):
        tag = f"{record.run}/{record.tag}" if record.run else record.tag
        result.setdefault(tag, []).append((record.step, record.value))
    return result
