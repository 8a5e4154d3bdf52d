"""Trainer throughput against a hand-written PyTorch loop.

A small text classifier (embedding 64 → GRU 128 → linear → log-softmax,
vocabulary 2,000) on 2,048 variable-length sequences (8 to 48 tokens),
batches of 64, Adam, CPU, one thread. Both loops consume the same padded
batches in the same order, start from the same weights and run the same
optimizer; the Trainer has no validation data, so the figure is its
training step (forward, loss, backward, norms, logging calls, optimizer).
Epochs of the two alternate, in the same process.

Figures are batches per second (median over epochs). Target: Trainer ≥ 0.97 × the loop.
A second Trainer figure runs inside TrialLogging, writing TensorBoard events.
"""

from __future__ import annotations

import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packages" / "flambe-core" / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.utils.rnn import pad_sequence  # noqa: E402

from _common import report  # noqa: E402
from flambe.compile import Component  # noqa: E402
from flambe.learn import Trainer  # noqa: E402
from flambe.logging import TrialLogging  # noqa: E402

N_EXAMPLES, BATCH, VOCAB, EPOCHS = 2048, 64, 2000, 7


class TextClassifier(Component, torch.nn.Module):
    """Embedding + GRU + linear softmax; returns (log-probabilities, target)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCAB, 64, padding_idx=0)
        self.rnn = torch.nn.GRU(64, 128, batch_first=True)
        self.output = torch.nn.Linear(128, 2)

    def forward(self, tokens: torch.Tensor, target: torch.Tensor):
        _, hidden = self.rnn(self.embedding(tokens))
        return F.log_softmax(self.output(hidden[-1]), dim=-1), target


class Batches(Component):
    """A sampler that yields precomputed batches, in order."""

    def __init__(self, batches: List[Tuple[torch.Tensor, ...]]) -> None:
        super().__init__()
        self.batches = batches
        self.drop_last = True

    def length(self, data) -> int:
        return len(self.batches)

    def sample(self, data, n_epochs: int = 1):
        for _ in range(n_epochs):
            yield from self.batches


class Data(Component):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.train, self.val, self.test = list(range(n)), [], []


def make_batches() -> List[Tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(0)
    lengths = torch.randint(8, 49, (N_EXAMPLES,), generator=gen)
    seqs = [torch.randint(1, VOCAB, (int(n),), generator=gen) for n in lengths]
    labels = (torch.stack([s[:4].sum() for s in seqs]) % 2).long()
    order = torch.randperm(N_EXAMPLES, generator=gen).tolist()
    batches = []
    for start in range(0, N_EXAMPLES - BATCH + 1, BATCH):
        idx = order[start:start + BATCH]
        batches.append((pad_sequence([seqs[i] for i in idx], batch_first=True), labels[idx]))
    return batches


def hand_loop(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
              batches: List[Tuple[torch.Tensor, torch.Tensor]]) -> None:
    model.train()
    for tokens, target in batches:
        optimizer.zero_grad(set_to_none=True)
        pred, target = model(tokens, target)
        loss = F.nll_loss(pred, target)
        loss.backward()
        optimizer.step()


def main() -> None:
    torch.set_num_threads(1)
    batches = make_batches()
    torch.manual_seed(0)
    base = TextClassifier()

    hand_model = copy.deepcopy(base)
    hand_opt = torch.optim.Adam(hand_model.parameters(), lr=1e-3)

    def trainer_for() -> Trainer:
        model = copy.deepcopy(base)
        return Trainer(dataset=Data(N_EXAMPLES), train_sampler=Batches(batches),
                       val_sampler=Batches(batches), model=model,
                       loss_fn=torch.nn.NLLLoss(), metric_fn=torch.nn.NLLLoss(),
                       optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
                       max_steps=10 * EPOCHS, device="cpu", check_batch=False)

    trainer = trainer_for()
    logged = trainer_for()
    # warm-up: one epoch each
    hand_loop(hand_model, hand_opt, batches)
    trainer.run()
    times = {"loop": [], "trainer": [], "logged": []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(EPOCHS):
            start = time.perf_counter()
            hand_loop(hand_model, hand_opt, batches)
            times["loop"].append(time.perf_counter() - start)
            start = time.perf_counter()
            trainer.run()
            times["trainer"].append(time.perf_counter() - start)
            with TrialLogging(folder):
                start = time.perf_counter()
                logged.run()
                times["logged"].append(time.perf_counter() - start)
    # same weights, same batches, same optimizer: the two runs agree
    check_model, check_trainer = copy.deepcopy(base), trainer_for()
    hand_loop(check_model, torch.optim.Adam(check_model.parameters(), lr=1e-3), batches)
    check_trainer.run()
    same = all(torch.allclose(a, b, atol=1e-5) for a, b in
               zip(check_model.parameters(), check_trainer.model.parameters()))

    rate = {k: len(batches) / statistics.median(v) for k, v in times.items()}
    report("trainer", rate["trainer"], rate["loop"], f"ratio {rate['trainer'] / rate['loop']:.3f}, "
           "target >= 0.97", unit=" batches/s", baseline_name="hand loop")
    report("trainer in TrialLogging", rate["logged"], rate["loop"],
           f"ratio {rate['logged'] / rate['loop']:.3f}", unit=" batches/s",
           baseline_name="hand loop")
    print(f"same weights after one epoch: {same}")


if __name__ == "__main__":
    main()
