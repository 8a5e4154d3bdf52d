"""What an output folder records of an earlier run, as ``flambe plan`` reads it.

The output folder a config writes to; the ``run.json``, ``progress.json`` and
environment record of the run it holds; the durations its variants recorded;
what differs between a config and the recorded one; and why a variant whose
folder holds another identity runs again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def read_json(path: str) -> Any:
    """The JSON document in ``path`` (None when missing or unreadable)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def output_folder(root: Any, config_file: str) -> str:
    """The output folder a run of the experiment schema ``root`` writes to."""
    from flambe import storage

    keywords = root.keywords
    written = keywords.get("save_path")
    if isinstance(written, str) and storage.is_local(written):
        path = os.path.expanduser(storage.local_path(written))
        if not os.path.isabs(path):
            path = os.path.join(os.path.dirname(os.path.abspath(config_file)), path)
    elif isinstance(written, str):
        path = written
    else:
        path = "flambe-output"
    return os.path.join(os.path.abspath(path), f"output__{keywords.get('name')}")


def durations(stage_dir: str) -> list[tuple[float, int]]:
    """(seconds, steps) of the finished variants of a stage folder that recorded them."""
    out: list[tuple[float, int]] = []
    if not os.path.isdir(stage_dir):
        return out
    for entry in os.listdir(stage_dir):
        saved = read_json(os.path.join(stage_dir, entry, "trial.json"))
        if isinstance(saved, dict) and saved.get("done") and saved.get("elapsed") is not None:
            out.append((float(saved["elapsed"]), int(saved.get("step") or 1)))
    return out


def stage_wall_time(progress: Any, stage: str) -> float | None:
    """Seconds a stage took per variant it ran, in the run ``progress`` records (None: unknown)."""
    if not isinstance(progress, Mapping):
        return None
    info = (progress.get("stages") or {}).get(stage) or {}
    started, finished = info.get("started"), info.get("finished")
    ran = [
        v
        for v in (info.get("variants") or {}).values()
        if v.get("status") in ("success", "reduced", "failure")
    ]
    if info.get("status") != "success" or not started or not finished or not ran:
        return None
    return max(float(finished) - float(started), 0.0) / len(ran)


def changed_settings(root: Any, output: str) -> list[str] | None:
    """What differs between a config and the one recorded in an output folder.

    Parameters
    ----------
    root : Schema
        The ``!Experiment`` config as loaded.
    output : str
        Its output folder.

    Returns
    -------
    list of str or None
        The experiment arguments (``pipeline.<stage>`` for stages) whose value
        differs, empty when none does; None when the folder holds no readable
        ``experiment.yaml``. A seed recorded but not given is no difference.

    """
    import inspect

    from flambe.compile import yaml

    path = os.path.join(output, "experiment.yaml")
    try:
        with open(path, encoding="utf-8") as handle:
            recorded = yaml.load_config(handle.read(), file=path).root
    except Exception:
        return None
    now, then = dict(root.keywords), dict(getattr(recorded, "keywords", {}) or {})
    defaults = {
        name: p.default
        for name, p in inspect.signature(root.component_subclass.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    changed: list[str] = []
    for key in sorted(set(now) | set(then) | set(defaults)):
        if key == "seed" and now.get("seed") is None:
            continue
        if key == "pipeline":
            new, old = dict(now.get(key) or {}), dict(then.get(key) or {})
            for stage in list(new) + [s for s in old if s not in new]:
                if (
                    stage not in new
                    or stage not in old
                    or yaml.dump(new[stage]) != yaml.dump(old[stage])
                ):
                    changed.append(f"pipeline.{stage}")
            if not changed and list(new) != list(old):
                changed.append("pipeline (the order of the stages)")
            continue
        value_now = now.get(key, defaults.get(key))
        value_then = then.get(key, defaults.get(key))
        if yaml.dump(value_now) != yaml.dump(value_then):
            changed.append(key)
    return changed


def why_rerun(
    folder: str,
    variant: Any,
    versions: Mapping[str, str],
    recorded_versions: Mapping[str, str] | None,
) -> str:
    """Why a variant whose folder holds another identity runs again."""
    from flambe.experiment.code_versions import split_version

    info = read_json(os.path.join(folder, "variant.json")) or {}
    reasons: list[str] = []
    old_lineage = info.get("lineage")
    if isinstance(old_lineage, Mapping) and dict(old_lineage) != dict(variant.lineage):
        changed = [s for s in variant.lineage if old_lineage.get(s) != variant.lineage[s]]
        reasons.append(f"upstream changed ({', '.join(changed) or 'lineage'})")
    if "config" in info and info["config"] != variant.config_text:
        reasons.append("config changed")
    bumped: list[str] = []
    edited: list[str] = []
    for cls, now in sorted(versions.items()):
        then = (recorded_versions or {}).get(cls)
        if then is None or then == now:
            continue
        (old_v, old_code), (new_v, new_code) = split_version(then), split_version(now)
        short = cls.split(":")[-1]
        if old_v != new_v:
            bumped.append(f"{short} {old_v} -> {new_v}")
        if old_code != new_code:
            edited.append(short)
    if bumped:
        reasons.append(f"class version changed ({', '.join(bumped)})")
    if edited:
        reasons.append(f"code changed ({', '.join(edited)})")
    if not reasons:
        reasons.append(
            "config changed" if recorded_versions is not None else "config or code changed"
        )
    return "; ".join(reasons)


@dataclass
class EarlierRun:
    """What an output folder records of an earlier run (nothing when it holds none).

    Attributes
    ----------
    info : dict
        Its ``run.json`` (empty: no earlier run).
    progress : object
        Its ``progress.json`` (None: unreadable or no earlier run).
    versions : dict, optional
        The class versions its environment record lists (None: no record).

    """

    info: dict[str, Any]
    progress: Any
    versions: Mapping[str, str] | None

    @property
    def has_run(self) -> bool:
        """Whether the folder holds an earlier run."""
        return bool(self.info)


def read_earlier_run(output: str) -> EarlierRun:
    """Read what the output folder ``output`` records of an earlier run."""
    from flambe.experiment.environment_record import read_record

    run_info = read_json(os.path.join(output, "run.json")) or {}
    if not run_info:
        return EarlierRun(run_info, None, None)
    record = read_record(output)
    progress = read_json(os.path.join(output, "progress.json"))
    versions = (record or {}).get("class_versions") if record else None
    return EarlierRun(run_info, progress, versions)
