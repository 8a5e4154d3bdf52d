"""The TREC example: test accuracy of examples/trec/trec.yaml (target >= 85%).

Runs the example in process (one variant: 10 epochs, best validation step
kept, evaluated on the 500 test questions). Baseline: the majority class of
the training split.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nlp_example import ROOT, run_example, stage_metric  # noqa: E402


def majority_baseline() -> float:
    folder = ROOT.parent / "shared" / "data" / "trec"
    train = [
        line[0]
        for line in (folder / "TREC.train.all").read_bytes().decode("latin-1").splitlines()
        if line
    ]
    test = [
        line[0]
        for line in (folder / "TREC.test.all").read_bytes().decode("latin-1").splitlines()
        if line
    ]
    label = Counter(train).most_common(1)[0][0]
    return sum(t == label for t in test) / len(test)


def main() -> None:
    progress, elapsed, output = run_example("trec/trec.yaml", [])
    accuracy = stage_metric(progress, "evaluate")
    print(
        f"TREC: test accuracy {accuracy:.4f}  majority-class baseline "
        f"{majority_baseline():.4f}  (target >= 0.85)"
    )
    print(f"  whole experiment {elapsed / 60:.1f} min wall; outputs {output}")


if __name__ == "__main__":
    main()
