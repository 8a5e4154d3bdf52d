"""Scalars of a variant, read from its TensorBoard event files with TensorBoard's own reader.

Every event file is read once and kept in memory, keyed by its modification
time and size: a growing file of a running variant is read again, the others
never. The ``hparams`` folder (a summary TensorBoard's HParams tab shows) is
skipped: its points repeat the others.
"""

from __future__ import annotations

import os
import threading

Point = tuple[int, float, float]  # step, value, wall time
Scalars = dict[str, list[Point]]

EVENT_PREFIX = "events.out.tfevents"
SKIPPED_FOLDERS = ("hparams", "checkpoint")


def event_files(folder: str) -> list[str]:
    """List the event files under a variant folder (not in ``hparams`` or checkpoints), sorted."""
    found: list[str] = []
    for current, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(
            d for d in dirs if d not in SKIPPED_FOLDERS and not d.startswith("checkpoint")
        )
        found.extend(os.path.join(current, f) for f in files if f.startswith(EVENT_PREFIX))
    return sorted(found)


def read_event_file(path: str) -> Scalars:
    """Every scalar of one event file: tag -> [(step, value, wall time)]."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
    from tensorboard.util import tensor_util

    scalars: Scalars = {}
    for event in LegacyEventFileLoader(path).Load():
        if not event.HasField("summary"):
            continue
        for value in event.summary.value:
            kind = value.WhichOneof("value")
            if kind == "simple_value":
                number = float(value.simple_value)
            elif kind == "tensor" and value.metadata.plugin_data.plugin_name in ("scalars", ""):
                array = tensor_util.make_ndarray(value.tensor)
                if array.size != 1 or array.dtype.kind not in "fiub":
                    continue
                number = float(array.reshape(()))
            else:
                continue
            scalars.setdefault(value.tag, []).append(
                (int(event.step), number, float(event.wall_time))
            )
    return scalars


class ScalarCache:
    """Scalars per variant folder, each event file parsed once per (mtime, size)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, tuple[tuple[int, int], Scalars]] = {}

    def _file(self, path: str) -> Scalars:
        try:
            st = os.stat(path)
        except OSError:
            return {}
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._files.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            scalars = read_event_file(path)
        except Exception:  # a file being written or damaged: show what the others hold
            return cached[1] if cached is not None else {}
        with self._lock:
            self._files[path] = (stamp, scalars)
        return scalars

    def scalars(self, folder: str) -> Scalars:
        """Tag -> points sorted by step, merged over the folder's event files."""
        merged: Scalars = {}
        for path in event_files(folder):
            for tag, points in self._file(path).items():
                merged.setdefault(tag, []).extend(points)
        for points in merged.values():
            points.sort(key=lambda p: (p[0], p[2]))
        return merged
