"""A full disk: a plain message naming the file and the space left, exit 28, nothing finished lost.

The real case mounts a small tmpfs in a private mount namespace (as the
test namespace allows) for the output folder: the first stage fits, the
second stage's checkpoint does not. The file system is then grown and the
same command continues, reusing the finished stage. An injected ``ENOSPC``
covers the writes of ``progress.json`` as well.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.fault_harness import (
    check_readable,
    environment,
    finish,
    log_text,
    output_of,
    start,
    write_experiment,
)

PIPELINE = """\
small: !flambe_fault_ext.FaultTrainer
  lr: 0.05
  steps: 3
big: !flambe_fault_ext.FaultTrainer
  lr: 0.01
  steps: 2
  width: 400000
"""


def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.timeout(300)
def test_a_full_disk_says_so_and_the_rerun_keeps_what_finished(tmp_path: Path) -> None:
    if not _can_mount():
        pytest.skip("this machine does not let the tests mount a tmpfs in a mount namespace")
    disk = tmp_path / "disk"
    disk.mkdir()
    config = write_experiment(disk, PIPELINE)
    config = config.rename(tmp_path / "f.yaml")
    keep = tmp_path / "kept"
    flambe = f"{sys.executable} -m flambe.cli run {config}"
    script = f"""
        mount -t tmpfs -o size=1200k tmpfs {disk}
        {flambe} > {tmp_path}/first.log 2>&1; echo $? > {tmp_path}/first.code
        cp -a {disk}/out {tmp_path}/after-first
        mount -o remount,size=64m {disk}
        {flambe} > {tmp_path}/second.log 2>&1; echo $? > {tmp_path}/second.code
        cp -a {disk}/out {keep}
    """
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stderr
    first = (tmp_path / "first.log").read_text()
    assert (tmp_path / "first.code").read_text().strip() == "28", first
    assert "error: no space left on device: could not write the checkpoint of big/default" in first
    assert " free there)" in first and "Traceback" not in first
    assert "unexpected pos" not in first and "TuneError" not in first
    after_first = check_readable(tmp_path / "after-first" / "output__f")
    assert after_first["small/default"]["done"]  # finished before the disk filled: kept
    assert "big/default" not in after_first  # nothing half-written is taken for a checkpoint
    second = (tmp_path / "second.log").read_text()
    assert (tmp_path / "second.code").read_text().strip() == "0", second
    output = keep / "output__f"
    doc = json.loads((output / "progress.json").read_text())
    statuses = {
        stage: [v["status"] for v in info["variants"].values()]
        for stage, info in doc["stages"].items()
    }
    assert statuses == {"small": ["reused"], "big": ["success"]}
    assert check_readable(output)["small/default"] == after_first["small/default"]


@pytest.mark.parametrize("plan", ["atomic.replace:progress.json@4", "checkpoint.saved@2"])
def test_an_injected_enospc_is_reported_plainly(tmp_path: Path, plan: str) -> None:
    config = write_experiment(tmp_path, PIPELINE.replace("width: 400000", "width: 8"))
    assert finish(start(config, {"FLAMBE_FAULTS": f"{plan}=enospc"})) == 28
    console = log_text(config)
    assert "error: no space left on device: could not write " in console
    assert "hint: free some space" in console and "Traceback" not in console
    check_readable(output_of(config))


@pytest.mark.faults
@pytest.mark.timeout(600)
def test_a_full_disk_in_a_ray_trial_is_reported_plainly(tmp_path: Path) -> None:
    config = write_experiment(
        tmp_path,
        """\
        small: !flambe_fault_ext.FaultTrainer
          lr: !g [0.01, 0.02]
          steps: 3
        """,
    )
    assert finish(start(config, {"FLAMBE_FAULTS": "checkpoint.saved@2=enospc"})) == 28
    console = log_text(config)
    assert "error: no space left on device: could not write the checkpoint of small/" in console
    check_readable(output_of(config))
