"""One run per output folder: a second ``flambe run`` refuses at once; a killed run frees it."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from flambe.errors import OutputBusyError
from flambe.experiment.lock import LOCK_FILE, OutputLock
from flambe.experiment.progress import ProgressState
from tests.core.fault_harness import (
    check_readable,
    executed,
    finish,
    kill,
    log_text,
    output_of,
    start,
    write_experiment,
)

SLOW = """\
a: !flambe_fault_ext.FaultTrainer
  lr: 0.05
  steps: 40
"""


def wait_for_steps(log: Path, count: int, proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(executed(log)) < count:
        assert proc.poll() is None, "the run ended before it got going"
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.mark.timeout(300)
def test_a_second_run_refuses_and_a_killed_run_frees_the_folder(tmp_path: Path) -> None:
    config = write_experiment(tmp_path, SLOW)
    log = tmp_path / "steps.log"
    # slow steps: the first run outlasts the start of the second on a loaded machine
    first = start(
        config, {"FLAMBE_FAULT_LOG": str(log), "FLAMBE_FAULT_RUN": "1", "FLAMBE_FAULT_DELAY": "1.0"}
    )
    wait_for_steps(log, 2, first)
    # even --force (which would empty the folder) is refused while the first run holds it
    began = time.monotonic()
    second = start(config, {"FLAMBE_FAULT_LOG": str(log), "FLAMBE_FAULT_RUN": "2"}, ["-f"])
    assert finish(second, timeout=120) == 16
    refused = log_text(config)
    assert f"is in use by another run: pid {first.pid} on host {socket.gethostname()}" in refused
    assert "started 20" in refused and "UTC" in refused
    assert time.monotonic() - began < 60  # at once: it does not wait for the holder
    assert [line for line in executed(log) if line[0] == "2"] == []
    # readers need no lock: the progress document is readable while the run goes on
    assert ProgressState.read(str(output_of(config)))["status"] == "running"
    assert first.poll() is None
    kill(first)  # SIGKILL: the kernel drops the lock with the process
    done_before = check_readable(output_of(config))["a/default"]["step"]
    third = start(
        config, {"FLAMBE_FAULT_LOG": str(log), "FLAMBE_FAULT_RUN": "3", "FLAMBE_FAULT_DELAY": "0"}
    )
    assert finish(third) == 0, log_text(config)
    final = check_readable(output_of(config))["a/default"]
    assert final["done"] and final["step"] == 40
    steps_of_third = [int(line[2]) for line in executed(log) if line[0] == "3"]
    assert steps_of_third == list(range(done_before + 1, 41))  # it continued, it did not restart
    assert (output_of(config) / LOCK_FILE).exists()


def test_the_lock_names_its_holder_and_is_released(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    with OutputLock(str(folder), what="test") as held:
        holder = json.loads((folder / LOCK_FILE).read_text())
        assert holder["what"] == "test" and holder["host"] == socket.gethostname()
        # a second descriptor is a second holder for flock, even in this process
        with pytest.raises(OutputBusyError, match=r"pid \d+ on host .*, started .* \(test\)"):
            OutputLock(str(folder)).acquire()
        assert held.held
    assert not held.held
    with OutputLock(str(folder)):  # free again
        pass
