"""``flambe reproduce --variant``: one variant of a multi-variant stage rerun, the rest reused.

The stage runs on the executor a run picks for it (a pool of local worker
processes, where the engine has one).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flambe.experiment.reproduce import reproduce
from tests.core.exp_helpers import run, write_config

PIPELINE = """
source: !XSource
  value: 1
train: !XCounter
  value: !g [1.0, 2.0]
  steps: 2
  upstream: !@ source
evaluate: !XReader
  got: !@ train
"""


def test_reproduce_one_variant(tmp_path: Path) -> None:

    config = write_config(tmp_path, PIPELINE, top="reduce:\n  train: 1\n")
    run(config)
    recorded = tmp_path / "out" / "output__exp"
    result = reproduce(
        str(recorded), variant="value=1", save_path=str(tmp_path / "one"), echo=lambda _: None
    )
    assert result.stages == ["source", "train"] and result.rerun == ["train"]
    rows = {r["variant"]: r for r in result.rows if r["stage"] == "train"}
    assert rows["value=2"]["status"] == "reused"
    assert rows["value=1"]["status"] in ("success", "reduced")  # ran again
    assert rows["value=1"]["new"] == rows["value=1"]["recorded"] == pytest.approx(2.0)
    assert result.identical
    doc = json.loads((tmp_path / "one" / "output__exp" / "progress.json").read_text())
    train = {v["name"]: v for v in doc["stages"]["train"]["variants"].values()}
    assert train["value=2"]["status"] == "reused"  # the better one: reduce keeps it
    assert train["value=1"]["status"] == "reduced" and train["value=1"]["reused"] is False
    with pytest.raises(Exception, match="no stage of .* has a variant named 'value=3'"):
        reproduce(str(recorded), variant="value=3", save_path=str(tmp_path / "none"))
