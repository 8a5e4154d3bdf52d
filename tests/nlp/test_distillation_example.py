"""examples/distillation/bert_distillation.yaml runs (a lowered copy: little data, few steps)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

import flambe
from flambe.compile import yaml
from tests.nlp.transformer_helpers import minilm_path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "distillation" / "bert_distillation.yaml"
HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def lowered_copy(text: str, tmp_path: Path, sst_dir: Path, lines: int = 48) -> Path:
    """The example with a slice of SST, the local MiniLM folder and a few iterations."""
    small = tmp_path / "sst"
    small.mkdir()
    for name in ("stsa.binary.train", "stsa.binary.dev", "stsa.binary.test"):
        head = (sst_dir / name).read_text(encoding="utf-8").splitlines()[:lines]
        (small / name).write_text("\n".join(head) + "\n", encoding="utf-8")
    assert text.count(HUB_NAME) == 2 and text.count("../../../shared/data/sst") == 1
    text = text.replace(HUB_NAME, minilm_path()).replace("../../../shared/data/sst", str(small))
    for old, new in (
        ("max_steps: 2", "max_steps: 1"),
        ("max_steps: 4", "max_steps: 2"),
        ("iter_per_step: 108", "iter_per_step: 2"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    text = text.replace(
        "name: bert-distillation", f"name: bert-distillation\nsave_path: {tmp_path / 'out'}"
    )
    path = tmp_path / "bert_distillation.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_distillation_example_fine_tunes_then_distils(tmp_path, shared_data, monkeypatch):
    # sru compiles its CPU extension with ninja, installed beside the interpreter
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    config = lowered_copy(EXAMPLE.read_text(encoding="utf-8"), tmp_path, shared_data / "sst")
    experiment = yaml.load(config.read_text(encoding="utf-8"), file=str(config))()
    experiment.run()

    output = tmp_path / "out" / "output__bert-distillation"
    progress = json.loads((output / "progress.json").read_text())
    assert progress["status"] == "success"
    stages = {
        name: next(iter(stage["variants"].values())) for name, stage in progress["stages"].items()
    }
    assert list(stages) == [
        "dataset",
        "teacher",
        "student",
        "finetune",
        "distill",
        "evaluate_teacher",
        "evaluate_student",
    ]
    assert stages["finetune"]["step"] == 1 and stages["distill"]["step"] == 2
    for name in ("finetune", "distill", "evaluate_teacher", "evaluate_student"):
        assert 0.0 <= stages[name]["last_metric"] <= 1.0, name

    # the distilled student is the small SRU model; the teacher it learnt from is the
    # model the fine-tuning stage kept (its best validation pass)
    checkpoint = output / "distill" / "default" / "checkpoint"
    student = flambe.load(str(checkpoint / "student_model"))
    assert student.embedder.encoder.rnn_type == "sru"
    assert student.num_parameters() < 5_000_000
    teacher = flambe.load(str(checkpoint / "teacher_model"))
    kept = flambe.load(str(output / "finetune" / "default" / "checkpoint" / "model"))
    assert teacher.embedder.hidden_size == 384
    kept_state = kept.state_dict()
    for key, value in teacher.state_dict().items():
        assert torch.equal(value, kept_state[key]), key
