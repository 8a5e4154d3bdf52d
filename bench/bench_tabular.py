"""TabularDataset with fields against the same work in plain Python.

A csv file of 20,000 rows (four numeric features and a label) is loaded and
every example processed into (float features [4], label id):

* flambe: ``TabularDataset.from_path`` with a ``NumericField`` over the
  four feature columns and a ``LabelField``, then reading every example of
  ``dataset.train`` (``cache=False``, so each read processes);
* plain Python: ``csv.reader``, a label dict built in a first pass, then
  ``torch.tensor`` of the floats and of the label id for each row.

Figures are examples per second, load and processing included (median of N runs).
There is no target; the figure shows the cost of the dataset's generality.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packages" / "flambe-core" / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402
from _common import median_time, report  # noqa: E402

from flambe.dataset import TabularDataset  # noqa: E402
from flambe.field import LabelField, NumericField  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
N_ROWS = 20_000


def write_csv(path: Path) -> None:
    generator = torch.Generator().manual_seed(0)
    values = torch.rand(N_ROWS, 4, generator=generator).tolist()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "c", "d", "label"])
        for i, row in enumerate(values):
            writer.writerow([f"{v:.5f}" for v in row] + [f"class{i % 5}"])


def with_flambe(path: str) -> int:
    dataset = TabularDataset.from_path(
        path,
        sep=",",
        cache=False,
        transform={
            "features": {"field": NumericField(), "columns": ["a", "b", "c", "d"]},
            "label": {"field": LabelField(), "columns": "label"},
        },
    )
    count = 0
    for _features, _label in dataset.train:
        count += 1
    return count


def by_hand(path: str) -> int:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    vocab: dict = {}
    for row in rows:
        vocab.setdefault(row[4], len(vocab))
    count = 0
    for row in rows:
        torch.tensor([float(v) for v in row[:4]], dtype=torch.float32)
        torch.tensor(vocab[row[4]], dtype=torch.long)
        count += 1
    return count


def main() -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "data.csv")
        write_csv(path)
        assert with_flambe(path) == by_hand(path) == N_ROWS
        flambe_times, hand_times = [], []
        for _ in range(RUNS):  # alternate so that both see the same machine load
            flambe_times.append(median_time(lambda: with_flambe(path), repeat=1, warmup=0))
            hand_times.append(median_time(lambda: by_hand(path), repeat=1, warmup=0))
        t_flambe = sorted(flambe_times)[RUNS // 2]
        t_hand = sorted(hand_times)[RUNS // 2]
    report(
        f"TabularDataset + fields ({N_ROWS} rows, load + process, median of {RUNS})",
        N_ROWS / t_flambe,
        N_ROWS / t_hand,
        f"{t_hand / t_flambe:.2f}x plain Python",
        unit=" examples/s",
        baseline_name="plain Python",
    )


if __name__ == "__main__":
    main()
