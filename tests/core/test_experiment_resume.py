"""Killing and interrupting the driver: a rerun loses no finished trial and recomputes none.

Each driver is a separate process in its own session, with its own Ray (its
own temporary folder), and carries a token in its environment: whatever it
leaves behind after a SIGKILL is found by that token and ended by PID, so
the Ray of the test session (if any) is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core.exp_helpers import lines, progress, write_config

REPO_ROOT = Path(__file__).resolve().parents[2]

DRIVER = textwrap.dedent("""
    import sys
    import tests.core.experiment_components
    from flambe.compile import yaml
    path = sys.argv[1]
    experiment = yaml.load(open(path).read(), file=path)()
    experiment.run()
""")


class Driver:
    """An experiment run in its own process, with a token to find what it started."""

    def __init__(self, config: Path, tmp: Path) -> None:
        self.token = uuid.uuid4().hex
        env = dict(os.environ)
        # Ray's socket paths must stay under 108 bytes: a short folder of its own
        self.ray_tmp = tempfile.mkdtemp(prefix="fr", dir="/tmp")
        env.update(
            FLAMBE_TEST_DRIVER=self.token,
            RAY_TMPDIR=self.ray_tmp,
            PYTHONPATH=os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]),
        )
        env.pop("RAY_ADDRESS", None)
        self.out = open(tmp / f"driver-{self.token[:6]}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(config)],
            cwd=REPO_ROOT,
            env=env,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def leftovers(self) -> list[int]:
        """PIDs of live processes carrying this driver's token (Ray's included)."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    if f"FLAMBE_TEST_DRIVER={self.token}".encode() in handle.read():
                        found.append(int(entry))
            except OSError:
                continue
        return found

    def cleanup(self) -> None:
        """End every process this driver left, by PID."""
        deadline = time.time() + 10
        while time.time() < deadline:
            pids = self.leftovers()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.out.close()
        shutil.rmtree(self.ray_tmp, ignore_errors=True)

    def log(self) -> str:
        if not self.out.closed:
            self.out.flush()
        return Path(self.out.name).read_text()


def wait_for(condition: Callable[[], bool], timeout: float, driver: Driver) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        if driver.proc.poll() is not None:
            raise AssertionError(f"the driver ended early:\n{driver.log()[-3000:]}")
        time.sleep(0.1)
    raise AssertionError(f"timed out; driver output:\n{driver.log()[-3000:]}")


def trial_files(root: Path, stage: str) -> dict[str, dict]:
    out = {}
    for folder in (root / stage).iterdir() if (root / stage).is_dir() else []:
        path = folder / "trial.json"
        if path.exists():
            out[folder.name] = json.loads(path.read_text())
    return out


def steps_by_label(log: Path) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for line in lines(log):
        label, step = line.split()
        out.setdefault(label, []).append(int(step))
    return out


@pytest.mark.slow
def test_sigkill_of_the_driver_then_a_rerun_loses_and_recomputes_no_finished_trial(
    tmp_path: Path,
) -> None:
    log = tmp_path / "runs.txt"
    config = write_config(
        tmp_path,
        f"""\
        t: !XCounter
          label: !g [a, b, c, d, e, f]
          steps: 3
          sleep: 0.3
          log: {log}
        after: !XCounter
          label: after
          upstream: !@ t
          steps: 1
          log: {log}
        """,
        top="seed: 1\nreduce: {t: 1}\n",
    )
    root = tmp_path / "out" / "output__exp"
    first = Driver(config, tmp_path)
    try:
        # kill once some trials finished and others are half-way
        def some_done() -> bool:
            files = trial_files(root, "t").values()
            return any(f["done"] for f in files) and any(not f["done"] for f in files)

        wait_for(some_done, 240, first)
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        killed_at = {name.split("=")[1]: f for name, f in trial_files(root, "t").items()}
        before = steps_by_label(log)
    finally:
        first.cleanup()
    assert not first.leftovers()
    finished = {label for label, f in killed_at.items() if f["done"]}
    assert finished and len(finished) < 6

    second = Driver(config, tmp_path)
    try:
        assert second.proc.wait(timeout=300) == 0, second.log()[-3000:]
    finally:
        second.cleanup()
    doc = progress(tmp_path)
    assert doc["status"] == "success"
    t = {v["name"].split("=")[1]: v for v in doc["stages"]["t"]["variants"].values()}
    # finished ones are taken as they were (reduce may then mark them "reduced")
    assert {label for label, v in t.items() if v["reused"]} == finished
    after = steps_by_label(log)
    for label in "abcdef":
        new = after.get(label, [])[len(before.get(label, [])) :]
        saved = killed_at.get(label, {}).get("step", 0)
        # finished: nothing again; unfinished: from the step after its last checkpoint
        assert new == list(range(saved + 1, 4)), (label, saved, before.get(label), new)
        assert trial_files(root, "t")[f"label={label}"]["done"]
    assert lines(log).count("after 1") == 1


def test_sigint_stops_cleanly_with_the_progress_written(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    config = write_config(
        tmp_path,
        f"""\
        t: !XCounter
          steps: 200
          sleep: 0.1
          log: {log}
        after: !XCounter
          upstream: !@ t
          label: after
          log: {log}
        """,
    )
    driver = Driver(config, tmp_path)
    try:
        # the 4th call has begun: step 3 is committed and in progress.json (a SIGINT
        # during a checkpoint leaves the previous step committed)
        wait_for(lambda: len(lines(log)) >= 4, 120, driver)
        driver.proc.send_signal(signal.SIGINT)
        code: int | None = driver.proc.wait(timeout=30)
    finally:
        driver.cleanup()
    assert code != 0
    doc = progress(tmp_path)
    assert doc["status"] == "interrupted" and doc["finished"] is not None
    assert doc["stages"]["t"]["status"] == "interrupted"
    assert doc["stages"]["after"]["status"] == "pending"
    (entry,) = doc["stages"]["t"]["variants"].values()
    assert entry["status"] == "interrupted" and entry["step"] >= 3
    assert "Traceback" not in driver.log() or "KeyboardInterrupt" in driver.log()
    assert not any(line.startswith("after") for line in lines(log))
