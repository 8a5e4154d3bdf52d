"""`flambe run` finds every config mistake before anything runs or any folder is created.

Each config is a copy of ``examples/moons.yaml`` with one mistake; the run
must stop with exit 22, print the mistake at its line and column, start no
Ray and create no output folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MOONS = REPO / "examples" / "moons.yaml"


def _copy_moons(folder: Path, old: str = "", new: str = "", data: bool = True) -> Path:
    text = MOONS.read_text(encoding="utf-8")
    if old:
        assert old in text
        text = text.replace(old, new)
    config = folder / "moons.yaml"
    config.write_text(text)
    if data:
        (folder / "data").mkdir()
        shutil.copy(REPO / "examples" / "data" / "moons.csv", folder / "data" / "moons.csv")
    return config


def _run(config: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flambe.cli", "run", str(config), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _line_col(config: Path, needle: str) -> tuple[int, int]:
    for number, row in enumerate(config.read_text().splitlines(), 1):
        if needle in row:
            return number, row.index(needle) + 1
    raise AssertionError(needle)


def _assert_stopped_before_running(proc: subprocess.CompletedProcess, cwd: Path) -> None:
    assert proc.returncode == 22, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "ray" not in proc.stderr.lower().replace("array", "")
    assert not (cwd / "flambe-output").exists()


@pytest.mark.parametrize(
    "old, new, key, words",
    [
        (
            "hidden_size: 32",
            "hiden_size: 32",
            "hiden_size:",
            ["unknown argument 'hiden_size'", "did you mean 'hidden_size'?"],
        ),
        (
            "hidden_size: 32",
            "hiden_size: !g [8, 16]",
            "hiden_size:",
            [
                "unknown argument 'hiden_size' (its value is a !g search over 2 values",
                "did you mean 'hidden_size'?",
            ],
        ),
        (
            "hidden_size: 32",
            "hidden_size: eight",
            "hidden_size:",
            ["argument 'hidden_size' expects int or null, got 'eight' (a string)"],
        ),
        (
            "hidden_size: 32",
            "hidden_size: !g [8, sixteen]",
            "hidden_size:",
            ["argument 'hidden_size' expects int or null, got 'sixteen' (a string)"],
        ),
        (
            "metric_fn: !Accuracy {}\n    eval_data",
            "metric_fn: !Accuracy {}\n    eval_dta",
            "eval_dta:",
            ["!Evaluator got an unknown argument 'eval_dta'", "did you mean 'eval_data'?"],
        ),
    ],
)
def test_a_mistake_inside_a_stage_stops_the_run_at_its_place(
    old, new, key, words, tmp_path: Path
) -> None:
    config = _copy_moons(tmp_path, old, new)
    proc = _run(config, tmp_path)
    _assert_stopped_before_running(proc, tmp_path)
    line, column = _line_col(config, key)
    assert f"{config}:{line}:{column + len(key) + 1}: " in proc.stderr, proc.stderr  # the value
    for word in words:
        assert word in proc.stderr, proc.stderr


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    config = _copy_moons(tmp_path, "hidden_size: 32\n", "hiden_size: 32\n      n_layer: 2\n")
    text = config.read_text().replace("max_steps: 6", "max_steps: six")
    config.write_text(text)
    proc = _run(config, tmp_path)
    _assert_stopped_before_running(proc, tmp_path)
    assert "'hiden_size'" in proc.stderr and "'n_layer'" in proc.stderr
    assert "argument 'max_steps' expects int, got 'six'" in proc.stderr
    assert "3 problems found in the config" in proc.stderr


def test_a_missing_resource_stops_the_run_at_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    config = _copy_moons(folder, data=False)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    (cwd / "data").mkdir()  # a data/moons.csv from where flambe runs does not count
    shutil.copy(REPO / "examples" / "data" / "moons.csv", cwd / "data" / "moons.csv")
    proc = _run(config, cwd)
    _assert_stopped_before_running(proc, cwd)
    line, column = _line_col(config, "data/moons.csv")
    assert (
        f"{config}:{line}:{column}: resource 'moons': {folder / 'data' / 'moons.csv'} does "
        "not exist" in proc.stderr
    )
    assert f"a relative path starts from the config's folder ({folder})" in proc.stderr


def test_a_config_error_comes_before_the_output_folder_check(tmp_path: Path) -> None:
    config = _copy_moons(tmp_path, "hidden_size: 32", "hiden_size: 32")
    output = tmp_path / "flambe-output" / "output__moons"
    output.mkdir(parents=True)  # the output of another configuration of the experiment
    (output / "run.json").write_text(json.dumps({"fingerprint": "another", "seed": 1}))
    proc = _run(config, tmp_path)
    assert proc.returncode == 22, (proc.stdout, proc.stderr)
    assert "unknown argument 'hiden_size'" in proc.stderr
    assert "holds the output of another configuration" not in proc.stderr
    assert "--force" not in proc.stderr
    assert sorted(p.name for p in output.iterdir()) == ["run.json"]


def test_the_python_api_checks_before_the_output_folder(tmp_path: Path, monkeypatch) -> None:
    from flambe.compile.preflight import ConfigProblems
    from flambe.compile.yaml import load_config

    folder = tmp_path / "configs"
    folder.mkdir()
    config = _copy_moons(folder, data=False)
    text = config.read_text().replace("name: moons", f"name: moons\nsave_path: {tmp_path / 'out'}")
    config.write_text(text)
    monkeypatch.chdir(tmp_path)
    experiment = load_config(open(config), str(config)).root()
    with pytest.raises(ConfigProblems) as caught:
        experiment.run()
    line, _ = _line_col(config, "data/moons.csv")
    assert caught.value.location.line == line
    assert "does not exist" in caught.value.message
    assert not (tmp_path / "out").exists()
