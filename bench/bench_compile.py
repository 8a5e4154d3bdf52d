"""Loading and compiling a model config, against building the same objects by hand.

The config has the shape of the docs' chapter 4 ``model.yaml`` (a text
classifier: embedding, 3-layer LSTM encoder, softmax output). The classes are
defined here with torch layers so the benchmark runs with flambe-core alone.
Figures:

* warm: ``yaml.load`` + compile, minus building the same objects in Python
  (median of 20, same process): the framework's own cost per load;
* cold: in a fresh interpreter that has imported the classes, the time to
  load and compile the config (first use: the plugin host, ruamel.yaml and
  the tag lookups included) minus the time to build the same objects by hand
  there (median of 10 interpreters): what a user waits for beyond importing
  the classes.

Target: both ≤ 50 ms.
"""

from __future__ import annotations

import os
import sys
import textwrap

sys.path.insert(0, os.path.dirname(__file__))
from _common import PYTHON, median_output, median_time, report  # noqa: E402

MODELS = textwrap.dedent('''
    import torch
    from flambe.compile import Component

    class BenchEmbedder(Component, torch.nn.Module):
        def __init__(self, embedding, encoder):
            super().__init__()
            self.embedding, self.encoder = embedding, encoder

    class BenchPooledRNNEncoder(Component, torch.nn.Module):
        def __init__(self, input_size, hidden_size, n_layers=1, rnn_type="lstm"):
            super().__init__()
            rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[rnn_type]
            self.rnn = rnn(input_size, hidden_size, n_layers, batch_first=True)

    class BenchSoftmaxLayer(Component, torch.nn.Module):
        def __init__(self, input_size, output_size):
            super().__init__()
            self.linear = torch.nn.Linear(input_size, output_size)

    class BenchTextClassifier(Component, torch.nn.Module):
        def __init__(self, embedder, output_layer):
            super().__init__()
            self.embedder, self.output_layer = embedder, output_layer
''')

CONFIG = textwrap.dedent('''
    !BenchTextClassifier
    embedder: !BenchEmbedder
      embedding: !torch.Embedding
        num_embeddings: 200
        embedding_dim: 300
      encoder: !BenchPooledRNNEncoder
        input_size: 300
        rnn_type: lstm
        n_layers: 3
        hidden_size: 256
    output_layer: !BenchSoftmaxLayer
      input_size: 256
      output_size: 10
''')

BY_HAND = textwrap.dedent('''
    model = BenchTextClassifier(
        embedder=BenchEmbedder(embedding=torch.nn.Embedding(200, 300),
                               encoder=BenchPooledRNNEncoder(300, 256, n_layers=3)),
        output_layer=BenchSoftmaxLayer(256, 10))
''')

FROM_YAML = "from flambe.compile import yaml\nmodel = yaml.load(CONFIG)()\n"


def main() -> None:
    namespace: dict = {"__name__": "__main__"}
    exec(MODELS, namespace)
    namespace["CONFIG"] = CONFIG
    exec(FROM_YAML, dict(namespace))  # warm the registry and the torch namespace once
    by_hand = median_time(lambda: exec(BY_HAND, dict(namespace)), repeat=20)
    from_yaml = median_time(lambda: exec(FROM_YAML, dict(namespace)), repeat=20)
    report("compile warm (yaml.load + compile)", from_yaml, by_hand,
           f"overhead {1000 * (from_yaml - by_hand):.1f} ms, target <= 50 ms",
           baseline_name="by hand")

    prelude = MODELS + f"CONFIG = {CONFIG!r}\nimport time\nstart = time.perf_counter()\n"
    coda = "print(time.perf_counter() - start)\n"
    cold_hand = median_output([PYTHON, "-c", prelude + BY_HAND + coda], repeat=10)
    cold_yaml = median_output([PYTHON, "-c", prelude + FROM_YAML + coda], repeat=10)
    report("compile cold (new interpreter)", cold_yaml, cold_hand,
           f"overhead {1000 * (cold_yaml - cold_hand):.1f} ms, target <= 50 ms",
           baseline_name="by hand")


if __name__ == "__main__":
    main()
