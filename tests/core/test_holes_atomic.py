"""A write of progress.json, trial.json or run.json that fails part way leaves the previous file.

Each test runs the real writer in a child process in which a write to the
file fails after a few bytes, as on a full disk (see
``tests/core/holes_faults.py``), then checks that the file still holds
its previous, parseable content. Writing in place instead of writing a
temporary file and renaming it fails these tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT


def _child(script: str, tmp_path: Path) -> dict[str, Any]:
    """Run ``script`` in a child Python; it prints one JSON line last."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT)] + sys.path))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _whole(text: str, previous: str) -> None:
    same = text == previous
    assert same, (
        f"the file changed: {len(text)} characters instead of {len(previous)}, "
        f"ending {text[-40:]!r}"
    )
    json.loads(text)


def test_a_failed_progress_write_leaves_the_previous_progress_json(tmp_path: Path) -> None:
    out = _child(
        f"""
        import json
        from flambe.experiment.progress import ProgressState
        from tests.core.holes_faults import fail_writes_in
        out = {str(tmp_path / "out")!r}
        import os; os.makedirs(out)
        progress = ProgressState("exp", out, {{"t": []}})
        progress.stage_started("t", [{{"id": "a", "name": "a", "params": {{}}, "lineage": {{}}}}])
        path = os.path.join(out, "progress.json")
        previous = open(path).read()
        fail_writes_in(out, 2048)
        big = {{"id": "b", "name": "b", "params": {{"notes": "x" * 100000}}, "lineage": {{}}}}
        try:
            progress.stage_started("t", [big])
            error = None
        except Exception as exc:
            error = type(exc).__name__
        print(json.dumps({{"error": error, "previous": previous, "now": open(path).read(),
                           "files": sorted(os.listdir(out))}}))
    """,
        tmp_path,
    )
    assert out["error"] is not None  # the write did fail
    _whole(out["now"], out["previous"])
    assert out["files"] == ["progress.json"]  # no temporary file left behind


def test_a_failed_trial_record_write_leaves_the_previous_trial_json(tmp_path: Path) -> None:
    # the record is made large through the variant id, so that its write is the one to fail
    out = _child(
        f"""
        import json, os
        import tests.core.experiment_components
        from flambe.experiment.trial import TrialPlan, TrialRunner, read_trial
        from tests.core.holes_faults import fail_writes_in
        folder = {str(tmp_path / "variant")!r}
        plan = TrialPlan(stage="t", variant={{"id": "v" * 100000, "name": "v", "params": {{}}}},
                         configs={{"t": "!XCounter\\nsteps: 3\\n"}}, checkpoints={{}},
                         variant_dir=folder, seed=1)
        runner = TrialRunner(plan, resume=False)
        runner.run_step()
        path = os.path.join(folder, "trial.json")
        previous = open(path).read()
        fail_writes_in(folder, 2048)
        try:
            runner.run_step()
            error = None
        except Exception as exc:
            error = type(exc).__name__
        record = read_trial(folder)
        print(json.dumps({{"error": error, "previous": previous, "now": open(path).read(),
                           "record_step": record and record["step"],
                           "temporary": [n for n in os.listdir(folder) if n.endswith(".tmp")]}}))
    """,
        tmp_path,
    )
    assert out["error"] is not None
    _whole(out["now"], out["previous"])
    assert json.loads(out["previous"])["step"] == 1
    assert out["record_step"] in (1, 2)  # a whole record, of the step before or the new one
    assert out["temporary"] == []


def test_a_failed_run_json_write_leaves_the_previous_run_json(tmp_path: Path) -> None:
    config = tmp_path / "exp.yaml"
    config.write_text(
        f"!Experiment\nname: exp\nsave_path: {tmp_path / 'out'}\nseed: 3\n"
        "pipeline:\n  t: !XCounter {steps: 1}\n"
    )
    out = _child(
        f"""
        import json, os
        import tests.core.experiment_components
        from flambe.compile import yaml
        from tests.core.holes_faults import fail_writes_in
        text = open({str(config)!r}).read()
        yaml.load(text)().run()
        folder = {str(tmp_path / "out" / "output__exp")!r}
        path = os.path.join(folder, "run.json")
        previous = open(path).read()
        fail_writes_in(folder, 16, name="run.json")
        try:
            yaml.load(text)().run()  # the same config: continues, rewriting run.json
            error = None
        except Exception as exc:
            error = type(exc).__name__
        print(json.dumps({{"error": error, "previous": previous, "now": open(path).read()}}))
    """,
        tmp_path,
    )
    assert out["error"] is not None
    _whole(out["now"], out["previous"])
    assert json.loads(out["previous"])["seed"] == 3
