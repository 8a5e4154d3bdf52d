"""Saving and loading a 10M-parameter model, against torch.save/torch.load of its state_dict.

The model is a component ``nn.Module`` built from YAML (a stack of Linear
layers, 10.5M parameters). Figures, median of N runs on the same machine, the three
round trips run in turn:

* flambe: ``flambe.save(model, dir)`` then ``flambe.load(dir)`` (rebuilds the
  model from the saved config, on the meta device so that its weights are not
  randomly initialised first, and loads its state); a second line gives the
  figure with ``fast_init=False`` (built and initialised like the baseline);
* torch: ``torch.save(model.state_dict(), file)`` then building the model by
  hand and ``load_state_dict(torch.load(file))``.

Target: flambe ≤ 1.3 × torch.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packages" / "flambe-core" / "src"))

import torch  # noqa: E402

import flambe  # noqa: E402
from flambe.compile import Component, yaml  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
TARGET = 1.3


class BenchMLP(Component, torch.nn.Module):
    """Linear layers of the given widths."""

    def __init__(self, widths: list[int]) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x


CONFIG = "!BenchMLP\nwidths: [1024, 2048, 2048, 1536, 512]\n"


def interleaved_medians(fns: list[Callable[[], object]], runs: int) -> list[float]:
    """Median time of each function, running them in turn so that machine load hits all alike."""
    for fn in fns:  # warm-up
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, bucket in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main() -> None:
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    model = yaml.load(CONFIG)()
    n_params = sum(p.numel() for p in model.parameters())
    tmp = tempfile.mkdtemp(prefix="flambe-bench-")
    try:
        flambe_dir = os.path.join(tmp, "flambe")
        torch_file = os.path.join(tmp, "torch.pt")

        def flambe_round_trip(fast_init: bool = True) -> object:
            flambe.save(model, flambe_dir, overwrite=True)
            return flambe.load(flambe_dir, fast_init=fast_init)

        def torch_round_trip() -> object:
            torch.save(model.state_dict(), torch_file)
            fresh = BenchMLP([1024, 2048, 2048, 1536, 512])
            fresh.load_state_dict(torch.load(torch_file))
            return fresh

        t_torch, t_flambe, t_slow = interleaved_medians(
            [torch_round_trip, flambe_round_trip, lambda: flambe_round_trip(fast_init=False)], RUNS
        )
        loaded = flambe_round_trip()
        assert torch.equal(loaded.layers[0].weight, model.layers[0].weight)
        ratio = t_flambe / t_torch
        print(
            f"serialization ({n_params / 1e6:.1f}M params, median of {RUNS}): "
            f"flambe {t_flambe:.3f}s  torch {t_torch:.3f}s  ratio {ratio:.2f} "
            f"(target <= {TARGET:.2f})",
            flush=True,
        )
        print(
            f"serialization without fast_init: flambe {t_slow:.3f}s  torch {t_torch:.3f}s  "
            f"ratio {t_slow / t_torch:.2f}",
            flush=True,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
