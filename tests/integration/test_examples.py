"""Every example config runs (the quickstart is the first test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

import flambe

ROOT = Path(__file__).resolve().parents[2]
FLAMBE = Path(sys.executable).with_name("flambe")


def test_quickstart_builds_and_saves_a_loadable_model(tmp_path):
    result = subprocess.run([str(FLAMBE), "run", str(ROOT / "examples" / "quickstart.yaml")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    saved = tmp_path / "flambe-output" / "quickstart-model"
    assert (saved / "config.yaml").read_text().startswith("!torch.TransformerEncoder")
    model = flambe.load(str(saved))
    assert isinstance(model, torch.nn.TransformerEncoder)
    assert len(model.layers) == 2
    out = model(torch.zeros(3, 5, 64))
    assert out.shape == (3, 5, 64)
    # a second run refuses to overwrite, --force replaces
    again = subprocess.run([str(FLAMBE), "run", str(ROOT / "examples" / "quickstart.yaml")],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0
    forced = subprocess.run([str(FLAMBE), "run", "-f", str(ROOT / "examples" / "quickstart.yaml")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0, forced.stderr


def test_builder_saves_the_same_weights_it_built(tmp_path):
    from flambe.compile import yaml
    schema = yaml.load(f"""
!Builder
destination: {tmp_path / 'out'}
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
