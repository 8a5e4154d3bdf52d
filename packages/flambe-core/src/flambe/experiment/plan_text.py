"""The plan of an experiment as text (what ``flambe plan`` prints without ``--json``)."""

from __future__ import annotations

from typing import Any

from flambe.experiment.planning import CONTINUE, REUSE, RUN, ExperimentPlan, StagePlan


def duration_text(seconds: float) -> str:
    """``42 s``, ``3.5 min``, ``2.1 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


MAX_SHOWN_VALUES = 8
MAX_SHOWN_VARIANTS = 20


def _values_text(values: dict[str, list[Any]]) -> str:
    """`` (lr: 0.1, 0.01; ...)``: the values that differ between a stage's variants."""
    if not values:
        return ""
    shown = []
    for key, options in values.items():
        text = ", ".join(str(v) for v in options[:MAX_SHOWN_VALUES])
        if len(options) > MAX_SHOWN_VALUES:
            text += f", ... ({len(options)} values)"
        shown.append(f"{key}: {text}")
    return " (" + "; ".join(shown) + ")"


def _render_stage(stage: StagePlan, has_run: bool, show_all: bool) -> list[str]:
    """The lines of one stage: its size, settings, variants, estimate and notes."""
    counts = stage.counts()
    lines = [
        f"Stage {stage.name} ({stage.component})"
        + (f", after {', '.join(stage.depends_on)}" if stage.depends_on else ""),
        f"  variants: {stage.count}" + _values_text(stage.values),
    ]
    if stage.reduce:
        lines.append(f"  reduce: keeps the best {stage.keeps} for the later stages")
    if stage.scheduler:
        lines.append(f"  scheduler: {stage.scheduler}")
    if stage.search:
        lines.append(f"  search: {stage.search}, {stage.num_samples} trials")
    if stage.executor:
        lines.append(f"  executor: {stage.executor} ({stage.executor_reason})")
    lines.append(
        f"  {counts[REUSE]} reused, {counts[CONTINUE]} continue from a checkpoint, "
        f"{counts[RUN]} run anew"
    )
    listed = [v for v in stage.variants if show_all or (has_run and v.action != REUSE)]
    for variant in listed[: None if show_all else MAX_SHOWN_VARIANTS]:
        lines.append(f"    {variant.action:<8} {variant.name}: {variant.reason}")
    if not show_all and len(listed) > MAX_SHOWN_VARIANTS:
        lines.append(f"    ... and {len(listed) - MAX_SHOWN_VARIANTS} more (--all lists them)")
    if stage.estimate_s is not None and (counts[RUN] + counts[CONTINUE]):
        lines.append(
            f"  estimate: {duration_text(stage.estimate_s)} "
            f"({duration_text(stage.mean_duration_s or 0)} a variant, from "
            f"{stage.estimate_from})"
        )
    lines.extend(f"  note: {note}" for note in stage.notes)
    return lines


def _render_time(plan: ExperimentPlan) -> list[str]:
    """The line on the time the whole plan takes (none when nothing tells)."""
    if not plan.to_run:
        return ["Time: nothing to run, every variant is reused"]
    if plan.estimate_s is None and plan.unestimated:
        return ["Time: no estimate, no earlier run of these stages recorded how long it took"]
    if plan.estimate_s is None:
        return []
    text = f"Time: about {duration_text(plan.estimate_s)}"
    if plan.unestimated:
        text += f", plus the stages with no recorded duration: {', '.join(plan.unestimated)}"
    return [text]


def render(plan: ExperimentPlan, show_all: bool = False) -> str:
    """The plan as text, stage by stage."""
    lines = [
        f"Experiment {plan.name}: {len(plan.stages)} stage{'s' * (len(plan.stages) != 1)}, "
        f"{plan.total} variant{'s' * (plan.total != 1)} in all, {plan.to_run} to run",
        f"Output folder: {plan.output}"
        + (" (holds an earlier run)" if plan.has_run else " (no earlier run)"),
        f"Seed: {plan.seed if plan.seed is not None else 'drawn at run time'}",
    ]
    for stage in plan.stages:
        lines.append("")
        lines.extend(_render_stage(stage, plan.has_run, show_all))
    lines.append("")
    lines.extend(_render_time(plan))
    lines.extend(f"Note: {note}" for note in plan.notes)
    if plan.stages and all(s.executor is None for s in plan.stages):
        lines.append("(this engine names no executor rule: where each stage runs is not shown)")
    return "\n".join(lines)
