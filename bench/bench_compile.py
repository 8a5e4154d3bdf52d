"""Loading and compiling the docs' chapter 4 ``model.yaml``, against building it by hand.

The config is the docs' text classifier (flambe-nlp's TextClassifier, with
core's Embedder, PooledRNNEncoder and SoftmaxLayer). Figures:

* warm: ``yaml.load`` + compile, minus building the same objects in Python
  (median of 20, same process): the framework's own cost per load;
* cold: in a fresh interpreter that has imported the classes, the time to
  load and compile the config (first use: the plugin host, ruamel.yaml and
  the tag lookups included) minus the time to build the same objects by hand
  there (median of 10 interpreters): what a user waits for beyond importing
  the classes it uses.

Target: both ≤ 50 ms.
"""

from __future__ import annotations

import os
import sys
import textwrap

sys.path.insert(0, os.path.dirname(__file__))
from _common import PYTHON, median_output, median_time, report  # noqa: E402

IMPORTS = textwrap.dedent("""
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)  # PooledRNNEncoder, as the docs wrote it
    import torch
    from flambe.nlp.classification import TextClassifier
    from flambe.nn import Embedder, PooledRNNEncoder, SoftmaxLayer
""")

# docs chapter 4, "Listing 1: model.yaml"
CONFIG = textwrap.dedent("""
    !TextClassifier
    embedder: !Embedder
      embedding: !torch.Embedding
        num_embeddings: 200
        embedding_dim: 300
      encoder: !PooledRNNEncoder
        input_size: 300
        rnn_type: lstm
        n_layers: 3
        hidden_size: 256
    output_layer: !SoftmaxLayer
      input_size: 256
      output_size: 10
""")

BY_HAND = textwrap.dedent("""
    model = TextClassifier(
        embedder=Embedder(embedding=torch.nn.Embedding(200, 300),
                          encoder=PooledRNNEncoder(input_size=300, rnn_type="lstm", n_layers=3,
                                                   hidden_size=256)),
        output_layer=SoftmaxLayer(input_size=256, output_size=10))
""")

FROM_YAML = "from flambe.compile import yaml\nmodel = yaml.load(CONFIG)()\n"


def main() -> None:
    namespace: dict = {"__name__": "__main__", "CONFIG": CONFIG}
    exec(IMPORTS, namespace)
    exec(FROM_YAML, dict(namespace))  # warm the registry and the torch namespace once
    by_hand = median_time(lambda: exec(BY_HAND, dict(namespace)), repeat=20)
    from_yaml = median_time(lambda: exec(FROM_YAML, dict(namespace)), repeat=20)
    report(
        "compile warm (yaml.load + compile)",
        from_yaml,
        by_hand,
        f"overhead {1000 * (from_yaml - by_hand):.1f} ms, target <= 50 ms",
        baseline_name="by hand",
    )

    prelude = IMPORTS + f"CONFIG = {CONFIG!r}\nimport time\nstart = time.perf_counter()\n"
    coda = "print(time.perf_counter() - start)\n"
    cold_hand = median_output([PYTHON, "-c", prelude + BY_HAND + coda], repeat=10)
    cold_yaml = median_output([PYTHON, "-c", prelude + FROM_YAML + coda], repeat=10)
    report(
        "compile cold (new interpreter)",
        cold_yaml,
        cold_hand,
        f"overhead {1000 * (cold_yaml - cold_hand):.1f} ms, target <= 50 ms",
        baseline_name="by hand",
    )


if __name__ == "__main__":
    main()
