"""The NLP examples run: the SST quickstart (on Ray Tune), TREC and PTB (in process).

Each test runs a copy of the file in examples/ with fewer steps (and, for
the quickstart, smaller layers), reading the shared data folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import flambe
from flambe.compile import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def copy_example(name: str, folder: Path, shared_data: Path, replacements) -> Path:
    """A copy of an example with its resource made absolute and some values replaced."""
    source = EXAMPLES / name
    text = source.read_text()
    match = re.search(r"^  (\w+): (\.\./\.\./\.\./shared/data/\w+)", text, flags=re.M)
    assert match, f"{name} should read the shared data through a relative resource"
    resolved = (source.parent / match.group(2)).resolve()
    assert resolved == (shared_data / resolved.name).resolve()
    text = text.replace(match.group(2), str(resolved))
    text = text.replace("!Experiment\n", f"!Experiment\nsave_path: {folder / 'out'}\n", 1)
    for old, new in replacements:
        assert old in text, f"{old!r} is not in {name}"
        text = text.replace(old, new)
    target = folder / Path(name).name
    target.write_text(text)
    return target


def run(path: Path) -> dict:
    experiment = yaml.load(path.read_text(), file=str(path))()
    experiment.run()
    name = experiment.name
    return json.loads((path.parent / "out" / f"output__{name}" / "progress.json").read_text())


def variants(progress: dict, stage: str) -> dict:
    return {v["name"]: v for v in progress["stages"][stage]["variants"].values()}


def test_sst_quickstart_searches_reduces_and_evaluates(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    config = copy_example(
        "sst/quickstart.yaml",
        tmp_path,
        shared_data,
        [
            ("embedding_dim: 300", "embedding_dim: 16"),
            ("input_size: 300", "input_size: 16"),
            ("hidden_size: 256", "hidden_size: 16"),
            ("max_steps: 20", "max_steps: 1"),
            ("iter_per_step: 50", "iter_per_step: 2"),
            ("val_sampler: !BaseSampler {}", "val_sampler: !BaseSampler {downsample: 0.2}"),
        ],
    )
    progress = run(config)
    assert progress["status"] == "success"
    trained = variants(progress, "train")
    assert sorted(trained) == ["n_layers=2", "n_layers=3", "n_layers=4"]
    assert [v["status"] for v in trained.values()].count("success") == 1  # reduce: 1
    evaluated = list(variants(progress, "evaluate").values())
    assert len(evaluated) == 1 and evaluated[0]["status"] == "success"
    assert 0 <= evaluated[0]["last_metric"] <= 1
    dataset = flambe.load(
        str(tmp_path / "out" / "output__sst" / "dataset" / "default" / "checkpoint")
    )
    assert dataset.text.vocab_size > 15000 and dataset.label.vocab_size == 2


def test_trec_example_runs_in_process(tmp_path, shared_data):
    config = copy_example(
        "trec/trec.yaml",
        tmp_path,
        shared_data,
        [("max_steps: 10", "max_steps: 1\n    iter_per_step: 5")],
    )
    progress = run(config)
    assert progress["status"] == "success"
    (evaluated,) = variants(progress, "evaluate").values()
    assert 0 <= evaluated["last_metric"] <= 1


def test_ptb_example_runs_in_process(tmp_path, shared_data):
    config = copy_example(
        "ptb/ptb.yaml",
        tmp_path,
        shared_data,
        [
            ("max_steps: 8", "max_steps: 1\n    iter_per_step: 3"),
            (
                "!CorpusSampler {batch_size: 10, unroll_size: 35}",
                "!CorpusSampler {batch_size: 10, unroll_size: 35, downsample: 0.05}",
            ),
        ],
    )
    progress = run(config)
    assert progress["status"] == "success"
    (trained,) = variants(progress, "train").values()
    # the trainer's metric is oriented (higher is better): minus the perplexity
    assert trained["best_metric"] < 0 and -trained["best_metric"] < 20000
    model = flambe.load(
        str(tmp_path / "out" / "output__ptb" / "train" / "default" / "checkpoint" / "model")
    )
    assert model.output_layer.weight is model.embedder.embedding.token_embedding.weight
