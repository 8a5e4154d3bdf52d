"""The quickstart's TextClassifier on SST-2: test accuracy after its training.

The target: >= 80% within 10 minutes of training on this machine's CPU.

Runs examples/sst/quickstart.yaml in process with the grid over ``n_layers``
replaced by one value (``BENCH_SST_LAYERS``, default 2), so one variant
trains: 20 steps of 50 batches of 64, validated after each step, the best
step kept, then evaluated on the 1,821 test sentences. Baseline: always
answering the majority class of the training split.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nlp_example import ROOT, run_example, stage_metric  # noqa: E402


def majority_baseline() -> float:
    folder = ROOT.parent / "shared" / "data" / "sst"
    train = [line[0] for line in (folder / "stsa.binary.train").read_text().splitlines() if line]
    test = [line[0] for line in (folder / "stsa.binary.test").read_text().splitlines() if line]
    label = Counter(train).most_common(1)[0][0]
    return sum(t == label for t in test) / len(test)


def main() -> None:
    layers = os.environ.get("BENCH_SST_LAYERS", "2")
    progress, elapsed, output = run_example(
        "sst/quickstart.yaml", [("n_layers: !g [2, 3, 4]", f"n_layers: {layers}")]
    )
    accuracy = stage_metric(progress, "evaluate")
    (variant,) = progress["stages"]["train"]["variants"].values()
    print(
        f"SST-2 quickstart (n_layers={layers}): test accuracy {accuracy:.4f}  "
        f"majority-class baseline {majority_baseline():.4f}  (target >= 0.80)"
    )
    print(
        f"  best validation accuracy {variant['best_metric']:.4f}; whole experiment "
        f"{elapsed / 60:.1f} min wall (target: training within 10 min); outputs {output}"
    )


if __name__ == "__main__":
    main()
