"""Reading an experiment's output folder: every file the site shows, cached by modification time.

The site never writes into the folder. ``progress.json`` is rewritten
atomically by the run, but a copy being synchronised (or a writer of another
tool) may still show a half-written file for an instant: such a read is
retried, and when it keeps failing the last complete document is served.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from flambe.report.paths import confine, rebase

PROGRESS_FILE = "progress.json"
RUN_FILE = "run.json"
CONFIG_FILE = "experiment.yaml"
CONSOLE_LOG = "console.log"
VARIANT_FILE = "variant.json"
TRIAL_FILE = "trial.json"
VARIANT_LOG = "console.out"

_RETRIES = 20
_RETRY_PAUSE_S = 0.01


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class _FileCache:
    """Parsed files keyed by path, reparsed only when their mtime, size or inode change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple[int, int, int], Any]] = {}

    def get(self, path: str, parse: Callable[[bytes], Any]) -> Any:
        """Return the parsed file (``None`` if absent; the last good parse on a torn read)."""
        for attempt in range(_RETRIES):
            stamp = _stamp(path)
            if stamp is None:
                return None
            with self._lock:
                cached = self._entries.get(path)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            try:
                with open(path, "rb") as handle:
                    raw = handle.read()
                value = parse(raw)
            except (OSError, ValueError):
                if attempt + 1 < _RETRIES:
                    time.sleep(_RETRY_PAUSE_S)
                continue
            if _stamp(path) != stamp:  # rewritten while read: read it again
                continue
            with self._lock:
                self._entries[path] = (stamp, value)
            return value
        with self._lock:
            cached = self._entries.get(path)
        return cached[1] if cached is not None else None


def _parse_json(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"))


def _parse_yaml(raw: bytes) -> Any:
    from ruamel.yaml import YAML

    # round-trip mode keeps unknown tags (!Trainer, !g ...) instead of failing on them
    docs = list(YAML(typ="rt").load_all(raw.decode("utf-8")))
    return docs[-1] if docs else None


def _tag_name(value: Any) -> str | None:
    tag = getattr(getattr(value, "tag", None), "value", None)
    return tag.lstrip("!") if isinstance(tag, str) and tag else None


class OutputFolder:
    """An experiment's output folder, read-only.

    Parameters
    ----------
    root : str
        The folder (``.../output__<name>``), or its ``progress.json``.
    console_log : str, optional
        The experiment's console log; default ``<root>/console.log``.

    """

    def __init__(self, root: str, console_log: str | None = None) -> None:
        root = os.path.abspath(os.path.expanduser(root))
        if os.path.basename(root) == PROGRESS_FILE:
            root = os.path.dirname(root)
        self.root = os.path.realpath(root)
        self.console_log_path = (
            os.path.abspath(console_log) if console_log else os.path.join(self.root, CONSOLE_LOG)
        )
        self._cache = _FileCache()
        self._index_lock = threading.Lock()
        self._index: tuple[Any, dict[str, tuple[str, dict[str, Any]]]] = (None, {})

    # -- the documents ------------------------------------------------------------------
    def progress(self) -> dict[str, Any] | None:
        """``progress.json``, or ``None`` before the run wrote it."""
        data = self._cache.get(os.path.join(self.root, PROGRESS_FILE), _parse_json)
        return data if isinstance(data, dict) else None

    def run_info(self) -> dict[str, Any]:
        """``run.json`` (seed, fingerprint), empty when absent."""
        data = self._cache.get(os.path.join(self.root, RUN_FILE), _parse_json)
        return data if isinstance(data, dict) else {}

    def config(self) -> Any:
        """``experiment.yaml`` parsed leniently (tags kept as names), or ``None``."""
        try:
            return self._cache.get(os.path.join(self.root, CONFIG_FILE), _parse_yaml)
        except Exception:  # a config this reader does not understand: show without it
            return None

    def config_text(self) -> str | None:
        """Return the text of ``experiment.yaml``."""
        try:
            with open(os.path.join(self.root, CONFIG_FILE), encoding="utf-8") as handle:
                return handle.read()
        except OSError:
            return None

    def reduce(self) -> dict[str, int]:
        """Stage -> how many variants ``reduce`` keeps (from ``experiment.yaml``)."""
        config = self.config()
        found = config.get("reduce") if isinstance(config, Mapping) else None
        if not isinstance(found, Mapping):
            return {}
        return {str(k): int(v) for k, v in found.items() if isinstance(v, int)}

    def stage_metric_fn(self, stage: str) -> str | None:
        """Return the tag of a stage's ``metric_fn`` in ``experiment.yaml``, if any."""
        config = self.config()
        pipeline = config.get("pipeline") if isinstance(config, Mapping) else None
        component = pipeline.get(stage) if isinstance(pipeline, Mapping) else None
        metric_fn = component.get("metric_fn") if isinstance(component, Mapping) else None
        return _tag_name(metric_fn)

    # -- variants -----------------------------------------------------------------------
    def variants(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Variant id -> (stage, progress entry), rebuilt when progress.json changes."""
        progress = self.progress()
        with self._index_lock:
            if self._index[0] is progress:
                return self._index[1]
        index: dict[str, tuple[str, dict[str, Any]]] = {}
        for stage, info in ((progress or {}).get("stages") or {}).items():
            for vid, entry in (info.get("variants") or {}).items():
                index[str(vid)] = (stage, entry)
        with self._index_lock:
            self._index = (progress, index)
        return index

    def find_variant(self, key: str) -> tuple[str, str, dict[str, Any]] | None:
        """(stage, id, entry) of a variant given its id (or a unique prefix of it)."""
        index = self.variants()
        if key in index:
            return index[key][0], key, index[key][1]
        if len(key) >= 6:
            found = [vid for vid in index if vid.startswith(key)]
            if len(found) == 1:
                return index[found[0]][0], found[0], index[found[0]][1]
        return None

    def stage_dir(self, stage: str) -> str | None:
        """``<root>/<stage>``, confined."""
        return confine(self.root, stage)

    def variant_dir(self, stage: str, entry: dict[str, Any]) -> str | None:
        """``<root>/<stage>/<variant folder>``, confined; ``None`` for a hostile name."""
        name = entry.get("name")
        return confine(self.root, stage, name) if isinstance(name, str) else None

    def checkpoint_dir(self, stage: str, entry: dict[str, Any]) -> str | None:
        """Return the variant's checkpoint folder inside this output folder, when there is one."""
        recorded = (self.progress() or {}).get("output_path")
        path = rebase(self.root, recorded, entry.get("checkpoint"))
        if path is None:
            folder = self.variant_dir(stage, entry)
            path = confine(folder, "checkpoint") if folder else None
        return path if path and os.path.isdir(path) else None

    def trial_record(self, stage: str, entry: dict[str, Any]) -> dict[str, Any]:
        """Return the variant's ``trial.json`` (step, metric, direction...), empty when absent."""
        folder = self.variant_dir(stage, entry)
        if folder is None:
            return {}
        data = self._cache.get(os.path.join(folder, TRIAL_FILE), _parse_json)
        return data if isinstance(data, dict) else {}

    def variant_times(self, stage: str, entry: dict[str, Any]) -> tuple[float | None, float | None]:
        """Return (started, last update) of a variant, from its files' modification times."""
        folder = self.variant_dir(stage, entry)
        if folder is None:
            return None, None
        try:
            started = os.stat(os.path.join(folder, VARIANT_FILE)).st_mtime
        except OSError:
            return None, None
        try:
            updated: float | None = os.stat(os.path.join(folder, TRIAL_FILE)).st_mtime
        except OSError:
            updated = None
        return started, updated

    def walk_files(self, folder: str) -> Iterator[tuple[str, str, int]]:
        """(absolute path, path relative to the root, size) of every regular file under folder.

        Symbolic links are not followed (a link leading out is never read).
        """
        for current, dirs, files in os.walk(folder, followlinks=False):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(current, name)
                if os.path.islink(path):
                    continue
                try:
                    size = os.stat(path).st_size
                except OSError:
                    continue
                yield path, os.path.relpath(path, self.root), size
