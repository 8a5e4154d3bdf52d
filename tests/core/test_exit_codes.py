"""Each documented exit status of ``flambe run`` (docs/cli.md), from a real, small run.

A failed variant is a failure of the run (1), not a configuration error (22):
``ExperimentFailed`` is a ``FlambeError`` but not a ``ConfigError``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flambe.cli.exitcodes import (
    EXIT_BUSY,
    EXIT_CONFIG,
    EXIT_DISK_FULL,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
)
from flambe.errors import ConfigError, ExperimentFailed, FlambeError
from flambe.experiment.lock import OutputLock
from tests.core.fault_harness import environment, finish, log_text, output_of, start

ONE = "one: !flambe_fault_ext.FaultTrainer\n  lr: {lr}\n  steps: {steps}\n"


def experiment(folder: Path, lr: str = "0.05", steps: int = 2) -> Path:
    from tests.core.fault_harness import write_experiment

    return write_experiment(folder, ONE.format(lr=lr, steps=steps))


def test_experiment_failed_is_not_a_configuration_error() -> None:
    assert issubclass(ExperimentFailed, FlambeError)
    assert not issubclass(ExperimentFailed, ConfigError)


def test_0_success(tmp_path: Path) -> None:
    config = experiment(tmp_path)
    assert finish(start(config)) == EXIT_OK, log_text(config)


def test_1_a_failed_variant(tmp_path: Path) -> None:
    config = experiment(tmp_path, lr=".nan")  # a NaN metric fails the variant while running
    assert finish(start(config)) == EXIT_FAILURE, log_text(config)
    assert "variant 'default' failed" in log_text(config)


def test_2_usage(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flambe.cli", "run", "--no-such-option", "x.yaml"],
        env=environment(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == EXIT_USAGE, proc.stderr


def test_22_configuration(tmp_path: Path) -> None:
    config = experiment(tmp_path, lr="!NoSuchTag {}")
    assert finish(start(config)) == EXIT_CONFIG, log_text(config)
    assert not output_of(config).exists()  # found before anything ran


def test_16_output_folder_in_use(tmp_path: Path) -> None:
    config = experiment(tmp_path)
    os.makedirs(output_of(config))
    with OutputLock(str(output_of(config)), what="experiment f"):
        assert finish(start(config)) == EXIT_BUSY, log_text(config)


def test_28_disk_full(tmp_path: Path) -> None:
    config = experiment(tmp_path)
    code = finish(start(config, {"FLAMBE_FAULTS": "checkpoint.saved@1=enospc"}))
    assert code == EXIT_DISK_FULL, log_text(config)


def test_130_interrupted(tmp_path: Path) -> None:
    config = experiment(tmp_path, steps=100)
    proc = start(config, {"FLAMBE_FAULT_DELAY": "0.2"})
    deadline = time.monotonic() + 60
    while not (output_of(config) / "one" / "default" / "trial.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, log_text(config)
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    assert finish(proc) == EXIT_INTERRUPTED, log_text(config)
