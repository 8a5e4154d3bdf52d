"""The data behind every page, as plain JSON-ready dictionaries (the JSON API returns them).

Status values are read from ``progress.json`` as they are; counts are kept
for the statuses the progress contract names (pending, running, success,
failure, reduced, reused, interrupted) and any other the run writes.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

from flambe.report.dag import layout
from flambe.report.events import ScalarCache
from flambe.report.folder import VARIANT_LOG, OutputFolder

STATUSES = ("pending", "running", "success", "failure", "reduced", "reused", "interrupted")
FINISHED = ("success", "reduced", "reused")
SORT_KEYS = ("name", "status", "step", "last_metric", "best_metric", "duration")


def _elapsed(
    started: float | None, finished: float | None, running: bool, now: float
) -> float | None:
    if not started:
        return None
    end = finished or (now if running else None)
    return None if end is None else max(0.0, float(end) - float(started))


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def error_summary(text: str | None) -> str | None:
    """Return the line of an error text that says what went wrong (its last exception line)."""
    if not text:
        return None
    lines = [line.rstrip() for line in str(text).splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith((" ", "\t")) and (
            "Error" in line or "Exception" in line or ":" in line
        ):
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else None


def hosts_of(progress: dict[str, Any], run_info: dict[str, Any]) -> int | None:
    """How many hosts run the experiment, when the run recorded it (a cluster run)."""
    for source in (progress, run_info):
        for key in ("hosts", "factories"):
            value = source.get(key)
            if isinstance(value, list):
                return len(value)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        cluster = source.get("cluster")
        if isinstance(cluster, dict) and "hosts" in cluster:
            hosts = cluster["hosts"]
            return len(hosts) if isinstance(hosts, list) else _int(hosts)
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def count_statuses(variants: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Variants per status; ``reused`` also counts variants flagged reused."""
    counts = {status: 0 for status in STATUSES}
    for entry in variants.values():
        status = str(entry.get("status") or "pending")
        counts[status] = counts.get(status, 0) + 1
        if entry.get("reused") and status != "reused":
            counts["reused"] += 1
    return counts


class Views:
    """Builds the pages' data from one output folder.

    Parameters
    ----------
    folder : OutputFolder
        The folder read.
    scalars : ScalarCache, optional
        The cache of event files (one per site).

    """

    def __init__(self, folder: OutputFolder, scalars: ScalarCache | None = None) -> None:
        self.folder = folder
        self.scalars_cache = scalars or ScalarCache()
        self._metric_tags: dict[tuple[str, str], str | None] = {}

    # -- experiment ---------------------------------------------------------------------------
    def experiment(self) -> dict[str, Any]:
        """Header, stages with counts and times, and the DAG layout."""
        now = time.time()
        progress = self.folder.progress()
        run_info = self.folder.run_info()
        if progress is None:
            return {
                "name": None,
                "status": "waiting",
                "output_folder": self.folder.root,
                "message": f"no progress.json in {self.folder.root} yet: waiting for the "
                "experiment to start",
                "stages": [],
                "dag": layout({}),
                "seed": run_info.get("seed"),
                "fingerprint": run_info.get("fingerprint"),
                "console_log": os.path.isfile(self.folder.console_log_path),
            }
        running = progress.get("status") == "running"
        stages = []
        reduce = self.folder.reduce()
        depends_on = {}
        for name, info in (progress.get("stages") or {}).items():
            variants = info.get("variants") or {}
            depends_on[name] = list(info.get("depends_on") or [])
            stage_running = info.get("status") == "running"
            stages.append(
                {
                    "name": name,
                    "status": info.get("status"),
                    "depends_on": depends_on[name],
                    "started": info.get("started"),
                    "finished": info.get("finished"),
                    "elapsed": _elapsed(
                        info.get("started"), info.get("finished"), stage_running and running, now
                    ),
                    "counts": count_statuses(variants),
                    "total": len(variants),
                    "reduce": reduce.get(name),
                }
            )
        return {
            "schema_version": progress.get("schema_version"),
            "name": progress.get("name"),
            "status": progress.get("status"),
            "started": progress.get("started"),
            "finished": progress.get("finished"),
            "elapsed": _elapsed(progress.get("started"), progress.get("finished"), running, now),
            "seed": run_info.get("seed"),
            "fingerprint": run_info.get("fingerprint"),
            "output_folder": self.folder.root,
            "recorded_output_path": progress.get("output_path"),
            "hosts": hosts_of(progress, run_info),
            "stages": stages,
            "dag": layout(depends_on),
            "total_variants": sum(s["total"] for s in stages),
            "console_log": os.path.isfile(self.folder.console_log_path),
            "now": now,
        }

    # -- metric names -------------------------------------------------------------------------
    def metric_name(self, stage: str, variants: dict[str, dict[str, Any]]) -> str | None:
        """Return the name of the stage's metric: as recorded, else its metric_fn's tag."""
        for entry in variants.values():
            if entry.get("metric_name"):
                return str(entry["metric_name"])
        for entry in list(variants.values())[:20]:
            record = self.folder.trial_record(stage, entry)
            if record.get("metric_name"):
                return str(record["metric_name"])
        return self.folder.stage_metric_fn(stage)

    def metric_tag(
        self,
        stage: str,
        entry: dict[str, Any],
        metric_name: str | None,
        scalars: dict[str, list[tuple[int, float, float]]],
    ) -> str | None:
        """Return the event-file tag that holds the variant's metric, step by step."""
        if metric_name:
            named = [
                t for t in scalars if t.split("/")[-1] == metric_name and not t.startswith("Best/")
            ]
            named.sort(key=lambda t: (not t.startswith("Validation/"), len(t)))
            if named:
                return named[0]
        last = _number(entry.get("last_metric"))
        if last is None:
            return None
        matches = [
            t
            for t, pts in scalars.items()
            if pts
            and abs(pts[-1][1] - last) <= 1e-6 * max(1.0, abs(last))
            and not t.startswith("Best/")
        ]
        matches.sort(key=lambda t: (not t.startswith("Validation/"), len(t)))
        return matches[0] if matches else None

    # -- stage --------------------------------------------------------------------------------
    def _stage_info(self, stage: str) -> dict[str, Any] | None:
        progress = self.folder.progress() or {}
        info = (progress.get("stages") or {}).get(stage)
        return info if isinstance(info, dict) else None

    def reasons(self, stage: str, variants: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Why each finished variant was kept or reduced: its rank and what reduce keeps."""
        k = self.folder.reduce().get(stage)
        reasons: dict[str, str] = {}
        for vid, entry in variants.items():
            if entry.get("reused"):
                reasons[vid] = "reused: finished in an earlier run"
        if not k:
            return reasons
        ranked = [(vid, e) for vid, e in variants.items() if e.get("status") in FINISHED]

        def score(item: tuple[str, dict[str, Any]]) -> float:
            value = _number(item[1].get("best_score"))
            if value is None:
                value = _number(item[1].get("best_metric"))
            return value if value is not None else -math.inf

        ranked.sort(key=score, reverse=True)
        for rank, (vid, entry) in enumerate(ranked, 1):
            what = "reduced" if entry.get("status") == "reduced" else "kept"
            reason = f"{what}: rank {rank} of {len(ranked)}, reduce keeps {k}"
            reasons[vid] = reason + ("; " + reasons[vid] if vid in reasons else "")
        return reasons

    def _row(
        self,
        stage: str,
        vid: str,
        entry: dict[str, Any],
        reason: str | None,
        now: float,
        running: bool,
    ) -> dict[str, Any]:
        started, updated = self.folder.variant_times(stage, entry)
        status = entry.get("status")
        end = now if status == "running" and running else updated
        duration = max(0.0, end - started) if started and end else None
        record = self.folder.trial_record(stage, entry) if entry.get("total_steps") is None else {}
        return {
            "id": vid,
            "name": entry.get("name"),
            "params": entry.get("params") or {},
            "status": status,
            "reused": bool(entry.get("reused")),
            "step": entry.get("step"),
            "total_steps": entry.get("total_steps", record.get("total_steps")),
            "last_metric": _number(entry.get("last_metric")),
            "best_metric": _number(entry.get("best_metric")),
            "duration": duration,
            "reason": reason,
            "error": error_summary(entry.get("error")),
            "has_error": bool(entry.get("error")),
            "lineage": entry.get("lineage") or {},
        }

    def stage(
        self,
        stage: str,
        sort: str = "name",
        descending: bool = False,
        query: str = "",
        status: str = "",
        offset: int = 0,
        limit: int = 50,
    ) -> dict[str, Any] | None:
        """One stage: a page of its variants' rows (sorted, filtered) and what the table shows."""
        info = self._stage_info(stage)
        if info is None:
            return None
        now = time.time()
        progress = self.folder.progress() or {}
        running = progress.get("status") == "running"
        variants: dict[str, dict[str, Any]] = info.get("variants") or {}
        metric_name = self.metric_name(stage, variants)
        direction = None
        for entry in list(variants.values())[:20]:
            direction = self.folder.trial_record(stage, entry).get("direction")
            if direction:
                break
        reasons = self.reasons(stage, variants)
        params: list[str] = []
        for entry in variants.values():
            for key in entry.get("params") or {}:
                if key not in params:
                    params.append(key)
        rows = [
            self._row(stage, vid, e, reasons.get(vid), now, running) for vid, e in variants.items()
        ]
        needle = query.strip().lower()
        if needle:
            rows = [r for r in rows if needle in _searchable(r)]
        if status:
            rows = [
                r for r in rows if r["status"] == status or (status == "reused" and r["reused"])
            ]
        rows.sort(key=lambda r: _sort_key(r, sort), reverse=descending)
        total = len(rows)
        offset = max(0, offset)
        limit = max(1, min(limit, 1000))
        return {
            "name": stage,
            "status": info.get("status"),
            "depends_on": info.get("depends_on") or [],
            "started": info.get("started"),
            "finished": info.get("finished"),
            "elapsed": _elapsed(
                info.get("started"),
                info.get("finished"),
                info.get("status") == "running" and running,
                now,
            ),
            "metric": {
                "name": metric_name or "metric",
                "direction": direction or "max",
                "recorded": metric_name is not None,
            },
            "reduce": self.folder.reduce().get(stage),
            "params": params,
            "counts": count_statuses(variants),
            "total": len(variants),
            "matching": total,
            "offset": offset,
            "limit": limit,
            "sort": sort,
            "descending": descending,
            "rows": rows[offset : offset + limit],
            "experiment_status": progress.get("status"),
        }

    def curves(self, stage: str) -> dict[str, Any] | None:
        """Return every variant's metric by step, and its parameters and final metric."""
        info = self._stage_info(stage)
        if info is None:
            return None
        variants: dict[str, dict[str, Any]] = info.get("variants") or {}
        metric_name = self.metric_name(stage, variants)
        series = []
        for vid, entry in variants.items():
            folder = self.folder.variant_dir(stage, entry)
            points: list[tuple[int, float, float]] = []
            tag = None
            if folder and os.path.isdir(folder):
                scalars = self.scalars_cache.scalars(folder)
                tag = self.metric_tag(stage, entry, metric_name, scalars)
                points = scalars.get(tag, []) if tag else []
            series.append(
                {
                    "id": vid,
                    "name": entry.get("name"),
                    "status": entry.get("status"),
                    "tag": tag,
                    "steps": [p[0] for p in points],
                    "values": [p[1] for p in points],
                    "params": entry.get("params") or {},
                    "final": _number(entry.get("last_metric")),
                }
            )
        return {"stage": stage, "metric": metric_name or "metric", "variants": series}

    def warm(self) -> int:
        """Read every variant's event files into the cache (run once, in the background).

        Returns
        -------
        int
            How many variant folders were read.

        """
        read = 0
        for stage, entry in list(self.folder.variants().values()):
            folder = self.folder.variant_dir(stage, entry)
            if folder and os.path.isdir(folder):
                self.scalars_cache.scalars(folder)
                read += 1
        return read

    # -- variant ------------------------------------------------------------------------------
    def variant(self, key: str) -> dict[str, Any] | None:
        """One variant: parameters, lineage, metrics, error, checkpoint files, how to load it."""
        found = self.folder.find_variant(key)
        if found is None:
            return None
        stage, vid, entry = found
        index = self.folder.variants()
        lineage = []
        for up_stage, up_id in (entry.get("lineage") or {}).items():
            up = index.get(str(up_id))
            lineage.append(
                {
                    "stage": up_stage,
                    "id": up_id,
                    "name": up[1].get("name") if up else None,
                    "status": up[1].get("status") if up else None,
                }
            )
        used_by = [
            {"stage": s, "id": v, "name": e.get("name"), "status": e.get("status")}
            for v, (s, e) in index.items()
            if str((e.get("lineage") or {}).get(stage)) == vid
        ]
        checkpoint = self.folder.checkpoint_dir(stage, entry)
        files = []
        total = 0
        if checkpoint:
            for _, relative, size in self.folder.walk_files(checkpoint):
                files.append({"path": relative, "size": size})
                total += size
        folder = self.folder.variant_dir(stage, entry)
        record = self.folder.trial_record(stage, entry)
        started, updated = self.folder.variant_times(stage, entry)
        variants = (self._stage_info(stage) or {}).get("variants") or {}
        return {
            "id": vid,
            "stage": stage,
            "name": entry.get("name"),
            "status": entry.get("status"),
            "reused": bool(entry.get("reused")),
            "params": entry.get("params") or {},
            "lineage": lineage,
            "used_by": used_by,
            "step": entry.get("step"),
            "total_steps": entry.get("total_steps", record.get("total_steps")),
            "metric": {
                "name": self.metric_name(stage, variants) or "metric",
                "direction": record.get("direction") or "max",
            },
            "last_metric": _number(entry.get("last_metric")),
            "best_metric": _number(entry.get("best_metric")),
            "reason": self.reasons(stage, variants).get(vid),
            "error": entry.get("error"),
            "error_summary": error_summary(entry.get("error")),
            "started": started,
            "updated": updated,
            "folder": os.path.relpath(folder, self.folder.root) if folder else None,
            "checkpoint": checkpoint,
            "checkpoint_files": files,
            "checkpoint_size": total,
            "load_snippet": (
                f"import flambe\n{stage} = flambe.load({checkpoint!r})" if checkpoint else None
            ),
            "has_log": bool(folder and os.path.isfile(os.path.join(folder, VARIANT_LOG))),
        }

    def variant_scalars(self, key: str) -> dict[str, Any] | None:
        """Every scalar the variant logged: tag -> steps, values, wall times."""
        found = self.folder.find_variant(key)
        if found is None:
            return None
        stage, vid, entry = found
        folder = self.folder.variant_dir(stage, entry)
        scalars = self.scalars_cache.scalars(folder) if folder and os.path.isdir(folder) else {}
        return {
            "id": vid,
            "stage": stage,
            "name": entry.get("name"),
            "scalars": {
                tag: {
                    "steps": [p[0] for p in pts],
                    "values": [p[1] for p in pts],
                    "wall_times": [p[2] for p in pts],
                }
                for tag, pts in sorted(scalars.items())
            },
        }


def _searchable(row: dict[str, Any]) -> str:
    params = " ".join(f"{k}={v}" for k, v in row["params"].items())
    return " ".join(
        str(x)
        for x in (
            row["name"],
            row["status"],
            params,
            row["error"] or "",
            row["reason"] or "",
            row["id"],
        )
    ).lower()


def _sort_key(row: dict[str, Any], sort: str) -> tuple[int, Any]:
    if sort.startswith("param:"):
        value = row["params"].get(sort[6:])
    else:
        value = row.get(sort if sort in SORT_KEYS else "name")
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, float(value))
    return (2, str(value))
