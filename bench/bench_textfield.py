"""TextField setup + processing over the SST-2 training sentences, against plain Python.

* flambe: ``TextField(tokenizer=WhitespaceTokenizer())``: ``setup`` over the
  6,920 sentences, then ``process`` of each into a LongTensor of ids;
* plain Python: ``str.split``, a dict vocabulary built in a first pass, then
  ``torch.tensor`` of each sentence's ids (``dict.get`` with the unk id).

The same tokenization on both sides. The figure is sentences per second
(median of N runs) and the ratio flambe / baseline (target >= 1.0x). The
default ``WordTokenizer`` (words and punctuation apart, a regular
expression) is printed too, for information.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402
from _common import median_time  # noqa: E402

from flambe.nlp.field import TextField  # noqa: E402
from flambe.nlp.tokenizer import WhitespaceTokenizer  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
DATA = ROOT.parent / "shared" / "data" / "sst" / "stsa.binary.train"


def sentences() -> list:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    return [line[2:] for line in lines if line.strip()]


def baseline(texts: list) -> list:
    vocab = {"<pad>": 0, "<unk>": 1}
    for text in texts:
        for token in text.split():
            if token not in vocab:
                vocab[token] = len(vocab)
    return [
        torch.tensor([vocab.get(token, 1) for token in text.split()], dtype=torch.long)
        for text in texts
    ]


def flambe_field(texts: list, tokenizer=None) -> list:
    field = TextField(tokenizer=tokenizer)
    field.setup(texts)
    return [field.process(text) for text in texts]


def main() -> None:
    torch.set_num_threads(1)
    texts = sentences()
    assert all(
        torch.equal(a, b)
        for a, b in zip(baseline(texts), flambe_field(texts, WhitespaceTokenizer()), strict=True)
    )
    # alternate the two measurements, so that the load of a busy machine hits both alike
    base_times, our_times = [], []
    for _ in range(RUNS):
        base_times.append(median_time(lambda: baseline(texts), repeat=3))
        our_times.append(median_time(lambda: flambe_field(texts, WhitespaceTokenizer()), repeat=3))
    base, ours = statistics.median(base_times), statistics.median(our_times)
    words = median_time(lambda: flambe_field(texts), repeat=RUNS)
    n = len(texts)
    print(
        f"TextField setup+process, SST-2 train ({n} sentences), whitespace tokens: "
        f"{n / ours:,.0f} sentences/s  baseline (split + dict + torch.tensor) "
        f"{n / base:,.0f} sentences/s  ratio {base / ours:.2f}x (target >= 1.0x)"
    )
    print(
        f"  with the default WordTokenizer (words and punctuation): {n / words:,.0f} "
        "sentences/s (information)"
    )


if __name__ == "__main__":
    main()
