"""DistillationTrainer: train a student on hard labels and a teacher's soft labels."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from flambe.learn.errors import TrainerConfigError
from flambe.learn.trainer import MetricStates, Trainer
from flambe.learn.utils import BatchForward, batch_to_device


def _logits(output: Any) -> torch.Tensor:
    """The logits of a model's output: the first value of a tuple, or the tensor."""
    return output[0] if isinstance(output, (tuple, list)) else output


def distillation_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float
) -> torch.Tensor:
    """``T² · KL(softmax(teacher/T) || softmax(student/T))``, averaged over rows."""
    t = float(temperature)
    kl = F.kl_div(
        F.log_softmax(student_logits / t, dim=-1),
        F.softmax(teacher_logits / t, dim=-1),
        reduction="batchmean",
    )
    return kl * t * t


class DistillationTrainer(Trainer):
    """Train a student model to match a teacher as well as the labels.

    The training loss of a batch is
    ``(1 - alpha_kl) * loss_fn(log_softmax(s), y) + alpha_kl * T² * KL``
    with ``KL = KL(softmax(t / T) || softmax(s / T))`` averaged over the
    batch, ``s`` the student's logits, ``t`` the teacher's (computed without
    gradient, teacher in eval mode) and ``T`` the temperature. Only the
    student is optimised, validated and kept (it is ``self.model``);
    validation uses ``log_softmax`` of the student's logits as predictions.
    Both models must return raw logits (no softmax layer).

    Parameters
    ----------
    teacher_model : Module
        The trained model to imitate.
    student_model : Module
        The model to train; returns ``(logits, target)``, or only logits
        when it does not take the last column (see :class:`Trainer`).
        Log-probabilities work as logits (softmax ignores the shift).
    teacher_columns, student_columns : tuple of int, optional
        The batch columns each model gets (all by default).
    alpha_kl : float
        Weight of the distillation term, in [0, 1].
    temperature : float
        Softmax temperature of the distillation term.
    unlabel_dataset : Dataset, optional
        Extra examples without labels (one column) whose ``train`` split is
        used for the distillation term too; needs ``unlabel_sampler``.
    unlabel_sampler : Sampler, optional
        Batches ``unlabel_dataset.train``. ``unlabeled_sampler`` is accepted too.

    Other parameters are those of :class:`~flambe.learn.Trainer`.

    """

    def __init__(
        self,
        dataset: Any,
        train_sampler: Any,
        val_sampler: Any,
        teacher_model: Any,
        student_model: Any,
        loss_fn: Callable,
        metric_fn: Any,
        optimizer: torch.optim.Optimizer,
        scheduler: Any | None = None,
        iter_scheduler: Any | None = None,
        device: str | None = None,
        max_steps: int = 10,
        epoch_per_step: float = 1.0,
        iter_per_step: int | None = None,
        batches_per_iter: int = 1,
        lower_is_better: bool = False,
        max_grad_norm: float | None = None,
        max_grad_abs_val: float | None = None,
        extra_validation_metrics: Iterable[Any] | None = None,
        teacher_columns: Sequence[int] | None = None,
        student_columns: Sequence[int] | None = None,
        alpha_kl: float = 0.5,
        temperature: float = 1,
        unlabel_dataset: Any | None = None,
        unlabel_sampler: Any | None = None,
        unlabeled_sampler: Any | None = None,
        check_batch: bool = True,
    ) -> None:
        if not 0.0 <= float(alpha_kl) <= 1.0:
            raise TrainerConfigError(
                f"DistillationTrainer: alpha_kl must be in [0, 1], not {alpha_kl!r}"
            )
        if float(temperature) <= 0:
            raise TrainerConfigError(
                f"DistillationTrainer: temperature must be positive, not {temperature!r}"
            )
        self.teacher_model = teacher_model
        self.student_model = student_model
        self.teacher_columns = tuple(teacher_columns) if teacher_columns is not None else None
        self.student_columns = tuple(student_columns) if student_columns is not None else None
        self.alpha_kl = float(alpha_kl)
        self.temp = float(temperature)
        unlabel_sampler = unlabel_sampler if unlabel_sampler is not None else unlabeled_sampler
        self.unlabel_dataset = unlabel_dataset
        self.unlabel_sampler = unlabel_sampler
        super().__init__(
            dataset,
            train_sampler,
            val_sampler,
            student_model,
            loss_fn,
            metric_fn,
            optimizer,
            scheduler,
            iter_scheduler,
            device,
            max_steps,
            epoch_per_step,
            iter_per_step,
            batches_per_iter,
            lower_is_better,
            max_grad_norm,
            max_grad_abs_val,
            extra_validation_metrics,
            check_batch=check_batch,
        )
        self.teacher_model.to(self._device)
        self._student = BatchForward(student_model)
        self._teacher = BatchForward(teacher_model)
        self._unlabel_iterator: Iterator[tuple[Any, ...]] | None = None
        if unlabel_dataset is not None and unlabel_sampler is not None:
            self._unlabel_iterator = iter(unlabel_sampler.sample(unlabel_dataset.train, -1))

    @staticmethod
    def _columns(batch: tuple[Any, ...], columns: tuple[int, ...] | None) -> tuple[Any, ...]:
        return tuple(batch) if columns is None else tuple(batch[i] for i in columns)

    def _compute_loss(self, batch: Any) -> torch.Tensor:
        batch = self._batch_to_device(batch)
        self.teacher_model.eval()
        student_logits, target = self._student(self._columns(batch, self.student_columns))
        with torch.no_grad():
            teacher_logits = _logits(self._teacher(self._columns(batch, self.teacher_columns)))
        loss = student_logits.new_zeros(())
        if self.alpha_kl < 1:
            hard = self.loss_fn(F.log_softmax(student_logits, dim=-1), target)
            loss = loss + (1 - self.alpha_kl) * hard
        if self._unlabel_iterator is not None:
            unlabelled = batch_to_device(self._next_unlabelled(), self._device)
            student_logits = torch.cat([student_logits, _logits(self.student_model(*unlabelled))])
            with torch.no_grad():
                teacher_logits = torch.cat(
                    [teacher_logits, _logits(self.teacher_model(*unlabelled))]
                )
        if self.alpha_kl > 0:
            loss = loss + self.alpha_kl * distillation_loss(
                student_logits, teacher_logits, self.temp
            )
        return loss

    def _next_unlabelled(self) -> tuple[Any, ...]:
        # called only when an unlabelled dataset and its sampler were given
        assert self._unlabel_iterator is not None and self.unlabel_sampler is not None
        assert self.unlabel_dataset is not None
        try:
            return next(self._unlabel_iterator)
        except StopIteration:  # a sampler that does not loop forever: start again
            self._unlabel_iterator = iter(
                self.unlabel_sampler.sample(self.unlabel_dataset.train, -1)
            )
            return next(self._unlabel_iterator)

    def _compute_batch(
        self, batch: Any, metrics: MetricStates = ()
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        batch = self._batch_to_device(batch)
        logits, target = self._student(self._columns(batch, self.student_columns))
        pred = F.log_softmax(logits, dim=-1)
        for metric, state in metrics:
            metric.aggregate(state, pred, target)
        return pred, target, self.loss_fn(pred, target)

    def _forward_for_check(self, batch: tuple[Any, ...]) -> Any:
        self.teacher_model.to(self._device)
        _logits(BatchForward(self.teacher_model)(self._columns(batch, self.teacher_columns)))
        logits, target = BatchForward(self.student_model)(
            self._columns(batch, self.student_columns)
        )
        return F.log_softmax(logits, dim=-1), target
