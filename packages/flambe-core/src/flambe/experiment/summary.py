"""What a run says at its end: a short summary built from ``progress.json``.

Per stage: how many variants ran, were reused or failed; the best variant
with its metric's name and value; then the results of the last stages of
the pipeline (the evaluations), and one line per failed variant with its
error's first line. The same text ends a rerun that reuses everything.

Also here: how a component's metric is described (name, direction, number of
steps), which the progress lines and the summary use.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from collections.abc import Mapping
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# "ValueError: ...", "flambe.errors.ArgumentError: ...", "KeyError", "ray.exceptions.X: ..."
_EXCEPTION_LINE = re.compile(
    r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|Failed|Warning"
    r"|Died|Timeout)\b(:.*)?$"
)
_NOISE = (
    "Traceback (most recent call last)",
    "Failure # ",
    "The above exception",
    "During handling of",
)


def error_headline(text: str | None) -> str:
    """Find the line that says what went wrong in an error text (a traceback or a message).

    For a traceback this is the line of the exception that ended it (the
    innermost cause), without the frames; for a plain message, its first line.

    Parameters
    ----------
    text : str, optional
        The error text recorded for a variant.

    Returns
    -------
    str
        One line (``"unknown error"`` when there is no text).

    """
    if not text:
        return "unknown error"
    lines = [_ANSI.sub("", line).rstrip() for line in str(text).splitlines()]
    lines = [line for line in lines if line.strip()]
    found = [line for line in lines if _EXCEPTION_LINE.match(line)]
    if found:
        return found[-1]
    for line in lines:
        if not line.startswith((" ", "\t")) and not line.startswith(_NOISE):
            return line
    return lines[0].strip() if lines else "unknown error"


def describe_metric(component: Any) -> tuple[str | None, bool, int | None]:
    """How a component's ``metric()`` reads: its name, whether it is negated, its step count.

    The name is the component's ``metric_label`` attribute when it has one,
    else the name of its ``metric_fn`` (a Trainer's or Evaluator's); a
    component with ``lower_is_better`` reports ``-value`` from ``metric()``
    (so that higher is better), which the summary turns back. The number of
    steps is its ``max_steps`` when it has one.

    Returns
    -------
    tuple
        ``(name or None, negated, total steps or None)``.

    """
    name = getattr(component, "metric_label", None)
    metric_fn = getattr(component, "metric_fn", None)
    if not isinstance(name, str) and metric_fn is not None:
        from flambe.learn.utils import metric_name

        name = metric_name(metric_fn)
    negated = metric_fn is not None and bool(getattr(component, "lower_is_better", False))
    steps = getattr(component, "max_steps", None)
    total = steps if isinstance(steps, int) and not isinstance(steps, bool) else None
    return (name if isinstance(name, str) else None), negated, total


def metric_text(value: float | None, name: str | None, negated: bool = False) -> str:
    """``"Accuracy 0.9125"``: a metric as ``metric()`` reported it, shown as its name means it."""
    if value is None:
        return "no metric"
    shown = -float(value) if negated else float(value)
    return f"{name or 'metric'} {shown:.6g}"


def step_text(step: Any, total: int | None) -> str:
    """``"step 3/10"`` (or ``"step 3"`` when the number of steps is not known)."""
    return f"step {step}/{total}" if total else f"step {step}"


def _counts(variants: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    counts = {"run": 0, "reused": 0, "failed": 0, "interrupted": 0, "not run": 0}
    for entry in variants.values():
        status = entry.get("status")
        if status == "failure":
            counts["failed"] += 1
        elif entry.get("reused") or status == "reused":
            counts["reused"] += 1
        elif status in ("success", "reduced"):
            counts["run"] += 1
        elif status in ("running", "interrupted"):
            counts["interrupted"] += 1
        else:
            counts["not run"] += 1
    return counts


def _finished(variants: Mapping[str, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [e for e in variants.values() if e.get("status") in ("success", "reused", "reduced")]


def _best(variants: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    scored = [e for e in _finished(variants) if e.get("best_score") is not None]
    if not scored:
        return None
    return max(scored, key=lambda e: e["best_score"])


def _value(entry: Mapping[str, Any]) -> str:
    value = entry.get("best_metric")
    if value is None:
        value = entry.get("last_metric")
    return metric_text(value, entry.get("metric_name"), bool(entry.get("metric_negated")))


def _leaves(stages: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Stages no other stage depends on: the pipeline's results."""
    used = {dep for info in stages.values() for dep in info.get("depends_on", [])}
    return [name for name in stages if name not in used]


def render_summary(doc: Mapping[str, Any]) -> str:
    """Write the summary of a progress document (see the module documentation).

    Parameters
    ----------
    doc : dict
        A ``progress.json`` document.

    Returns
    -------
    str
        Several lines, without a final newline.

    """
    stages: Mapping[str, Mapping[str, Any]] = doc.get("stages", {})
    elapsed = ""
    if doc.get("started") and doc.get("finished"):
        elapsed = f", {float(doc['finished']) - float(doc['started']):.1f} s"
    lines = [f"Summary of {doc.get('name')} ({doc.get('status')}{elapsed}):"]
    width = max((len(name) for name in stages), default=0)
    failures: list[str] = []
    for name, info in stages.items():
        variants = info.get("variants", {})
        counts = _counts(variants)
        total = len(variants)
        parts = [f"{counts['run']} run", f"{counts['reused']} reused", f"{counts['failed']} failed"]
        for extra in ("interrupted", "not run"):
            if counts[extra]:
                parts.append(f"{counts[extra]} {extra}")
        line = f"  {name.ljust(width)}  {total} variant{'s' * (total != 1)}: {', '.join(parts)}"
        if not variants and info.get("status") not in ("success", "pending"):
            line = f"  {name.ljust(width)}  not run ({info.get('status')})"
        best = _best(variants)
        if best is not None and len(_finished(variants)) > 1:
            line += f"; best {best.get('name')}: {_value(best)}"
        elif best is not None:
            line += f"; {_value(best)}"
        reduced = sum(1 for e in variants.values() if e.get("status") == "reduced")
        if reduced:
            line += f" ({len(_finished(variants)) - reduced} kept by reduce)"
        lines.append(line)
        for entry in variants.values():
            if entry.get("status") == "failure":
                headline = error_headline(entry.get("error"))
                failures.append(f"  {name}/{entry.get('name')}: {headline}")
    results = []
    for name in _leaves(stages):
        for entry in _finished(stages[name].get("variants", {})):
            if entry.get("status") == "reduced":
                continue
            if entry.get("best_metric") is None and entry.get("last_metric") is None:
                continue
            results.append(f"  {name}/{entry.get('name')}: {_value(entry)}")
    if results:
        lines.append("Results:")
        lines.extend(results)
    if failures:
        lines.append("Failed:")
        lines.extend(failures)
    return "\n".join(lines)


def best_checkpoint(doc: Mapping[str, Any]) -> tuple[str, str] | None:
    """Find the checkpoint of the best variant of the last stage that has one.

    Returns
    -------
    tuple, optional
        ``(stage, checkpoint folder)``, or None when no finished variant has one.

    """
    stages: Mapping[str, Mapping[str, Any]] = doc.get("stages", {})
    for name in reversed(list(stages)):
        best = _best(stages[name].get("variants", {}))
        if best is not None and best.get("checkpoint") and os.path.isdir(best["checkpoint"]):
            return name, str(best["checkpoint"])
    return None


def tensorboard_hint(output: str) -> str:
    """Say how to look at the run's TensorBoard files: a command that works, or what to install.

    The ``tensorboard`` command when it is on the ``PATH``; the one installed
    beside this Python (a virtual environment that is not activated) by its
    full path; otherwise the ``flambe-core[tensorboard]`` extra to install.
    """
    if shutil.which("tensorboard"):
        return f"TensorBoard: tensorboard --logdir {output}"
    beside = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    if os.access(beside, os.X_OK) and importlib.util.find_spec("tensorboard") is not None:
        return f"TensorBoard: {beside} --logdir {output}"
    return (
        f"TensorBoard event files are in {output}; to view them, install TensorBoard: "
        "pip install 'flambe-core[tensorboard]'"
    )
