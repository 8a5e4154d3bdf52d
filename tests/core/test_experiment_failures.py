"""A failed trial is a failure everywhere: progress.json, reduce, later stages, the last message.

The failing variant dies while its Ray actor is being created (its
``mode`` is rejected when the trial is built), the case Tune reports without
a result; a stage's finished variant shows ``success`` while the others run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from flambe.errors import ExperimentFailed
from flambe.plugins import hookimpl
from flambe.plugins.manager import get_host
from tests.core.exp_helpers import (  # noqa: F401  (local_ray: one Ray for the module)
    lines,
    local_ray,
    progress,
    run,
    variants,
    write_config,
)

ray = pytest.importorskip("ray")


class StatusWatcher:
    """Reads progress.json each time the slow variant reports, noting the quick one's status."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: list[str] = []

    @hookimpl
    def flambe_trial_result(self, experiment: Any, stage: str, variant: str, result: Any) -> None:
        if stage == "t" and result.get("name") == "mode=max,steps=4" and result.get("step", 0) >= 3:
            doc = json.loads(self.path.read_text())
            self.seen.append(variants(doc, "t")["mode=max,steps=1"]["status"])


@pytest.mark.slow
def test_a_trial_that_dies_at_creation_is_a_failure_and_never_feeds_later_stages(
    tmp_path: Path, caplog: Any
) -> None:
    log = tmp_path / "after.txt"
    config = write_config(
        tmp_path,
        f"""\
        t: !XCounter
          label: t
          mode: !g [max, sideways]
          steps: !g [1, 4]
          sleep: 0.3
        after: !XReader
          got: !@ t.steps
          log: {log}
        """,
        top="stop_on_failure: false\nreduce: {t: 1}\n",
    )
    watcher = StatusWatcher(tmp_path / "out" / "output__exp" / "progress.json")
    get_host().subscribe(watcher, name="status-watcher")
    try:
        with (
            caplog.at_level(logging.INFO, logger="flambe"),
            pytest.raises(ExperimentFailed) as info,
        ):
            run(config)
    finally:
        get_host().unsubscribe(watcher)
    doc = progress(tmp_path)
    t = variants(doc, "t")
    for name in ("mode=sideways,steps=1", "mode=sideways,steps=4"):
        entry = t[name]
        assert entry["status"] == "failure", entry
        assert entry["step"] == 0 and entry["checkpoint"] is None
        assert "metric_mode must be 'max' or 'min'" in entry["error"]
    assert t["mode=max,steps=4"]["status"] == "success"
    assert doc["stages"]["t"]["status"] == "failure" and doc["status"] == "failure"
    # reduce keeps the best that finished; the later stage ran on it alone
    assert t["mode=max,steps=1"]["status"] == "reduced"
    assert set(variants(doc, "after")) == {"mode=max,steps=4"}
    assert lines(log) == ["4 | None"]
    # the quick variant showed success while the slow one was still running
    assert watcher.seen and set(watcher.seen) == {"success"}
    # the last message names the stage, the variant and the error's first line
    message = str(info.value)
    assert (
        "stage 't', variant 'mode=sideways,steps=1' failed: ValueError: "
        "XCounter.metric_mode must be 'max' or 'min', not 'sideways'" in message
    )
    assert "and 1 more failed variant" in message
    # the console gets one line per failed trial; the traceback goes to the log file
    failed = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.getMessage().startswith("t/mode=sideways")
    ]
    assert len(failed) == 2 and all("\n" not in m for m in failed)
    summary = next(
        r.getMessage() for r in caplog.records if r.getMessage().startswith("Summary of exp")
    )
    assert (
        "t      4 variants: 2 run, 0 reused, 2 failed; best mode=max,steps=4: metric 4" in summary
    )
    assert "after  1 variant: 1 run, 0 reused, 0 failed" in summary
    assert "t/mode=sideways,steps=4: ValueError: XCounter.metric_mode" in summary


@pytest.mark.slow
def test_with_stop_on_failure_the_failed_stage_is_named_not_the_next(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        """\
        t: !XCounter
          mode: sideways
          value: !g [1, 2]
        after: !XReader
          got: !@ t.value
        """,
        top="reduce: {t: 1}\n",
    )
    with pytest.raises(ExperimentFailed) as info:
        run(config)
    message = str(info.value)
    assert message.startswith("stage 't', variant 'value=1' failed: ValueError: XCounter.")
    assert "stopped at stage 't' (2 of 2 variants failed)" in message
    assert "'after'" not in message
    doc = progress(tmp_path)
    assert {v["status"] for v in variants(doc, "t").values()} == {"failure"}
    assert doc["stages"]["after"]["status"] == "pending" and not variants(doc, "after")
