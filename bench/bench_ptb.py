"""The PTB example: validation perplexity of examples/ptb/ptb.yaml against a unigram model.

The shared data has PTB's valid.txt and test.txt only: the example trains
on valid.txt and validates on test.txt. The baseline is a unigram model of
the training tokens (add-one smoothed, same vocabulary and <eol> tokens),
scored on the same validation tokens.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nlp_example import ROOT, run_example  # noqa: E402


def unigram_perplexity() -> float:
    folder = ROOT.parent / "shared" / "data" / "ptb"

    def tokens(name: str) -> list:
        return [
            t for line in (folder / name).read_text().splitlines() for t in line.split() + ["<eol>"]
        ]

    train, val = tokens("valid.txt"), tokens("test.txt")
    counts = Counter(train)
    vocab = set(train) | set(val)
    total = len(train) + len(vocab)
    nll = -sum(math.log((counts[t] + 1) / total) for t in val[1:])
    return math.exp(nll / (len(val) - 1))


def main() -> None:
    progress, elapsed, output = run_example("ptb/ptb.yaml", [])
    (variant,) = progress["stages"]["train"]["variants"].values()
    perplexity = -float(variant["best_metric"])  # the trainer's metric is oriented
    print(
        f"PTB LSTM language model: validation perplexity {perplexity:.1f}  unigram baseline "
        f"{unigram_perplexity():.1f}  (lower is better)"
    )
    print(f"  whole experiment {elapsed / 60:.1f} min wall; outputs {output}")


if __name__ == "__main__":
    main()
