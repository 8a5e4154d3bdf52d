"""Relative paths written in a config start from the config's folder, wherever flambe runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flambe.compile.yaml import load_config


def _folders(tmp_path: Path):
    configs, elsewhere = tmp_path / "configs", tmp_path / "elsewhere"
    configs.mkdir()
    elsewhere.mkdir()
    return configs, elsewhere


def test_a_builder_writes_its_relative_destination_beside_the_config(tmp_path: Path) -> None:
    configs, elsewhere = _folders(tmp_path)
    config = configs / "build.yaml"
    config.write_text(
        "!Builder\ndestination: exported/model\n"
        "component: !torch.Linear {in_features: 4, out_features: 2}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "flambe.cli", "run", str(config)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert (configs / "exported" / "model").exists()
    assert not (elsewhere / "exported").exists()


def test_runnables_resolve_their_outputs_from_the_config_folder(
    tmp_path: Path, monkeypatch
) -> None:
    configs, elsewhere = _folders(tmp_path)
    config = configs / "build.yaml"
    config.write_text(
        "!Builder\ndestination: out/model\n"
        "component: !torch.Linear {in_features: 1, out_features: 1}\n"
    )
    monkeypatch.chdir(elsewhere)
    builder = load_config(open(config), str(config)).root()
    assert builder.path_from_config("out/x.txt") == str(configs / "out" / "x.txt")
    assert builder.path_from_config(str(tmp_path / "abs")) == str(tmp_path / "abs")


def test_a_relative_save_path_starts_from_the_config_folder(tmp_path: Path, monkeypatch) -> None:
    configs, elsewhere = _folders(tmp_path)
    config = configs / "exp.yaml"
    config.write_text(
        "!Experiment\nname: paths\nsave_path: runs\npipeline:\n"
        "  model: !torch.Linear {in_features: 1, out_features: 1}\n"
    )
    monkeypatch.chdir(elsewhere)
    experiment = load_config(open(config), str(config)).root()
    experiment.parse()
    assert experiment.output_path == str(configs / "runs" / "output__paths")
    default = configs / "default.yaml"
    default.write_text(config.read_text().replace("save_path: runs\n", ""))
    experiment = load_config(open(default), str(default)).root()
    experiment.parse()
    assert experiment.output_path == str(elsewhere / "flambe-output" / "output__paths")
