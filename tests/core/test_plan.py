"""``flambe plan``: what a run would do, worked out without running (small CPU experiments)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import tests.core.experiment_components  # noqa: F401  (registers the !X... tags)
from flambe.cli.main import cli
from flambe.cli.plan import make_plan
from tests.core.exp_helpers import run, write_config

REPO_ROOT = Path(__file__).resolve().parents[2]

GRID = """
source: !XSource
  value: !g [1, 2]
train: !XCounter
  value: !g [0.5, 1.0, 2.0]
  steps: 2
  upstream: !@ source
evaluate: !XReader
  got: !@ train
"""

CHAIN = """
source: !XSource
  value: 1
train: !XCounter
  value: {value}
  steps: 3
  fail_at: {fail_at}
  upstream: !@ source
evaluate: !XReader
  got: !@ train
"""


def _plan(config: Path, *overrides: str) -> Any:
    problems, plan = make_plan(str(config), tuple(overrides))
    assert problems == [], problems
    return plan


def _stage(plan: Any, name: str) -> Any:
    return next(s for s in plan.stages if s.name == name)


def _actions(plan: Any, stage: str) -> dict[str, tuple[str, str]]:
    return {v.name: (v.action, v.reason) for v in _stage(plan, stage).variants}


def test_plan_of_a_config_never_run(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        GRID,
        top="reduce:\n  train: 2\nschedulers:\n  train: !ray.ASHAScheduler {max_t: 4}\nseed: 5\n",
    )
    plan = _plan(config)
    assert [s.name for s in plan.stages] == ["source", "train", "evaluate"]
    assert _stage(plan, "train").depends_on == ["source"]
    assert _stage(plan, "evaluate").depends_on == ["train"]
    train = _stage(plan, "train")
    assert train.count == 6  # 3 own values x 2 source variants
    assert train.values == {"value": [0.5, 1.0, 2.0]}
    assert train.reduce == 2 and train.keeps == 2
    assert train.scheduler == "ray.ASHAScheduler"
    assert (train.executor, train.executor_reason) == (
        "ray",
        "its scheduler (ray.ASHAScheduler) runs on Ray Tune",
    )
    assert _stage(plan, "evaluate").count == 2  # the 2 train keeps
    assert "known once it ran" in " ".join(_stage(plan, "evaluate").notes)
    assert plan.total == 2 + 6 + 2 and plan.to_run == plan.total
    assert not plan.has_run and plan.estimate_s is None
    assert not (tmp_path / "out").exists()  # nothing ran, no folder made
    data = plan.to_json()
    assert data["total_variants"] == 10 and data["stages"][1]["actions"]["run"] == 6
    # overrides change the plan as they change a run
    assert _stage(_plan(config, "pipeline.train.value=!g [1, 2, 3, 4]"), "train").count == 8
    assert _stage(_plan(config, "reduce.train=1"), "evaluate").count == 1
    searched = _stage(
        _plan(
            config,
            "pipeline.train.value=!uniform [0.5, 2.0]",
            "+search={train: !ray.OptunaSearch {seed: 1}}",
            "+num_samples={train: 4}",
        ),
        "train",
    )
    assert (searched.count, searched.search, searched.executor) == (
        4,
        "ray.OptunaSearch",
        "ray_search",
    )
    assert searched.values == {"value": ["uniform [0.5, 2.0]"]}


def test_the_variants_planned_are_those_a_run_makes(tmp_path: Path) -> None:
    config = write_config(tmp_path, CHAIN.format(value=1.0, fail_at=0), top="seed: 3\n")
    before = _plan(config)
    run(config)
    doc = json.loads((tmp_path / "out" / "output__exp" / "progress.json").read_text())
    for stage in before.stages:
        assert {v.id for v in stage.variants} == set(doc["stages"][stage.name]["variants"])
    after = _plan(config)
    assert after.has_run and after.to_run == 0
    assert all(v.action == "reuse" for s in after.stages for v in s.variants)


def test_plan_says_what_reruns_and_why(tmp_path: Path) -> None:
    config = write_config(tmp_path, CHAIN.format(value=1.0, fail_at=2), top="seed: 3\n")
    with pytest.raises(Exception, match="planned failure"):
        run(config)
    plan = _plan(config)
    assert _actions(plan, "source")["default"][0] == "reuse"
    assert _actions(plan, "train")["default"] == ("continue", "from its checkpoint at step 1")
    assert _actions(plan, "evaluate")["default"] == ("run", "new: never run")
    config.write_text(config.read_text().replace("fail_at: 2", "fail_at: 0"))
    run(config, force=True)
    # a changed config: run stops unless --force or resume, and the plan says so
    plan = _plan(config, "pipeline.train.value=2.0")
    assert "changed: pipeline.train): flambe run stops there" in " ".join(plan.notes)
    # with resume: that stage reruns for its config, the next one for its upstream
    plan = _plan(config, "pipeline.train.value=2.0", "+resume=evaluate")
    assert not plan.notes
    assert _actions(plan, "source")["default"][0] == "reuse"
    assert _actions(plan, "train")["default"] == ("run", "config changed")
    assert _actions(plan, "evaluate")["default"] == ("run", "upstream changed (train)")
    train = _stage(plan, "train")
    assert train.estimate_from == "the wall time of this stage in the last run"
    assert train.mean_duration_s is not None and train.mean_duration_s > 0
    assert train.estimate_s == pytest.approx(train.mean_duration_s)
    # without the last run's progress.json: the seconds run() took, from trial.json
    (tmp_path / "out" / "output__exp" / "progress.json").unlink()
    train = _stage(_plan(config, "pipeline.train.value=2.0", "+resume=evaluate"), "train")
    assert train.estimate_from == "the time each variant ran in earlier runs"
    saved = json.loads((tmp_path / "out/output__exp/train/default/trial.json").read_text())
    assert saved["elapsed"] > 0 and train.estimate_s == pytest.approx(saved["elapsed"])


USER_CODE = """
from flambe.compile import Component


class PlanUserStep(Component):
    def __init__(self, value: float = 1.0, log: str = "") -> None:
        super().__init__()
        self.value, self.log = value, log

    def run(self) -> bool:
        with open(self.log, "a") as handle:
            handle.write("ran\\n")
        return False

    def metric(self) -> float:
        return self.value
"""


def test_editing_user_code_reruns_what_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from flambe.experiment.code_versions import class_version, is_user_code

    module = tmp_path / "plan_user_code.py"
    module.write_text(USER_CODE)
    monkeypatch.syspath_prepend(str(tmp_path))
    user = importlib.import_module("plan_user_code")
    assert is_user_code("plan_user_code") and not is_user_code("numpy.random")
    log = tmp_path / "ran.log"
    config = write_config(
        tmp_path,
        "source: !XSource\n  value: 1\n"
        f"step: !plan_user_code.PlanUserStep\n  value: 2.0\n  log: {log}\n",
    )
    run(config)
    assert all(v.action == "reuse" for s in _plan(config).stages for v in s.variants)
    version = class_version(user.PlanUserStep)
    module.write_text(USER_CODE + "# edited\n")
    assert class_version(user.PlanUserStep) != version
    plan = _plan(config)
    assert _actions(plan, "source")["default"][0] == "reuse"
    assert _actions(plan, "step")["default"] == ("run", "code changed (PlanUserStep)")
    # and flambe reproduce names the change before rerunning
    from flambe.experiment.reproduce import prepare

    found = prepare(str(tmp_path / "out" / "output__exp"), save_path=str(tmp_path / "r"))
    assert "class plan_user_code:PlanUserStep: its source code changed" in found.differences
    run(config)
    assert log.read_text().splitlines() == ["ran", "ran"]  # ran again, not reused
    doc = json.loads((tmp_path / "out" / "output__exp" / "progress.json").read_text())
    assert [v["status"] for v in doc["stages"]["source"]["variants"].values()] == ["reused"]


def test_flambe_plan_command_validates_first_and_prints_json(tmp_path: Path) -> None:
    config = write_config(tmp_path, GRID, top="seed: 1\n")
    result = CliRunner().invoke(cli, ["plan", str(config), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total_variants"] == 2 + 6 + 6
    text = CliRunner().invoke(cli, ["plan", str(config)])
    assert "executor: local (no scheduler or search algorithm on a local run" in text.output
    asked = CliRunner().invoke(cli, ["plan", str(config), "--executor", "ray"]).output
    assert "executor: ray (executor: ray was asked for)" in asked
    single = write_config(tmp_path, CHAIN.format(value=1.0, fail_at=0), file_name="one.yaml")
    assert "executor: in_process (one variant, no scheduler or search" in (
        CliRunner().invoke(cli, ["plan", str(single)]).output
    )
    assert "Stage train (XCounter), after source" in text.output
    assert "variants: 6 (value: 0.5, 1.0, 2.0)" in text.output
    assert "Time: no estimate" in text.output
    bad = write_config(tmp_path, GRID.replace("steps: 2", "stepz: 2"), file_name="bad.yaml")
    refused = CliRunner().invoke(cli, ["plan", str(bad)])
    assert refused.exit_code == 22
    assert "stepz" in refused.output


def test_plan_imports_no_ray_and_builds_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path, GRID, top="seed: 1\n")
    script = textwrap.dedent(f"""
        import sys
        import tests.core.experiment_components
        from flambe.cli.plan import make_plan
        problems, plan = make_plan({str(config)!r})
        assert not problems, problems
        print(plan.total, "ray" in sys.modules)
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["14", "False"]
