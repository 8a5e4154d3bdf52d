"""BaseSampler against a torch DataLoader with a pad_sequence collate.

10,000 examples, each a variable-length LongTensor (5 to 60 tokens) and a
scalar label. One epoch of batches of 64, shuffled, over the same tensors:

* flambe: ``BaseSampler(batch_size=64, seed=0).sample(data)``;
* torch: ``DataLoader(data, batch_size=64, shuffle=True, collate_fn=...)``
  where the collate pads the token column with ``pad_sequence`` and stacks
  the labels.

Figures are batches per second (median of N epochs). Target: flambe ≥ 1.0 × torch.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packages" / "flambe-core" / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402
from _common import median_time, report  # noqa: E402
from torch.nn.utils.rnn import pad_sequence  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from flambe.sampler import BaseSampler  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
N_EXAMPLES = 10_000
BATCH = 64
TARGET = 1.0

Example = tuple[torch.Tensor, torch.Tensor]


def make_data() -> list[Example]:
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(5, 61, (N_EXAMPLES,), generator=generator).tolist()
    return [
        (torch.randint(1, 5000, (n,), generator=generator), torch.tensor(i % 6))
        for i, n in enumerate(lengths)
    ]


def pad_collate(batch: list[Example]) -> tuple[torch.Tensor, torch.Tensor]:
    tokens, labels = zip(*batch, strict=True)
    return pad_sequence(list(tokens), batch_first=True, padding_value=0), torch.stack(labels)


def main() -> None:
    torch.set_num_threads(1)
    data = make_data()
    sampler = BaseSampler(batch_size=BATCH, shuffle=True, seed=0)
    loader = DataLoader(
        data,
        batch_size=BATCH,
        shuffle=True,  # type: ignore[arg-type]
        collate_fn=pad_collate,
        generator=torch.Generator().manual_seed(0),
    )
    n_batches = sampler.length(data)
    assert n_batches == len(loader)

    def flambe_epoch() -> None:
        for _ in sampler.sample(data):
            pass

    def torch_epoch() -> None:
        for _ in loader:
            pass

    # alternate so that both see the same machine load
    flambe_times, torch_times = [], []
    for _ in range(RUNS):
        flambe_times.append(median_time(flambe_epoch, repeat=1, warmup=0))
        torch_times.append(median_time(torch_epoch, repeat=1, warmup=0))
    flambe_times.sort()
    torch_times.sort()
    flambe_rate = n_batches / flambe_times[len(flambe_times) // 2]
    torch_rate = n_batches / torch_times[len(torch_times) // 2]
    report(
        f"BaseSampler ({N_EXAMPLES} examples, batch {BATCH}, median of {RUNS} epochs)",
        flambe_rate,
        torch_rate,
        f"{flambe_rate / torch_rate:.2f}x, target >= {TARGET}x",
        unit=" batches/s",
        baseline_name="DataLoader+pad_sequence",
    )


if __name__ == "__main__":
    main()
