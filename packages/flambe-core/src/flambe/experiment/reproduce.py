"""Rerunning a recorded experiment from its output folder (``flambe reproduce``).

The rerun starts from exactly what the output folder recorded: the
experiment as run (``experiment.yaml``, its seed included), with its local
resources at the paths recorded in ``environment.json``. Before it starts,
what differs in the environment (code, distributions, Python, torch, CUDA,
platform, resource contents) is listed; at the end, the metrics of the rerun
are shown beside the recorded ones.

A single stage (``stage``) reruns with every stage it depends on reused from
the recorded folder (linked, not copied, where the file system allows) and
without the stages after it; a single variant (``variant``) also reuses the
other variants of its stage.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flambe.errors import ConfigError

logger = logging.getLogger(__name__)

CONFIG_FILE = "experiment.yaml"
RUN_FILE = "run.json"
PROGRESS_FILE = "progress.json"


@dataclass
class Reproduction:
    """What a reproduction is about to do, then what it found.

    Attributes
    ----------
    recorded : str
        The recorded output folder.
    output : str
        The output folder of the rerun.
    stages : list of str
        The stages the rerun holds (upstream ones reused).
    rerun : list of str
        The stages run again.
    differences : list of str
        What differs in the environment (empty: nothing found).
    has_record : bool
        Whether the recorded folder has an environment record.
    rows : list of dict
        After the run: stage, variant, recorded and new metric, status.

    """

    recorded: str
    output: str
    stages: list[str]
    rerun: list[str]
    differences: list[str]
    has_record: bool
    experiment: Any = None
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """Whether every rerun variant got the recorded metric exactly."""
        return bool(self.rows) and all(
            row["same"] for row in self.rows if row["status"] != "reused"
        )


def _read_json(path: str) -> Any:
    import json

    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _check_folder(output: str) -> None:
    for name in (CONFIG_FILE, RUN_FILE):
        if not os.path.isfile(os.path.join(output, name)):
            raise ConfigError(
                f"{output} is not the output folder of an experiment run (no {name})",
                hint="pass a folder such as flambe-output/output__<name>, which holds "
                "experiment.yaml and run.json",
            )


def _find_stage(output: str, variant: str) -> str:
    """The stage whose recorded variants include one named ``variant``."""
    progress = _read_json(os.path.join(output, PROGRESS_FILE))
    found = [
        stage
        for stage, info in progress.get("stages", {}).items()
        if any(v.get("name") == variant for v in info.get("variants", {}).values())
    ]
    if not found:
        raise ConfigError(
            f"no stage of {output} has a variant named '{variant}'",
            hint="the variant names are the folder names under each stage's folder",
        )
    if len(found) > 1:
        raise ConfigError(
            f"variant '{variant}' is in stages {', '.join(found)}",
            hint="name the stage with --stage",
        )
    return str(found[0])


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _reuse(src: str, dst: str, skip: str | None = None) -> None:
    """Link (or copy) a recorded stage folder into the new output, leaving out one variant."""
    os.makedirs(dst, exist_ok=True)
    for entry in os.listdir(src):
        if entry == skip:
            continue
        source, target = os.path.join(src, entry), os.path.join(dst, entry)
        if os.path.isdir(source) and not os.path.islink(source):
            shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
        elif os.path.islink(source):
            os.symlink(os.readlink(source), target)
        else:
            _link_or_copy(source, target)


def _default_save_path(recorded: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join(os.path.dirname(recorded), f"reproduce-{stamp}")
    candidate, n = base, 1
    while os.path.exists(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _load_recorded(recorded: str, install_extensions: bool) -> tuple[Any, Any, list[str]]:
    """The recorded experiment as loaded, its environment record and what differs from it.

    Raises
    ------
    ConfigError
        When the recorded config is not an experiment.

    """
    from flambe.experiment.environment_record import current_like, differences, read_record
    from flambe.experiment.experiment import Experiment
    from flambe.runnable.context import load_runnable_config

    record = read_record(recorded)
    loaded = load_runnable_config(
        os.path.join(recorded, CONFIG_FILE), install_extensions=install_extensions
    )
    pipeline_now = dict(loaded.root.keywords.get("pipeline") or {})
    found = differences(record, current_like(record, pipeline_now)) if record else []
    root = loaded.root
    cls = getattr(root, "component_subclass", None)
    if not (isinstance(cls, type) and issubclass(cls, Experiment)):
        raise ConfigError(f"{recorded}/{CONFIG_FILE} is not an experiment", root.location)
    return loaded, record, found


def _narrow_to_stage(
    keywords: dict[str, Any], recorded: str, stage: str, variant: str | None
) -> tuple[list[str], list[str]]:
    """Keep one stage and those it depends on; these reused, and the stage too for a variant.

    Returns the stages kept and the upstream ones, and edits ``keywords``
    (``pipeline``, the per-stage settings and ``resume``) in place.

    Raises
    ------
    ConfigError
        When the experiment has no such stage, or the stage no such variant folder.

    """
    from flambe.experiment.variants import stage_dependencies, transitive

    pipeline = dict(keywords.get("pipeline") or {})
    if stage not in pipeline:
        raise ConfigError(
            f"'{stage}' is not a stage of the recorded experiment",
            hint="stages: " + ", ".join(pipeline),
        )
    upstream = transitive(stage_dependencies(pipeline), stage)
    kept = set(upstream) | {stage}
    stages = [s for s in pipeline if s in kept]
    keywords["pipeline"] = {s: pipeline[s] for s in stages}
    for key in ("reduce", "search", "schedulers", "num_samples"):
        if isinstance(keywords.get(key), Mapping):
            keywords[key] = {k: v for k, v in keywords[key].items() if k in kept}
    keywords["resume"] = upstream + ([stage] if variant is not None else [])
    if variant is not None and not os.path.isdir(os.path.join(recorded, stage, variant)):
        raise ConfigError(
            f"stage '{stage}' of {recorded} has no variant folder '{variant}'",
            hint="the variant names are the folder names under " + os.path.join(recorded, stage),
        )
    return stages, upstream


def _check_empty(target: str) -> None:
    """Refuse a new output folder that holds outputs already."""
    if os.path.isdir(target) and os.listdir(target):
        raise ConfigError(
            f"{target} holds outputs already",
            hint="give another folder with -o, or remove this one",
        )


def _use_recorded_resources(keywords: dict[str, Any], record: Mapping[str, Any] | None) -> None:
    """Point the experiment's local resources at the paths the recorded run used (if recorded)."""
    from flambe.experiment.resources import flatten

    if not record:
        return
    paths = {n: i.get("path") for n, i in (record.get("resources") or {}).items()}
    written = keywords.get("resources")
    if isinstance(written, Mapping) and paths:
        keywords["resources"] = {
            name: paths.get(name) or location for name, location in flatten(written).items()
        }


def _reuse_recorded(
    recorded: str, target: str, upstream: list[str], stage: str | None, variant: str | None
) -> None:
    """Start the new output folder with the recorded stages (and variants) it reuses."""
    for name in upstream:
        if os.path.isdir(os.path.join(recorded, name)):
            _reuse(os.path.join(recorded, name), os.path.join(target, name))
    if variant is not None and stage is not None:
        _reuse(os.path.join(recorded, stage), os.path.join(target, stage), skip=variant)


def prepare(
    output: str,
    stage: str | None = None,
    variant: str | None = None,
    save_path: str | None = None,
    install_extensions: bool = False,
) -> Reproduction:
    """Load the recorded experiment and set up the rerun (nothing runs yet).

    Parameters
    ----------
    output : str
        The recorded output folder (``.../output__<name>``).
    stage : str, optional
        Rerun only this stage, its upstream stages reused.
    variant : str, optional
        Rerun only this variant (a folder name), the rest of its stage reused.
    save_path : str, optional
        Where the rerun goes (its output folder is ``<save_path>/output__<name>``);
        by default ``reproduce-<time>`` beside the recorded folder.
    install_extensions : bool
        Install the recorded extensions when missing.

    Raises
    ------
    ConfigError
        Not an output folder, an unknown stage or variant, or a new folder
        that already holds outputs.

    """
    from flambe.runnable.context import build_runnable

    recorded = os.path.abspath(output)
    _check_folder(recorded)
    if variant is not None and stage is None:
        stage = _find_stage(recorded, variant)
    loaded, record, found = _load_recorded(recorded, install_extensions)
    keywords = loaded.root.keywords
    stages = list(dict(keywords.get("pipeline") or {}))
    upstream: list[str] = []
    rerun = stages
    if stage is not None:
        stages, upstream = _narrow_to_stage(keywords, recorded, stage, variant)
        rerun = [stage]
    _use_recorded_resources(keywords, record)
    keywords["save_path"] = os.path.abspath(save_path or _default_save_path(recorded))
    experiment = build_runnable(loaded)
    target = experiment.output_path
    _check_empty(target)
    _reuse_recorded(recorded, target, upstream, stage, variant)
    return Reproduction(
        recorded=recorded,
        output=target,
        stages=stages,
        rerun=rerun,
        differences=found,
        has_record=record is not None,
        experiment=experiment,
    )


def compare_metrics(recorded: str, output: str, stages: list[str]) -> list[dict[str, Any]]:
    """Each variant's recorded and new metric (the last one reported), stage by stage."""
    then = _read_json(os.path.join(recorded, PROGRESS_FILE)).get("stages", {})
    now_path = os.path.join(output, PROGRESS_FILE)
    now = _read_json(now_path).get("stages", {}) if os.path.isfile(now_path) else {}
    rows: list[dict[str, Any]] = []
    for stage in stages:
        before = {v.get("name"): v for v in then.get(stage, {}).get("variants", {}).values()}
        after = {v.get("name"): v for v in now.get(stage, {}).get("variants", {}).values()}
        for name in list(before) + [n for n in after if n not in before]:
            old, new = before.get(name) or {}, after.get(name) or {}
            rows.append(
                {
                    "stage": stage,
                    "variant": name,
                    "metric_name": new.get("metric_name") or old.get("metric_name"),
                    "recorded": old.get("last_metric"),
                    "new": new.get("last_metric"),
                    "recorded_status": old.get("status"),
                    "status": new.get("status", "not run"),
                    "same": bool(old)
                    and bool(new)
                    and old.get("last_metric") == new.get("last_metric"),
                }
            )
    return rows


def render_rows(rows: list[dict[str, Any]]) -> str:
    """The metrics side by side, one line per variant."""
    if not rows:
        return "no metrics to compare"
    table = [("stage", "variant", "metric", "recorded", "rerun", "")]
    for row in rows:
        verdict = "identical" if row["same"] else "differs"
        if row["status"] == "reused":
            verdict = "reused"
        elif row["status"] not in ("success", "reduced"):
            verdict = row["status"]
        table.append(
            (
                row["stage"],
                str(row["variant"]),
                str(row["metric_name"] or ""),
                _num(row["recorded"]),
                _num(row["new"]),
                verdict,
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=True)).rstrip()
        for r in table
    )


def _num(value: Any) -> str:
    return "-" if value is None else repr(value)


def reproduce(
    output: str,
    stage: str | None = None,
    variant: str | None = None,
    save_path: str | None = None,
    verbose: bool = False,
    echo: Callable[[str], None] = print,
    install_extensions: bool = False,
) -> Reproduction:
    """Rerun a recorded experiment (or one stage or variant) and compare its metrics.

    Parameters are those of :func:`prepare`; ``echo`` prints the environment
    differences before the run and the metrics after it.

    Returns
    -------
    Reproduction
        With ``rows`` filled: one per variant of the rerun stages.

    """
    plan = prepare(output, stage, variant, save_path, install_extensions)
    echo(describe(plan))
    try:
        plan.experiment.run(verbose=verbose)
    finally:
        plan.rows = compare_metrics(plan.recorded, plan.output, plan.stages)
        echo("Metrics, recorded and rerun:\n" + render_rows(plan.rows))
    return plan


def describe(plan: Reproduction) -> str:
    """What is about to run, and what differs in the environment."""
    lines = [f"Reproducing {plan.recorded}", f"  into {plan.output}"]
    reused = [s for s in plan.stages if s not in plan.rerun]
    lines.append(
        f"  stages run again: {', '.join(plan.rerun)}"
        + (f"; reused from the record: {', '.join(reused)}" if reused else "")
    )
    if not plan.has_record:
        lines.append("No environment record (environment.json) in that folder: nothing to compare.")
    elif plan.differences:
        lines.append("The environment differs from the recorded run:")
        lines.extend(f"  - {text}" for text in plan.differences)
    else:
        lines.append("The environment matches the recorded run.")
    return "\n".join(lines)
