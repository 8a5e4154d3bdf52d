"""Trainer throughput against a hand-written PyTorch loop.

Two workloads. First, the Trainer's own cost: a 16→64→2 MLP on 4,096
examples of 16 features, batches of 32 drawn by one ``BaseSampler`` (the
same seed for both loops, so the same batches), cross-entropy, Adam, CPU,
one thread; a step of this model is a fraction of a millisecond, so what
the Trainer adds per iteration shows. Epochs of the two loops alternate;
the figure is the median of the per-epoch ratios of CPU time. Target:
Trainer ≥ 0.95 × the loop with the default ``log_interval`` (50); the
figure with ``log_interval: 1`` (norms and scalars every iteration) is
printed beside it.

Second, a small text classifier (embedding 64 → GRU 128 → linear → log-softmax,
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packages" / "flambe-core" / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from _common import report  # noqa: E402
from torch.nn.utils.rnn import pad_sequence  # noqa: E402

from flambe.compile import Component  # noqa: E402
from flambe.learn import Trainer  # noqa: E402
from flambe.logging import TrialLogging  # noqa: E402
from flambe.sampler import BaseSampler  # noqa: E402

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

    def __init__(self, batches: list[tuple[torch.Tensor, ...]]) -> None:
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


def make_batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(0)
    lengths = torch.randint(8, 49, (N_EXAMPLES,), generator=gen)
    seqs = [torch.randint(1, VOCAB, (int(n),), generator=gen) for n in lengths]
    labels = (torch.stack([s[:4].sum() for s in seqs]) % 2).long()
    order = torch.randperm(N_EXAMPLES, generator=gen).tolist()
    batches = []
    for start in range(0, N_EXAMPLES - BATCH + 1, BATCH):
        idx = order[start : start + BATCH]
        batches.append((pad_sequence([seqs[i] for i in idx], batch_first=True), labels[idx]))
    return batches


def hand_loop(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: list[tuple[torch.Tensor, torch.Tensor]],
) -> None:
    model.train()
    for tokens, target in batches:
        optimizer.zero_grad(set_to_none=True)
        pred, target = model(tokens, target)
        loss = F.nll_loss(pred, target)
        loss.backward()
        optimizer.step()


MLP_EXAMPLES, MLP_BATCH, MLP_EPOCHS = 4096, 32, 21


class Features(Component):
    """4,096 examples of 16 features and a binary label (no validation split)."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(MLP_EXAMPLES, 16, generator=gen)
        y = (x[:, 0] + x[:, 1] > 0).long()
        self.train = [(x[i], y[i]) for i in range(MLP_EXAMPLES)]
        self.val, self.test = [], []


def mlp_hand_loop(
    model: torch.nn.Module,
    loss_fn: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    sampler: BaseSampler,
    data: Features,
) -> None:
    model.train()
    for features, target in sampler.sample(data.train, 1):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(features), target)
        loss.backward()
        optimizer.step()


def mlp_figures() -> None:
    """Measure the Trainer's own cost on a model whose step costs a fraction of a millisecond."""
    data = Features()
    torch.manual_seed(0)
    base = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))

    def trainer_for(log_interval: int) -> Trainer:
        model = copy.deepcopy(base)
        return Trainer(
            dataset=data,
            train_sampler=BaseSampler(batch_size=MLP_BATCH, seed=0),
            val_sampler=BaseSampler(batch_size=256),
            model=model,
            loss_fn=torch.nn.CrossEntropyLoss(),
            metric_fn=torch.nn.CrossEntropyLoss(),
            optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
            max_steps=10 * MLP_EPOCHS,
            device="cpu",
            check_batch=False,
            log_interval=log_interval,
        )

    hand_model = copy.deepcopy(base)
    hand = (
        hand_model,
        torch.nn.CrossEntropyLoss(),
        torch.optim.Adam(hand_model.parameters(), lr=1e-3),
        BaseSampler(batch_size=MLP_BATCH, seed=0),
    )
    trainers = {"default": trainer_for(50), "every": trainer_for(1)}
    ratios: dict = {name: [] for name in trainers}
    rates: dict = {"loop": [], **{name: [] for name in trainers}}
    mlp_hand_loop(*hand, data)  # warm-up
    for trainer in trainers.values():
        trainer.run()
    clock = time.process_time
    for _ in range(MLP_EPOCHS):
        start = clock()
        mlp_hand_loop(*hand, data)
        loop = clock() - start
        rates["loop"].append(loop)
        for name, trainer in trainers.items():
            start = clock()
            trainer.run()
            took = clock() - start
            rates[name].append(took)
            ratios[name].append(loop / took)
    # same weights, same batches, same optimizer: one epoch of each agrees
    check = copy.deepcopy(base)
    mlp_hand_loop(
        check,
        torch.nn.CrossEntropyLoss(),
        torch.optim.Adam(check.parameters(), lr=1e-3),
        BaseSampler(batch_size=MLP_BATCH, seed=0),
        data,
    )
    check_trainer = trainer_for(50)
    check_trainer.run()
    same = all(
        torch.allclose(a, b, atol=1e-5)
        for a, b in zip(check.parameters(), check_trainer.model.parameters(), strict=True)
    )
    batches = MLP_EXAMPLES // MLP_BATCH
    rate = {k: batches / statistics.median(v) for k, v in rates.items()}
    default, every = statistics.median(ratios["default"]), statistics.median(ratios["every"])
    report(
        "trainer, MLP 16-64-2, batches of 32",
        rate["default"],
        rate["loop"],
        f"ratio {default:.3f}, target >= 0.95; with log_interval 1: ratio {every:.3f}",
        unit=" batches/s",
        baseline_name="hand loop",
    )
    print(f"MLP: same weights after one epoch: {same}")


def main() -> None:
    torch.set_num_threads(1)
    mlp_figures()
    batches = make_batches()
    torch.manual_seed(0)
    base = TextClassifier()

    hand_model = copy.deepcopy(base)
    hand_opt = torch.optim.Adam(hand_model.parameters(), lr=1e-3)

    def trainer_for() -> Trainer:
        model = copy.deepcopy(base)
        return Trainer(
            dataset=Data(N_EXAMPLES),
            train_sampler=Batches(batches),
            val_sampler=Batches(batches),
            model=model,
            loss_fn=torch.nn.NLLLoss(),
            metric_fn=torch.nn.NLLLoss(),
            optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
            max_steps=10 * EPOCHS,
            device="cpu",
            check_batch=False,
        )

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
    same = all(
        torch.allclose(a, b, atol=1e-5)
        for a, b in zip(check_model.parameters(), check_trainer.model.parameters(), strict=True)
    )

    rate = {k: len(batches) / statistics.median(v) for k, v in times.items()}
    report(
        "trainer",
        rate["trainer"],
        rate["loop"],
        f"ratio {rate['trainer'] / rate['loop']:.3f}, target >= 0.97",
        unit=" batches/s",
        baseline_name="hand loop",
    )
    report(
        "trainer in TrialLogging",
        rate["logged"],
        rate["loop"],
        f"ratio {rate['logged'] / rate['loop']:.3f}",
        unit=" batches/s",
        baseline_name="hand loop",
    )
    print(f"same weights after one epoch: {same}")


if __name__ == "__main__":
    main()
