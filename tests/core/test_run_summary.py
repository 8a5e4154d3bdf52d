"""What a run says: its summary, its progress lines, a quiet Ray, the README's load line.

Also: an unknown command names the closest ones, the TensorBoard hint works
as written (or names the extra to install), and the quickstart's install
step shows progress (run against a stand-in interpreter: no package index
can be reached here).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from flambe.cli.main import cli
from flambe.experiment.summary import error_headline, tensorboard_hint

ROOT = Path(__file__).resolve().parents[2]
FLAMBE = Path(sys.executable).with_name("flambe")
RAY_NOTICES = ("Token authentication is enabled", "Failed to determine local IP")


def small_moons(folder: Path) -> Path:
    """examples/moons.yaml with two variants of two steps, its data file given by full path."""
    text = (ROOT / "examples" / "moons.yaml").read_text()
    text = text.replace("data/moons.csv", str(ROOT / "examples" / "data" / "moons.csv"))
    text = text.replace("n_layers: !g [1, 3]", "n_layers: 1").replace(
        "max_steps: 6", "max_steps: 2"
    )
    assert "lr: !g [0.01, 0.001]" in text
    path = folder / "moons.yaml"
    path.write_text(text)
    return path


def flambe_run(config: Path, cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, FLAMBE_HOME=str(home))
    return subprocess.run(
        [str(FLAMBE), "run", str(config), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_a_run_ends_with_a_summary_keeps_ray_quiet_and_the_readme_loads_its_model(tmp_path):
    config = small_moons(tmp_path)
    home = tmp_path / "home"
    first = flambe_run(config, tmp_path, home, "--executor", "ray")  # Ray's notices: kept quiet
    assert first.returncode == 0, first.stdout + first.stderr
    console = first.stdout + first.stderr
    # progress lines name the metric and the step out of the steps
    assert re.search(r"^train/lr=0\.01 step 2/2: Accuracy 0\.\d+$", console, re.M), console
    # the summary: counts per stage, the best variant with its metric, the evaluation
    assert re.search(r"^Summary of moons \(success, [\d.]+ s\):$", console, re.M)
    assert re.search(
        r"^  train     2 variants: 2 run, 0 reused, 0 failed; best lr=0\.0\d+: "
        r"Accuracy 0\.\d+ \(1 kept by reduce\)$",
        console,
        re.M,
    ), console
    assert re.search(r"^  evaluate/lr=0\.0\d+: Accuracy 0\.\d+$", console, re.M)
    assert "Best evaluate checkpoint: flambe.load(" in console
    # Ray's start-up notices go to the log file, not the console
    log = (home / "logs" / "log.log").read_text()
    assert any(notice in log for notice in RAY_NOTICES), log[-3000:]
    for notice in RAY_NOTICES:
        assert notice not in console
    assert "Trial task failed" not in console and "Traceback" not in console
    # the README's line loads the kept model, as written (with the environment's python)
    readme = (ROOT / "README.md").read_text()
    (line,) = [line for line in readme.splitlines() if line.startswith(".venv/bin/python -c ")]
    command = line.replace(".venv/bin/python", shlex.quote(sys.executable), 1)
    loaded = subprocess.run(
        command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("MLPEncoder(")
    # a rerun reuses everything and says so
    again = flambe_run(config, tmp_path, home)
    assert again.returncode == 0, again.stdout + again.stderr
    console = again.stdout + again.stderr
    assert re.search(
        r"^  train     2 variants: 0 run, 2 reused, 0 failed; best lr=0\.0\d+: "
        r"Accuracy 0\.\d+",
        console,
        re.M,
    ), console
    assert re.search(
        r"^  evaluate  1 variant: 0 run, 1 reused, 0 failed; Accuracy 0\.\d+$", console, re.M
    ), console


@pytest.mark.parametrize(
    "typed, suggested", [("runn", "'run'"), ("validat", "'validate'"), ("plugin", "'plugins'")]
)
def test_an_unknown_command_suggests_the_closest(typed, suggested):
    result = CliRunner().invoke(cli, [typed, "x"])
    assert result.exit_code == 2
    assert f"No such command '{typed}'. Did you mean {suggested}" in result.output


def test_an_unknown_command_far_from_every_command_lists_them():
    result = CliRunner().invoke(cli, ["xyzzy"])
    assert result.exit_code == 2
    assert "No such command 'xyzzy'. The commands are: " in result.output
    assert "run" in result.output and "validate" in result.output


def test_the_tensorboard_hint_works_as_written_or_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    hint = tensorboard_hint("/out")
    assert "pip install 'flambe-core[tensorboard]'" in hint and "--logdir" not in hint
    # beside the interpreter of an environment that is not activated: its full path
    (tmp_path / "bin").mkdir()
    beside = tmp_path / "bin" / "tensorboard"
    beside.write_text("#!/bin/sh\n")
    beside.chmod(0o755)
    if importlib.util.find_spec("tensorboard") is not None:
        assert tensorboard_hint("/out") == f"TensorBoard: {beside} --logdir /out"
    # on the PATH: the plain command
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert tensorboard_hint("/out") == "TensorBoard: tensorboard --logdir /out"


def test_error_headline_is_the_exception_line_of_a_traceback():
    text = textwrap.dedent("""\
        Failure # 1 (occurred at 2026-11-30_00-13-36)
        The actor died because of an error raised in its creation task
          File "trial.py", line 3, in build
            raise ArgumentError(...)
        flambe.errors.ArgumentError: !MLPEncoder got an unknown argument 'hiden_size'
          hint: did you mean 'hidden_size'?
        """)
    assert (
        error_headline(text)
        == "flambe.errors.ArgumentError: !MLPEncoder got an unknown argument 'hiden_size'"
    )
    assert (
        error_headline("the trial ended before finishing a step\nmore")
        == "the trial ended before finishing a step"
    )
    assert error_headline(None) == "unknown error"


def test_the_quickstart_install_step_shows_progress(tmp_path):
    # a copy of the scripts beside a stand-in .venv whose pip prints what a real one prints
    for name in ("install", "quickstart", "requirements"):
        (tmp_path / "scripts").mkdir(exist_ok=True)
        shutil.copy(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    (tmp_path / "pyproject.toml").write_text('[dependency-groups]\ntest = ["pytest"]\n')
    (tmp_path / "packages" / "flambe-core").mkdir(parents=True)
    (tmp_path / "packages" / "flambe-core" / "pyproject.toml").write_text("[project]\n")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    fake_python = bin_dir / "python"
    fake_python.write_text(
        textwrap.dedent("""\
        #!/bin/sh
        case "$*" in
          *"version(\\"torch\\")"*) echo 2.13.0 ;;
          *"scripts/requirements torch") echo torch==2.13.0 ;;
          *"scripts/requirements test") echo pytest ;;
          *--quiet*) ;;
          *" install "*)
            echo "Obtaining file:///packages/flambe-core"
            echo "Collecting click>=8"
            echo "  Downloading click-8.1.7-py3-none-any.whl (97 kB)"
            echo "Building wheels for collected packages: flambe-core"
            echo "Installing collected packages: click, flambe-core"
            echo "Successfully installed click-8.1.7 flambe-core-0.5.0" ;;
        esac
        """)
    )
    fake_python.chmod(0o755)
    fake_flambe = bin_dir / "flambe"
    fake_flambe.write_text('#!/bin/sh\necho "flambe $*"\n')
    fake_flambe.chmod(0o755)
    result = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "quickstart")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert (
        "  Collecting click>=8" in out
        and "  Successfully installed click-8.1.7 flambe-core-0.5.0" in out
    )
    assert "  Installing collected packages: click, flambe-core" in out
    assert out[-1] == "flambe run examples/moons.yaml"
    # scripts/install alone (CI, scripts/test) stays quiet
    (tmp_path / ".venv" / ".flambe-install").unlink()
    quiet = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "install")], capture_output=True, text=True, timeout=60
    )
    assert quiet.returncode == 0 and "Collecting" not in quiet.stdout


def test_library_notices_reach_the_log_file_and_not_the_console(tmp_path, monkeypatch, capfd):
    # what Ray logs (e.g. the pyarrow traceback about driver_artifacts on resume) and what its
    # core prints on file descriptor 2 (e.g. "Failed to determine local IP") while it starts
    import logging

    from flambe.cli.logs import setup_logging, teardown_logging
    from flambe.logging.libraries import adopt_library_loggers, stderr_to_log

    monkeypatch.setenv("FLAMBE_HOME", str(tmp_path / "home"))
    ray_logger = logging.getLogger("ray")
    own = logging.StreamHandler(sys.stderr)  # as Ray installs its own, not propagating
    monkeypatch.setattr(ray_logger, "propagate", False)
    ray_logger.addHandler(own)
    level = ray_logger.level
    ray_logger.setLevel(logging.ERROR)  # as Tune leaves it after a stage
    setup_logging()
    try:
        adopt_library_loggers()
        assert own not in ray_logger.handlers and ray_logger.propagate
        try:
            raise OSError("[Errno 17] driver_artifacts exists")
        except OSError:
            logging.getLogger("ray.train._internal.storage").exception(
                "Caught exception when creating directory at driver_artifacts"
            )
        with stderr_to_log("ray.init"):
            os.write(2, b"[W network_util.cc:330] Failed to determine local IP\n")
        logging.getLogger("flambe.experiment.engine").info("Stage train: 2 variants")
    finally:
        teardown_logging()
        ray_logger.removeHandler(own)
        ray_logger.setLevel(level)
    console = capfd.readouterr().err
    assert "Stage train: 2 variants" in console
    assert "driver_artifacts" not in console and "local IP" not in console
    log = (tmp_path / "home" / "logs" / "log.log").read_text()
    assert "Caught exception when creating directory at driver_artifacts" in log
    assert "OSError: [Errno 17] driver_artifacts exists" in log
    assert "ray.init: [W network_util.cc:330] Failed to determine local IP" in log


def test_with_verbose_library_notices_reach_the_console_too(tmp_path, monkeypatch, capfd):
    import logging

    from flambe.cli.logs import setup_logging, teardown_logging
    from flambe.logging.libraries import adopt_library_loggers

    monkeypatch.setenv("FLAMBE_HOME", str(tmp_path / "home"))
    setup_logging(verbose=True)
    try:
        adopt_library_loggers()  # as every stage run on Ray does
        logging.getLogger("ray.tune.tune").error("Trials did not complete: [a]")
    finally:
        teardown_logging()
    assert "Trials did not complete" in capfd.readouterr().err
