"""examples/mnist.yaml: search, ASHA, reduce and evaluation on Ray Tune; its docs; the plugin."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import flambe
from flambe.compile.yaml import load_config
from tests.vision.helpers import MNIST, ROOT, needs_mnist

FLAMBE = Path(sys.executable).with_name("flambe")
EXAMPLE = ROOT / "examples" / "mnist.yaml"


@needs_mnist
def test_the_example_finds_the_local_mnist_files():
    experiment = load_config(EXAMPLE.read_text(), file=str(EXAMPLE)).root
    for name in ("images", "labels"):
        path = (EXAMPLE.parent / experiment["resources"][name]).resolve()
        assert path.parent == MNIST.resolve() and path.is_file()


@pytest.mark.slow
@needs_mnist
def test_a_shortened_example_searches_reduces_and_evaluates(tmp_path):
    text = EXAMPLE.read_text()
    short = (
        text.replace("../../shared/data/mnist", str(MNIST))
        .replace("max_steps: 4 ", "max_steps: 2 ")
        .replace("    max_steps: 2", "    iter_per_step: 15\n    max_steps: 2")
        .replace("{max_t: 4, grace_period: 2}", "{max_t: 2, grace_period: 1}")
    )
    assert short.count("iter_per_step: 15") == 1 and "max_t: 2" in short
    config = tmp_path / "mnist.yaml"
    config.write_text(short)
    result = subprocess.run(
        [str(FLAMBE), "run", str(config)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = tmp_path / "flambe-output" / "output__mnist"
    progress = json.loads((output / "progress.json").read_text())
    assert progress["status"] == "success"
    train = progress["stages"]["train"]["variants"]
    assert len(train) == 2
    assert sorted(v["status"] for v in train.values()) == ["reduced", "success"]
    best = max(train.values(), key=lambda v: v["best_metric"])
    assert best["status"] == "success"
    (evaluation,) = progress["stages"]["evaluate"]["variants"].values()
    assert evaluation["name"] == best["name"]
    assert evaluation["last_metric"] > 0.5  # 30 iterations: far above chance (0.1)
    model = flambe.load(str(output / "train" / best["name"] / "checkpoint" / "model"))
    assert type(model).__name__ == "ImageClassifier"


def test_docs_vision_shows_the_example_as_it_is():
    doc = (ROOT / "docs" / "vision.md").read_text()
    block = re.search(r"<!-- the file examples/mnist.yaml -->\n```yaml\n(.*?)```", doc, re.S).group(
        1
    )
    body = (
        "\n".join(line for line in EXAMPLE.read_text().splitlines() if not line.startswith("#"))
        + "\n"
    )
    assert block == body


def test_flambe_plugins_lists_the_vision_tags():
    result = subprocess.run([str(FLAMBE), "plugins"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("vision (flambe-vision", 1)[1]
    tags = section.split("tags:", 1)[1].splitlines()[0]
    for tag in (
        "MNISTDataset",
        "ImageFolderDataset",
        "ImageArrayDataset",
        "ImageAugmentation",
        "ImageClassifier",
    ):
        assert f"!{tag}" in tags


def test_the_python_examples_of_docs_vision_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = (ROOT / "docs" / "vision.md").read_text()
    namespace = {"__name__": "__main__"}
    ran = 0
    for match in re.finditer(r"(?:<!-- ([^>]*) -->\n)?```python\n(.*?)```", doc, re.S):
        if (match.group(1) or "").strip() == "not run":
            continue
        exec(compile(match.group(2), f"vision.md example {ran + 1}", "exec"), namespace)
        ran += 1
    assert ran == 2
