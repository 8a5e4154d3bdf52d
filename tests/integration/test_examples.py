"""Every example config runs (the quickstart, examples/moons.yaml, is the first test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

import flambe

ROOT = Path(__file__).resolve().parents[2]
FLAMBE = Path(sys.executable).with_name("flambe")


def test_builder_example_builds_and_saves_a_loadable_model(tmp_path):
    # a relative destination starts from the config's folder: run a copy, not the repository's
    config = tmp_path / "builder.yaml"
    config.write_text((ROOT / "examples" / "builder.yaml").read_text())
    result = subprocess.run(
        [str(FLAMBE), "run", str(config)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    saved = tmp_path / "flambe-output" / "builder-model"
    assert (saved / "config.yaml").read_text().startswith("!torch.TransformerEncoder")
    model = flambe.load(str(saved))
    assert isinstance(model, torch.nn.TransformerEncoder)
    assert len(model.layers) == 2
    out = model(torch.zeros(3, 5, 64))
    assert out.shape == (3, 5, 64)
    # a second run refuses to overwrite, --force replaces
    again = subprocess.run(
        [str(FLAMBE), "run", str(config)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert again.returncode != 0
    forced = subprocess.run(
        [str(FLAMBE), "run", "-f", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert forced.returncode == 0, forced.stderr


def test_builder_saves_the_same_weights_it_built(tmp_path):
    from flambe.compile import yaml

    schema = yaml.load(f"""
!Builder
destination: {tmp_path / "out"}
component: !torch.Linear {{in_features: 4, out_features: 2}}
""")
    builder = schema()
    builder.run()
    loaded = flambe.load(str(tmp_path / "out"))
    assert torch.equal(loaded.weight, builder.component.weight)
    assert torch.equal(loaded.bias, builder.component.bias)


def test_exporter_groups_objects_saved_together(tmp_path):
    from flambe.compile import yaml

    exporter = yaml.load("""
!Exporter
model: !torch.Linear {in_features: 2, out_features: 1}
head: !torch.Linear {in_features: 3, out_features: 1}
""")()
    assert exporter.run() is False
    flambe.save(exporter, str(tmp_path / "export"))
    loaded = flambe.load(str(tmp_path / "export"))
    assert torch.equal(loaded.model.weight, exporter.model.weight)
    assert torch.equal(loaded.head.weight, exporter.head.weight)
    assert flambe.load(str(tmp_path / "export" / "model")).in_features == 2


def _progress(output):
    import json

    return json.loads((output / "progress.json").read_text())


def test_moons_example_searches_reduces_and_evaluates(tmp_path):
    """examples/moons.yaml: 4 variants on Ray Tune, the best kept, evaluated, then continued."""
    example = ROOT / "examples" / "moons.yaml"
    first = subprocess.run(
        [str(FLAMBE), "run", str(example)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    output = tmp_path / "flambe-output" / "output__moons"
    progress = _progress(output)
    assert progress["status"] == "success"
    train = progress["stages"]["train"]["variants"]
    assert sorted(v["name"] for v in train.values()) == [
        "n_layers=1,lr=0.001",
        "n_layers=1,lr=0.01",
        "n_layers=3,lr=0.001",
        "n_layers=3,lr=0.01",
    ]
    assert sorted(v["status"] for v in train.values()) == [
        "reduced",
        "reduced",
        "reduced",
        "success",
    ]
    best = max(train.values(), key=lambda v: v["best_metric"])
    assert best["status"] == "success" and best["step"] == 6
    (evaluation,) = progress["stages"]["evaluate"]["variants"].values()
    assert evaluation["name"] == best["name"]  # the kept variant, and only it
    assert evaluation["last_metric"] > 0.9  # test accuracy
    # every checkpoint loads, and holds the trained model
    trained = flambe.load(str(output / "train" / best["name"] / "checkpoint"))
    assert trained.metric() == best["best_metric"]
    model = flambe.load(str(output / "train" / best["name"] / "checkpoint" / "model"))
    assert isinstance(model, torch.nn.Module)
    # running it again continues: nothing is recomputed
    again = subprocess.run(
        [str(FLAMBE), "run", str(example)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    statuses = [
        v["status"] for s in _progress(output)["stages"].values() for v in s["variants"].values()
    ]
    assert set(statuses) <= {"reused", "reduced"} and statuses.count("reused") == 3


def test_docs_experiments_shows_the_example_as_it_is():
    import re

    doc = (ROOT / "docs" / "experiments.md").read_text()
    block = re.search(r"<!-- the file examples/moons.yaml -->\n```yaml\n(.*?)```", doc, re.S).group(
        1
    )
    example = (ROOT / "examples" / "moons.yaml").read_text()
    body = "\n".join(line for line in example.splitlines() if not line.startswith("#")) + "\n"
    assert block == body
