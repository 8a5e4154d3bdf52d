"""progress.json: status changes are written at once, the values of steps at most every
STEP_INTERVAL seconds, and never left unwritten."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from flambe.experiment import progress as progress_module
from flambe.experiment.progress import STEP_INTERVAL, ProgressState

VARIANT = {"id": "v1", "name": "lr=0.1", "params": {"lr": 0.1}, "lineage": {}}


def _state(tmp_path: Path, monkeypatch: Any) -> tuple[ProgressState, list[int]]:
    """A progress state of one stage whose variant started; counts its writes from then on."""
    writes: list[int] = []
    real = progress_module.write_json_atomic

    def counting(path: str, data: Any, sync: bool = True) -> None:
        writes.append(1)
        real(path, data, sync=sync)

    state = ProgressState("exp", str(tmp_path), {"train": []})
    state.stage_started("train", [VARIANT])
    state.variant_update("train", "v1", status="running")
    time.sleep(STEP_INTERVAL)  # the next step's values are due at once
    monkeypatch.setattr(progress_module, "write_json_atomic", counting)
    return state, writes


def _on_disk(tmp_path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((tmp_path / "progress.json").read_text())
    return doc["stages"]["train"]["variants"]["v1"]


def _step(state: ProgressState, step: int) -> None:
    """What the engine sends for one step: its result, then its checkpoint."""
    state.flambe_trial_result(
        None, "train", "v1", {"step": step, "metric": float(step), "score": float(step)}
    )
    state.flambe_checkpoint_written(None, "train", "v1", f"/ckpt/{step}")


def test_many_short_steps_write_the_document_a_few_times_and_the_last_one_shows(
    tmp_path: Path, monkeypatch: Any
) -> None:
    state, writes = _state(tmp_path, monkeypatch)
    for step in range(1, 41):
        _step(state, step)
    assert 1 <= len(writes) <= 3  # the first step at once, the others waiting together
    assert _on_disk(tmp_path)["step"] < 40
    deadline = time.monotonic() + STEP_INTERVAL + 5
    while _on_disk(tmp_path)["step"] != 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    # written without any further event
    entry = _on_disk(tmp_path)
    assert (entry["step"], entry["last_metric"], entry["checkpoint"]) == (40, 40.0, "/ckpt/40")
    assert entry["best_metric"] == 40.0


def test_a_status_change_is_written_at_once_with_the_waiting_steps(
    tmp_path: Path, monkeypatch: Any
) -> None:
    state, writes = _state(tmp_path, monkeypatch)
    _step(state, 1)
    _step(state, 2)  # waits
    assert _on_disk(tmp_path)["step"] == 1
    state.variant_update("train", "v1", status="success")
    entry = _on_disk(tmp_path)
    assert (entry["status"], entry["step"], entry["checkpoint"]) == ("success", 2, "/ckpt/2")
    count = len(writes)
    time.sleep(STEP_INTERVAL + 0.2)
    assert len(writes) == count  # nothing was left waiting: no second write


@pytest.mark.parametrize("end", ["stage", "experiment"])
def test_the_end_of_a_stage_or_experiment_writes_everything(
    tmp_path: Path, monkeypatch: Any, end: str
) -> None:
    state, _ = _state(tmp_path, monkeypatch)
    _step(state, 1)
    _step(state, 2)
    if end == "stage":
        state.stage_finished("train", "success")
    else:
        state.finish("success")
    assert _on_disk(tmp_path)["step"] == 2
