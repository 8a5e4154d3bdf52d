"""``flambe.save`` of a component built in Python, then ``flambe.load``.

Every component records the arguments given to its constructor; saving an
object built in code writes them as its config, so ``flambe.load`` rebuilds
it (here in a fresh Python process, where nothing of the first one is
left) and loads its weights. An argument that YAML cannot hold fails the
save, naming the argument, and nothing is written.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import flambe
from flambe.errors import SaveError
from flambe.nn import AvgPooling, Embedder, Embeddings, RNNEncoder, Sequential, SoftmaxLayer


def _embedder(embedding: torch.nn.Module) -> Embedder:
    # positional and keyword arguments, nested components, a default left out
    return Embedder(
        embedding,
        RNNEncoder(8, 16, rnn_type="gru", bidirectional=True),
        pooling=AvgPooling(),
        embedding_dropout=0.1,
    )


def test_a_component_built_in_code_loads_back_in_a_fresh_process(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = Sequential(embedder=_embedder(Embeddings(50, 8)), output=SoftmaxLayer(32, 3))
    model.eval()
    data = torch.randint(1, 50, (4, 7))
    torch.save({"data": data, "expected": model(data)}, tmp_path / "io.pt")

    saved = flambe.save(model, tmp_path / "model")

    config = (Path(saved) / "config.yaml").read_text()
    assert config.startswith("!Sequential\n") and "hidden_size: 16" in config
    assert "!Embeddings" in config and "bidirectional: true" in config
    code = textwrap.dedent(f"""
        import torch, flambe
        model = flambe.load({str(saved)!r})
        model.eval()
        io = torch.load({str(tmp_path / "io.pt")!r})
        assert type(model).__name__ == "Sequential", type(model)
        assert model.embedder.encoder.rnn.bidirectional
        print(torch.equal(model(io["data"]), io["expected"]))
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_a_text_classifier_built_in_code_saves_and_loads(tmp_path: Path) -> None:
    nlp = pytest.importorskip("flambe.nlp.classification")
    torch.manual_seed(1)
    model = nlp.TextClassifier(
        embedder=_embedder(Embeddings(50, 8)), output_layer=SoftmaxLayer(32, 2), dropout=0.2
    )
    model.eval()
    data = torch.randint(1, 50, (3, 5))
    flambe.save(model, tmp_path / "clf")
    loaded = flambe.load(tmp_path / "clf")
    loaded.eval()
    assert type(loaded) is nlp.TextClassifier and loaded is not model
    assert torch.equal(loaded(data), model(data))


@pytest.mark.parametrize(
    "build, argument, kind",
    [
        (
            lambda: Sequential(embedder=_embedder(torch.nn.Embedding(50, 8))),
            "Sequential.embedder.embedding",
            "torch.nn.modules.sparse.Embedding",
        ),
        (
            lambda: SoftmaxLayer(16, 3, mlp_layers=2, mlp_hidden_activation=torch.nn.Tanh()),
            "SoftmaxLayer.mlp_hidden_activation",
            "torch.nn.modules.activation.Tanh",
        ),
        (
            lambda: Sequential(
                head=SoftmaxLayer(4, 2), table=Embeddings(torch.tensor(5).item(), 2)
            ),
            None,
            None,
        ),
    ],
)
def test_an_argument_yaml_cannot_hold_fails_the_save_naming_it(
    build, argument, kind, tmp_path: Path
) -> None:
    model = build()
    target = tmp_path / "model"
    if argument is None:  # the control: the same kinds of objects, all writable
        flambe.save(model, target)
        assert type(flambe.load(target)) is type(model)
        return
    with pytest.raises(SaveError) as info:
        flambe.save(model, target)
    message = str(info.value)
    assert f"argument '{argument}' is a {kind}, which cannot be written as YAML" in message
    assert "hint:" in message
    assert not target.exists()


def test_arguments_given_through_star_args_are_named(tmp_path: Path) -> None:
    from flambe.compile import Component

    class Pair(Component, should_register=False):
        def __init__(self, *values: int) -> None:
            self.values = values

    with pytest.raises(SaveError, match=r"2 positional argument\(s\) through \*values"):
        flambe.save(Pair(1, 2), tmp_path / "pair")
    assert not (tmp_path / "pair").exists()


def test_objects_built_from_yaml_keep_their_own_config(tmp_path: Path) -> None:
    from flambe.compile import yaml

    model = yaml.load("!SoftmaxLayer {input_size: 4, output_size: 2}")()
    flambe.save(model, tmp_path / "m")
    config = (tmp_path / "m" / "config.yaml").read_text()
    assert config.startswith("!SoftmaxLayer") and "input_size: 4" in config
    assert type(flambe.load(tmp_path / "m")) is SoftmaxLayer
