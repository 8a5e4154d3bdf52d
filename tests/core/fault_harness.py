"""Running experiments and saves under real SIGKILLs and injected faults, and checking what is left.

Every run is a real ``python -m flambe.cli run`` process in its own session;
a kill is ``SIGKILL`` to its whole process group (the driver and anything it
started). Faults at exact windows are planned with ``FLAMBE_FAULTS`` (see
:mod:`flambe.utils.faults`). The checks read only what is on disk.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

FAULTEXT = Path(__file__).resolve().parent / "faultext"
HEADER = "flambe_fault_ext: flambe_fault_ext\n---\n"


def write_experiment(folder: Path, pipeline: str, name: str = "f", top: str = "") -> Path:
    """An experiment of :class:`FaultTrainer` stages whose output goes to ``folder/out``."""
    text = (
        HEADER
        + f"!Experiment\nname: {name}\nsave_path: {folder / 'out'}\nseed: 11\n"
        + textwrap.dedent(top)
        + "pipeline:\n"
        + textwrap.indent(textwrap.dedent(pipeline), "  ")
    )
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def output_of(config: Path, name: str = "f") -> Path:
    return config.parent / "out" / f"output__{name}"


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(FAULTEXT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.pop("FLAMBE_FAULTS", None)
    env.update(extra or {})
    return env


def start(
    config: Path, extra: dict[str, str] | None = None, args: list[str] | None = None
) -> subprocess.Popen:
    """Start ``flambe run CONFIG`` in its own session (output in ``<config>.<n>.log``)."""
    logs = sorted(config.parent.glob(f"{config.stem}.*.log"))
    log = open(config.parent / f"{config.stem}.{len(logs):03d}.log", "w")
    return subprocess.Popen(
        [sys.executable, "-m", "flambe.cli", "run", str(config), *(args or [])],
        cwd=config.parent,
        env=environment(extra),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill(proc: subprocess.Popen) -> None:
    """``kill -9`` the run and everything in its process group."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def finish(proc: subprocess.Popen, timeout: float = 240) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(proc)
        raise


def log_text(config: Path) -> str:
    """What the last run printed."""
    logs = sorted(config.parent.glob(f"{config.stem}.*.log"))
    return logs[-1].read_text() if logs else ""


def run_to_end(config: Path, extra: dict[str, str] | None = None) -> None:
    code = finish(start(config, extra))
    assert code == 0, log_text(config)


def variant_dirs(output: Path) -> list[Path]:
    return sorted(p.parent for p in output.glob("*/*/variant.json"))


def check_readable(output: Path) -> dict[str, dict[str, Any]]:
    """Check everything a run left is readable and consistent; returns the committed variants.

    For every variant folder with a committed checkpoint: the checkpoint
    loads (weights-only), its record names the step the state holds, and
    the history has one entry per step. ``progress.json`` and every
    ``trial.json`` parse.

    Returns
    -------
    dict
        ``"stage/variant"`` -> ``{"step", "done", "history", "metric"}``.

    """
    from flambe.compile.serialization import load_state_from_file

    progress = output / "progress.json"
    if progress.exists():
        json.loads(progress.read_text())
    found: dict[str, dict[str, Any]] = {}
    for folder in variant_dirs(output):
        if (folder / "trial.json").exists():
            json.loads((folder / "trial.json").read_text())
        pointer = folder / "checkpoint"
        if not pointer.exists():
            assert not pointer.is_symlink(), f"{pointer} points at nothing"
            continue
        record = json.loads((pointer / "trial.json").read_text())
        state = load_state_from_file(str(pointer), weights_only=True)
        history = list(state["history"])
        key = f"{folder.parent.name}/{folder.name}"
        assert state["done_steps"] == record["step"] == len(history), (key, record, history)
        assert record["last_metric"] == history[-1], (key, record, history)
        found[key] = {
            "step": record["step"],
            "done": record["done"],
            "history": history,
            "metric": record["last_metric"],
        }
    return found


def leftovers(output: Path) -> list[str]:
    """Temporary files and folders, uncommitted checkpoints and stale pointers under ``output``."""
    bad = []
    for path in output.rglob("*"):
        name = path.name
        if name.startswith((".flambe-save-", "checkpoint.new-")) or ".old-" in name:
            bad.append(str(path))
        elif name.startswith(".") and name.endswith(".tmp"):
            bad.append(str(path))
    for folder in variant_dirs(output):
        versions = folder / "checkpoints"
        if versions.is_dir():
            current = os.path.basename(os.readlink(folder / "checkpoint"))
            bad += [str(p) for p in versions.iterdir() if p.name != current]
    return bad


def executed(log: Path) -> list[list[str]]:
    """The ``run key step`` lines FaultTrainer appended."""
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


def kill_at_random(
    config: Path, rng: Any, log: Path, low: float, high: float, kills: int
) -> list[dict[str, dict[str, Any]]]:
    """Start, kill at a random instant, check, up to ``kills`` times; then run to the end.

    The instant is drawn in ``[low, high]`` seconds after the run's first step.

    After every kill the output is checked readable, and every variant that
    had finished must not run a single step again in the later runs.
    Returns the committed variants seen after each kill.
    """
    output = output_of(config)
    seen = []
    finished: dict[str, int] = {}
    for attempt in range(kills):
        before = len(executed(log))
        proc = start(config, {"FLAMBE_FAULT_LOG": str(log), "FLAMBE_FAULT_RUN": str(attempt)})
        # the clock starts at the run's first step, whatever the start-up took on this machine
        while proc.poll() is None and len(executed(log)) == before:
            time.sleep(0.01)
        deadline = time.monotonic() + rng.uniform(low, high)
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if proc.poll() is not None:
            assert proc.returncode == 0, log_text(config)
            break
        kill(proc)
        committed = check_readable(output)
        seen.append(committed)
        for key, info in committed.items():
            if info["done"]:
                finished.setdefault(key, attempt)
    else:
        run_to_end(config, {"FLAMBE_FAULT_LOG": str(log), "FLAMBE_FAULT_RUN": str(kills)})
    lines = executed(log)
    final = check_readable(output)
    for key, attempt in finished.items():
        label = _label(output / key)
        again = [line for line in lines if line[1] == label and int(line[0]) > attempt]
        assert not again, f"{key} had finished in run {attempt} but ran again: {again}"
    seen.append(final)
    return seen


def _label(folder: Path) -> str:
    """The ``lr=...`` label FaultTrainer logs for the variant in ``folder`` (its saved config)."""
    config = (folder / "checkpoint" / "config.yaml").read_text()
    for line in config.splitlines():
        if line.strip().startswith("lr:"):
            return f"lr={float(line.split(':', 1)[1])}"
    return "lr=0.1"
