"""DistillationTrainer: the student really learns from the teacher."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from flambe.compile import Component
from flambe.learn import DistillationTrainer
from flambe.learn.distillation import distillation_loss
from tests.core.learn_helpers import (
    CountingSGD,
    LAccuracy,
    LSampler,
    LSequenceMetric,
    LSplits,
    blobs,
)


class Logits(Component, torch.nn.Module):
    """Raw logits of the first column (and the target when given)."""

    def __init__(self, seed: int = 0, n_features: int = 4) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.linear = torch.nn.Linear(n_features, 2)

    def forward(self, x, y=None):
        return (self.linear(x), y) if y is not None else self.linear(x)


class Picky(Logits):
    """Records the columns it gets."""

    seen = []

    def forward(self, *columns):
        Picky.seen.append(tuple(c.shape[-1] if c.dim() > 1 else -1 for c in columns))
        return super().forward(columns[0], columns[-1])


def trainer(teacher, student, **kwargs):
    data = LSplits(blobs(32, seed=1), blobs(16, seed=2))
    optimizer = CountingSGD(student.parameters(), lr=0.5)
    kwargs.setdefault("max_steps", 3)
    kwargs.setdefault("iter_per_step", 4)
    # every pass is better than the last, so the final weights are the trained ones
    kwargs.setdefault("metric_fn", LSequenceMetric([i / 100 for i in range(100)]))
    return DistillationTrainer(
        dataset=data,
        train_sampler=LSampler(8),
        val_sampler=LSampler(8),
        teacher_model=teacher,
        student_model=student,
        loss_fn=torch.nn.NLLLoss(),
        optimizer=optimizer,
        **kwargs,
    )


def test_loss_is_kl_only_with_alpha_one():
    teacher, student = Logits(1), Logits(2)
    t = trainer(teacher, student, alpha_kl=1.0, temperature=2)
    batch = next(LSampler(8).sample(t.dataset.train))
    loss = t._compute_loss(batch).detach()
    s_logits, _ = student(*batch)
    t_logits = teacher(batch[0])
    expected = 4 * F.kl_div(
        F.log_softmax(s_logits / 2, -1), F.softmax(t_logits / 2, -1), reduction="batchmean"
    )
    assert float(loss) == pytest.approx(float(expected.detach()), rel=1e-5)


def test_identical_logits_leave_the_hard_label_half():
    teacher, student = Logits(1), Logits(1)
    t = trainer(teacher, student, alpha_kl=0.5, temperature=3)
    batch = next(LSampler(8).sample(t.dataset.train))
    with torch.no_grad():
        logits, target = student(*batch)
        kl = distillation_loss(logits, teacher(batch[0]), 3)
    assert float(kl) == pytest.approx(0, abs=1e-6)
    expected = 0.5 * F.nll_loss(F.log_softmax(logits, -1), target)
    assert float(t._compute_loss(batch).detach()) == pytest.approx(
        float(expected.detach()), rel=1e-5
    )


def test_only_the_student_is_updated():
    teacher, student = Logits(1), Logits(2)
    before_teacher = {k: v.clone() for k, v in teacher.state_dict().items()}
    before_student = student.linear.weight.clone()
    t = trainer(teacher, student, alpha_kl=0.7, temperature=2)
    while t.run():
        pass
    assert all(p.grad is None for p in teacher.parameters())
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, before_teacher[k])
    assert not torch.equal(student.linear.weight, before_student)
    assert t.optimizer.steps == 12


def test_the_teacher_shapes_the_student():
    """Regression: the original trained the student on the plain loss, ignoring the teacher."""

    def distil(teacher_seed):
        teacher = Logits(teacher_seed)
        with torch.no_grad():
            teacher.linear.weight.mul_(5)
        student = Logits(0)
        t = trainer(teacher, student, alpha_kl=1.0, temperature=1, max_steps=10)
        while t.run():
            pass
        x = torch.stack([row[0] for row in t.dataset.val])
        with torch.no_grad():
            agreement = (student.linear(x).argmax(-1) == teacher(x).argmax(-1)).float().mean()
        return student.linear.weight.detach().clone(), float(agreement)

    w1, agree1 = distil(11)
    w2, agree2 = distil(12)
    assert not torch.allclose(w1, w2, atol=1e-3)  # different teachers, different students
    assert agree1 > 0.9 and agree2 > 0.9  # each student imitates its teacher


def test_columns_go_to_the_right_model():
    three = [(torch.randn(4), torch.randn(5), torch.tensor(i % 2)) for i in range(16)]
    data = LSplits(three, three)
    Picky.seen = []

    class Teacher(Picky):
        def forward(self, *columns):
            Picky.seen.append(
                ("teacher",) + tuple(c.shape[-1] if c.dim() > 1 else -1 for c in columns)
            )
            return torch.nn.Module.__call__(Logits(3, 5), columns[0])

    student = Picky(2, 4)
    t = DistillationTrainer(
        dataset=data,
        train_sampler=LSampler(8),
        val_sampler=LSampler(8),
        teacher_model=Teacher(1, 5),
        student_model=student,
        loss_fn=torch.nn.NLLLoss(),
        metric_fn=LAccuracy(),
        optimizer=torch.optim.SGD(student.parameters(), lr=0.1),
        student_columns=(0, 2),
        teacher_columns=(1, 2),
        max_steps=1,
        iter_per_step=1,
        check_batch=False,
    )
    Picky.seen = []
    t._compute_loss(next(LSampler(8).sample(data.train)))
    assert (4, -1) in Picky.seen
    assert ("teacher", 5, -1) in Picky.seen


def test_unlabelled_data_adds_to_the_distillation_term():
    teacher, student = Logits(1), Logits(2)
    unlabelled = LSplits([(x,) for x, _ in blobs(16, seed=9)])
    t = trainer(
        teacher, student, alpha_kl=1.0, unlabel_dataset=unlabelled, unlabeled_sampler=LSampler(4)
    )
    batch = next(LSampler(8).sample(t.dataset.train))
    extra = next(LSampler(4).sample(unlabelled.train))[0]
    s = torch.cat([student(*batch)[0], student(extra)])
    te = torch.cat([teacher(batch[0]), teacher(extra)])
    expected = float(distillation_loss(s, te, 1).detach())
    assert float(t._compute_loss(batch).detach()) == pytest.approx(expected, rel=1e-5)


def test_validation_uses_the_student_log_probabilities():
    teacher, student = Logits(1), Logits(2)
    t = trainer(teacher, student, max_steps=1, iter_per_step=1)
    batch = next(LSampler(8).sample(t.dataset.val))
    with torch.no_grad():
        pred, target, loss = t._compute_batch(batch)
    assert torch.allclose(pred.exp().sum(-1), torch.ones(8))
    assert float(loss) > 0
