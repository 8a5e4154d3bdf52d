"""The local executor: a grid on a pool of worker processes, with the semantics of Ray trials."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flambe.errors import ExperimentFailed
from tests.core.exp_helpers import progress, run, statuses, write_config


def test_a_crashing_worker_fails_only_its_variant(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        """\
        work: !XCrash
          label: !g [a, b, c]
          crash: b
        """,
        top="executor: local\nstop_on_failure: false\n",
    )
    with pytest.raises(ExperimentFailed, match="died"):
        run(config)
    doc = progress(tmp_path)
    assert statuses(doc, "work") == {
        "label=a": "success",
        "label=b": "failure",
        "label=c": "success",
    }
    failed = next(v for v in doc["stages"]["work"]["variants"].values() if v["status"] == "failure")
    assert "SIGSEGV" in failed["error"]


def test_a_failing_variant_is_retried_from_its_last_checkpoint(tmp_path: Path) -> None:
    log = tmp_path / "calls.txt"
    config = write_config(
        tmp_path,
        f"""\
        count: !XCounter
          label: !g [a, b]
          steps: 3
          fail_at: 2
          fail_once: {tmp_path / "failed-{label}"}
          log: {log}
        """,
        top="executor: local\nmax_failures: 1\n",
    )
    run(config)
    assert set(statuses(progress(tmp_path), "count").values()) == {"success"}
    calls = log.read_text().split("\n")
    for label in "ab":
        # step 1 ran once: the retry continued from its checkpoint, not from the start
        assert calls.count(f"{label} 1") == 1 and calls.count(f"{label} 3") == 1


EXT = "xl_exec_ext"
REPO_ROOT = Path(__file__).resolve().parents[2]


def cli_config(folder: Path, pipeline: str) -> Path:
    """A config for ``flambe run``: the test components through an extension module."""
    package = folder / "pythonpath" / EXT
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("from tests.core.experiment_components import *  # noqa\n")
    config = write_config(folder, pipeline.replace("!X", f"!{EXT}.X"), top="executor: local\n")
    config.write_text(f"{EXT}: {EXT}\n---\n" + config.read_text())
    return config


def _flambe(config: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(config.parent / "pythonpath"), str(REPO_ROOT)]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    return subprocess.Popen(
        [sys.executable, "-m", "flambe.cli", "run", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env=env,
    )


def _wait_for(path: Path, lines: int, proc: subprocess.Popen[str]) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = path.read_text().split() if path.exists() else []
        if len(found) >= lines:
            return [int(p) for p in found]
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.1)
    raise AssertionError(f"no {lines} steps in {path}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def test_ctrl_c_stops_the_workers_and_a_rerun_continues(tmp_path: Path) -> None:
    pids = tmp_path / "pids.txt"
    config = cli_config(
        tmp_path,
        f"""\
        work: !XCrash
          label: !g [a, b]
          steps: 10
          sleep: 0.1
          pid_file: {pids}
        """,
    )
    proc = _flambe(config)
    workers = set(_wait_for(pids, 4, proc))
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    time.sleep(0.5)
    assert not any(_alive(pid) for pid in workers)
    proc = _flambe(config)  # the same config: continued from the last checkpoints
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    doc = progress(tmp_path)
    assert [v["step"] for v in doc["stages"]["work"]["variants"].values()] == [10, 10]
    # each step ran once (the one cut by Ctrl-C, before its checkpoint, at most twice)
    assert len(pids.read_text().split()) <= 2 * 10 + 2


def test_kill_9_of_the_run_takes_its_workers(tmp_path: Path) -> None:
    pids = tmp_path / "pids.txt"
    config = cli_config(
        tmp_path,
        f"""\
        work: !XCrash
          label: !g [a, b]
          steps: 300
          sleep: 0.1
          pid_file: {pids}
        """,
    )
    proc = _flambe(config)
    workers = set(_wait_for(pids, 4, proc))
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
    # what they committed is there for the next run to continue
    for variant in (tmp_path / "out" / "output__exp" / "work").iterdir():
        assert json.loads((variant / "trial.json").read_text())["step"] >= 1


def test_workers_see_the_environment_of_the_run_that_started_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fork server outlives a run; a later run's workers still get that run's environment."""
    log = tmp_path / "env.txt"
    body = f"""\
        probe: !XEnv
          name: FLAMBE_TEST_MARK
          label: !g [a, b]
          log: {log}
        """
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    monkeypatch.setenv("FLAMBE_TEST_MARK", "first")
    run(write_config(tmp_path / "one", body, top="executor: local\n"))
    monkeypatch.setenv("FLAMBE_TEST_MARK", "second")
    run(write_config(tmp_path / "two", body, top="executor: local\n"))
    lines = log.read_text().splitlines()
    assert sorted(lines[:2]) == ["a first", "b first"]
    assert sorted(lines[2:]) == ["a second", "b second"]
