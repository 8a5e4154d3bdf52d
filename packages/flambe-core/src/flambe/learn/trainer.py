"""Trainer: the training loop as a resumable, checkpointable component."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau

from flambe.compile import Component, Schema
from flambe.compile.state import State
from flambe.learn.errors import BatchCheckError, NonFiniteLossError, TrainerConfigError
from flambe.learn.utils import BatchForward, aggregator, batch_to_device, metric_name, select_device
from flambe.logging import log

logger = logging.getLogger(__name__)

MetricStates = Sequence[tuple[Any, dict[str, Any]]]


class Trainer(Component):
    """Train a model, validating it after every step, and keep the best weights.

    One call to :meth:`run` is one *step*: ``iter_per_step`` *iterations*
    (an iteration is one optimizer step over ``batches_per_iter`` batches,
    whose gradients are averaged), followed by one pass over the validation
    split. The very first call also validates the untrained model (logged at
    step 0). ``run`` returns False after ``max_steps`` steps; the model then
    holds the weights of the best validation pass and is on the CPU.

    **Direction of** :meth:`metric`: it is the best validation metric signed
    so that *higher is always better*: with ``lower_is_better=True`` it is
    the negated value (``-best loss``). Anything that ranks variants or
    schedules trials by ``metric()`` (reduce, Ray Tune schedulers) can
    therefore always maximise it. The raw value is :attr:`best_metric`
    (also logged as ``Best/<metric>``).

    Parameters
    ----------
    dataset : Dataset
        Provides ``train`` and ``val``.
    train_sampler, val_sampler : Sampler
        Batch the training and validation examples.
    model : Module
        Called as ``model(*batch)`` and returns ``(prediction, target)``;
        a model whose ``forward`` takes fewer arguments than the batch has
        columns (``nn.Sequential``, ``MLPEncoder``...) is called without
        the last column, which is then the target.
    loss_fn : Metric or callable
        ``loss_fn(prediction, target)`` -> scalar tensor (a torch loss works).
    metric_fn : Metric
        The validation metric the best model is chosen by.
    optimizer : torch.optim.Optimizer
        Built on ``model.trainable_params``.
    scheduler : LRScheduler, optional
        Stepped after every validation pass (``ReduceLROnPlateau`` gets
        the validation loss).
    iter_scheduler : LRScheduler, optional
        Stepped after every optimizer step.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; a GPU when available by default.
    max_steps : int
        Number of steps.
    epoch_per_step : float
        Epochs of training data per step, used when ``iter_per_step`` is not given.
    iter_per_step : int, optional
        Iterations per step (overrides ``epoch_per_step``).
    batches_per_iter : int
        Batches whose gradients are averaged into one optimizer step; more
        than 1 needs a train sampler with ``drop_last: true`` so that every
        batch has the same size.
    lower_is_better : bool
        Whether a lower validation metric is better (e.g. perplexity).
    max_grad_norm : float, optional
        Clip the global gradient norm to this value.
    max_grad_abs_val : float, optional
        Clip every gradient element to ``[-value, value]``.
    extra_validation_metrics : list of Metric, optional
        Also computed and logged on every validation pass.
    extra_training_metrics : list of Metric, optional
        Computed on the training batches and logged as ``Training/<name>``.
    extra_training_metrics_log_interval : int, optional
        Log training metrics every this many iterations (cumulative since
        the step began); by default only at the end of each step.
    check_batch : bool
        Run the model, loss and metric on one validation batch at
        construction, so a mismatch is reported before training starts.
    log_interval : int
        Log the training loss, the global gradient and parameter norms (and
        the learning rate, with a scheduler) every this many iterations
        (default 50, as Lightning's ``log_every_n_steps``; 1 logs every
        iteration). The norms are computed only for the iterations that log
        them (and the gradient norm whenever ``max_grad_norm`` clips); the
        loss is checked for NaN and infinity at every iteration.

    Attributes
    ----------
    tb_log_prefix : str, optional
        Prefix of every logged tag (``"<prefix> Training/Loss"``).

    """

    def __init__(
        self,
        dataset: Any,
        train_sampler: Any,
        val_sampler: Any,
        model: Any,
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
        extra_training_metrics: Iterable[Any] | None = None,
        extra_training_metrics_log_interval: int | None = None,
        check_batch: bool = True,
        log_interval: int = 50,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.dataset = dataset
        self.train_sampler = train_sampler
        self.val_sampler = val_sampler
        self.model = model
        self.loss_fn = loss_fn
        self.metric_fn = metric_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.iter_scheduler = iter_scheduler
        self.lower_is_better = lower_is_better
        self.max_grad_norm = max_grad_norm
        self.max_grad_abs_val = max_grad_abs_val
        self.extra_validation_metrics = list(extra_validation_metrics or [])
        self.training_metrics = list(extra_training_metrics or [])
        interval = extra_training_metrics_log_interval
        self.extra_training_metrics_log_interval = -1 if interval is None else int(interval)
        self.device = select_device(device)
        self._device = torch.device(self.device)
        self.tb_log_prefix: str | None = None

        if not isinstance(max_steps, int) or max_steps < 1:
            raise TrainerConfigError(
                f"{name}: max_steps must be a positive integer, not {max_steps!r}"
            )
        self.max_steps = max_steps
        if isinstance(log_interval, bool) or not isinstance(log_interval, int) or log_interval < 1:
            raise TrainerConfigError(
                f"{name}: log_interval must be a positive integer, not {log_interval!r}",
                hint="1 logs every iteration; 50 (the default) every 50th",
            )
        self.log_interval = log_interval
        if not isinstance(batches_per_iter, int) or batches_per_iter < 1:
            raise TrainerConfigError(
                f"{name}: batches_per_iter must be a positive integer, not {batches_per_iter!r}"
            )
        self.batches_per_iter = batches_per_iter
        if batches_per_iter != 1 and not getattr(train_sampler, "drop_last", False):
            raise TrainerConfigError(
                f"{name}: batches_per_iter={batches_per_iter} needs a train sampler that drops "
                f"the last incomplete batch, but {type(train_sampler).__name__} has "
                f"drop_last={getattr(train_sampler, 'drop_last', None)!r}",
                hint="set 'drop_last: true' on the train sampler, so that the averaged "
                "batches all have the same size",
            )
        n_batches = train_sampler.length(dataset.train)
        if n_batches < 1:
            raise TrainerConfigError(
                f"{name}: the train sampler yields no batch of the "
                f"training data ({len(dataset.train)} examples)",
                hint="check the dataset and the sampler's batch_size",
            )
        if iter_per_step is None:
            if batches_per_iter > n_batches:
                raise TrainerConfigError(
                    f"{name}: batches_per_iter={batches_per_iter} is more than the "
                    f"{n_batches} batches of one epoch",
                    hint="use batches_per_iter <= the number of batches per epoch, "
                    "or give iter_per_step",
                )
            iter_per_step = math.ceil(epoch_per_step * (n_batches // batches_per_iter))
            if iter_per_step < 1:
                raise TrainerConfigError(
                    f"{name}: epoch_per_step={epoch_per_step} makes steps of no iteration",
                    hint="increase epoch_per_step",
                )
        else:
            if not isinstance(iter_per_step, int) or iter_per_step < 1:
                raise TrainerConfigError(
                    f"{name}: iter_per_step must be a positive integer, not {iter_per_step!r}"
                )
            epoch_per_step = iter_per_step * batches_per_iter / n_batches
        self.iter_per_step = iter_per_step
        self.epoch_per_step = epoch_per_step
        self.n_epochs = math.ceil(epoch_per_step * max_steps)
        self._train_iterator: Iterator | None = None

        self.model.to(self._device)
        self._forward = BatchForward(self.model)
        self._params = [p for p in self.model.parameters() if p.requires_grad]
        self._step = 0
        self._best_metric: float | None = None
        self._best_model: dict[str, torch.Tensor] = {}
        self.register_attrs("_step", "_best_metric", "_best_model")
        if check_batch:
            self._check_batch()

    # -- public ----------------------------------------------------------------------
    @property
    def validation_metrics(self) -> list[Any]:
        """The extra validation metrics (the name older code uses)."""
        return self.extra_validation_metrics

    @property
    def best_metric(self) -> float | None:
        """The best validation metric so far, as the metric computes it (unsigned)."""
        return self._best_metric

    def metric(self) -> float | None:
        """The best validation metric so far, signed so that higher is better.

        ``None`` before the first validation pass; ``-best_metric`` when
        ``lower_is_better``, ``best_metric`` otherwise.
        """
        if self._best_metric is None:
            return None
        return -self._best_metric if self.lower_is_better else self._best_metric

    def run(self) -> bool:
        """Train for one step and validate; False once ``max_steps`` steps are done."""
        if self._step == 0 and self._best_metric is None:
            self._eval_step(step_scheduler=False)  # the untrained model, at step 0
        if self._step < self.max_steps:
            self._train_step()
            self._step += 1
            self._eval_step()
        continue_ = self._step < self.max_steps
        if not continue_:
            self.model.to("cpu")
            if self._best_model:
                self.model.load_state_dict(self._best_model, strict=False)
        return continue_

    # -- hooks -----------------------------------------------------------------------
    def _batch_to_device(self, batch: Any) -> tuple[Any, ...]:
        """Move a batch to the device (override for batches that are not tuples)."""
        if self._device.type == "cpu" and not torch.cuda.is_initialized():
            return batch  # no tensor can be elsewhere: nothing to move
        return batch_to_device(batch, self._device)

    def _compute_batch(
        self, batch: Any, metrics: MetricStates = ()
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(prediction, target, loss)`` of a batch; aggregates ``metrics`` on the way."""
        pred, target = self._forward(self._batch_to_device(batch))
        for metric, state in metrics:
            metric.aggregate(state, pred, target)
        return pred, target, self.loss_fn(pred, target)

    def _compute_loss(self, batch: Any) -> torch.Tensor:
        """The training loss of a batch; override to train on another objective."""
        return self._compute_batch(batch)[2]

    def _training_loss(self, batch: Any, metrics: MetricStates) -> torch.Tensor:
        if self._custom_loss:
            return self._compute_loss(batch)
        return self._compute_batch(batch, metrics)[2]

    @property
    def _custom_loss(self) -> bool:
        return type(self)._compute_loss is not Trainer._compute_loss

    # -- training --------------------------------------------------------------------
    def _tag(self, tag: str) -> str:
        return f"{self.tb_log_prefix} {tag}" if self.tb_log_prefix else tag

    def _next_batch(self) -> Any:
        if self._train_iterator is None:
            self._train_iterator = iter(
                self.train_sampler.sample(self.dataset.train, self.n_epochs)
            )
        try:
            return next(self._train_iterator)
        except StopIteration:  # planned epochs used up: keep going with a new pass
            self._train_iterator = iter(
                self.train_sampler.sample(self.dataset.train, self.n_epochs)
            )
            return next(self._train_iterator)

    def _train_step(self) -> None:
        self.model.train()
        optimizer = self.optimizer
        params = self._params
        bpi = self.batches_per_iter
        interval = self.extra_training_metrics_log_interval
        metrics: MetricStates = [(aggregator(m), {}) for m in self.training_metrics]
        names = [self._tag(f"Training/{metric_name(m)}") for m in self.training_metrics]
        log_lr = self.scheduler is not None or self.iter_scheduler is not None
        tag_loss, tag_grad, tag_param = (
            self._tag("Training/Loss"),
            self._tag("Training/Gradient_Norm"),
            self._tag("Training/Parameter_Norm"),
        )
        last_logged = -1
        every = self.log_interval
        first = self.iter_per_step * self._step
        with torch.enable_grad():
            for i in range(self.iter_per_step):
                global_step = first + i
                optimizer.zero_grad(set_to_none=True)
                if bpi == 1:
                    loss = self._training_loss(self._next_batch(), metrics)
                    loss.backward()
                    loss_value = loss.item()
                else:
                    total = 0.0
                    for _ in range(bpi):
                        loss = self._training_loss(self._next_batch(), metrics) / bpi
                        loss.backward()  # gradients of the mean loss: averaged
                        total += loss.item()
                    loss_value = total
                if not math.isfinite(loss_value):
                    raise NonFiniteLossError(
                        f"{type(self).__name__}: the training loss is {loss_value} at iteration "
                        f"{global_step} (step {self._step}, iteration {i} of the step)",
                        step=global_step,
                        hint="lower the learning rate, clip gradients (max_grad_norm) or "
                        "check the data for NaN values",
                    )
                logging_now = global_step % every == 0
                if logging_now:
                    grad_norm, param_norm = self._clip_and_norm(params)
                    log(tag_loss, loss_value, global_step)
                    log(tag_grad, grad_norm, global_step)
                    log(tag_param, param_norm, global_step)
                elif self.max_grad_norm or self.max_grad_abs_val:
                    self._clip(params)
                optimizer.step()
                if log_lr and logging_now:
                    log(self._tag("Training/LR"), optimizer.param_groups[0]["lr"], global_step)
                if self.iter_scheduler is not None:
                    self.iter_scheduler.step()
                if metrics and interval > 0 and (i + 1) % interval == 0:
                    self._log_training_metrics(metrics, names, global_step)
                    last_logged = i
            if metrics and last_logged != self.iter_per_step - 1:
                self._log_training_metrics(metrics, names, global_step)
        optimizer.zero_grad(set_to_none=True)

    def _clip(self, params: list[torch.nn.Parameter]) -> None:
        """Clip the gradients as configured (``max_grad_norm``, ``max_grad_abs_val``)."""
        with torch.no_grad():
            if self.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm)
            if self.max_grad_abs_val:
                torch.nn.utils.clip_grad_value_(params, self.max_grad_abs_val)

    def _clip_and_norm(self, params: list[torch.nn.Parameter]) -> tuple[float, float]:
        """Clip the gradients as configured; their global norm after clipping, and the weights'."""
        with torch.no_grad():
            grads = [p.grad for p in params if p.grad is not None]
            if grads:
                self._clip(params)
            norms = torch.stack([_norm_tensor(grads), _norm_tensor(params)]).tolist()
        return norms[0], norms[1]

    def _log_training_metrics(
        self, metrics: MetricStates, names: list[str], global_step: int
    ) -> None:
        for (metric, state), tag in zip(metrics, names, strict=True):
            log(tag, metric.finalize(state), global_step)

    # -- validation ------------------------------------------------------------------
    def _eval_metrics(self) -> MetricStates:
        return [(aggregator(m), {}) for m in [self.metric_fn] + self.extra_validation_metrics]

    def _eval_step(self, step_scheduler: bool = True) -> None:
        self.model.eval()
        metrics = self._eval_metrics()
        losses = []
        data = self.dataset.val
        with torch.no_grad():
            for batch in self.val_sampler.sample(data, 1) if len(data) else ():
                losses.append(self._eval_batch(batch, metrics)[2])
        val_loss = float(torch.stack(losses).float().mean()) if losses else float("nan")
        (main, main_state), extras = metrics[0], metrics[1:]
        val_metric = main.finalize(main_state) if main_state else float("nan")
        val_metric = float(val_metric) if val_metric is not None else float("nan")
        if self._is_better(val_metric):
            self._best_metric = val_metric
            self._best_model = {
                k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()
            }
        if self.scheduler is not None and step_scheduler:
            if isinstance(self.scheduler, ReduceLROnPlateau):
                self.scheduler.step(val_loss)
            else:
                self.scheduler.step()
        name = metric_name(self.metric_fn)
        step = self._step
        log(self._tag("Validation/Loss"), val_loss, step)
        log(self._tag(f"Validation/{name}"), val_metric, step)
        log(self._tag(f"Best/{name}"), self._best_metric, step)
        for (metric, state), original in zip(extras, self.extra_validation_metrics, strict=True):
            value = metric.finalize(state) if state else float("nan")
            log(self._tag(f"Validation/{metric_name(original)}"), value, step)

    def _eval_batch(
        self, batch: Any, metrics: MetricStates
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Prediction, target and loss of a validation batch (metrics aggregated)."""
        pred, target, loss = self._compute_batch(batch, metrics)
        return pred, target, loss.detach()

    def _is_better(self, value: float) -> bool:
        if math.isnan(value):
            return self._best_metric is None
        if self._best_metric is None or math.isnan(self._best_metric):
            return True
        if self.lower_is_better:
            return value < self._best_metric
        return value > self._best_metric

    # -- checks ----------------------------------------------------------------------
    def _check_batch(self) -> None:
        """Run model, loss and metric on one batch so that mismatches show before training."""
        data = self.dataset.val if len(self.dataset.val) else self.dataset.train
        sampler = self.val_sampler if len(self.dataset.val) else self.train_sampler
        try:
            batch = next(iter(sampler.sample(data, 1)))
        except StopIteration:
            return
        name = type(self).__name__
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                self._check_one(batch, name)
        finally:
            self.model.train(was_training)

    def _check_one(self, batch: Any, name: str) -> None:
        batch = self._batch_to_device(batch)
        try:
            output = self._forward_for_check(batch)
        except Exception as exc:
            raise BatchCheckError(
                f"{name}: the model {type(self.model).__name__} fails on a batch of the data "
                f"(columns {_shapes(batch)}): {type(exc).__name__}: {exc}",
                hint="check that the model's forward takes one argument per column of the dataset",
            ) from exc
        if not (isinstance(output, (tuple, list)) and len(output) == 2):
            raise BatchCheckError(
                f"{name}: the model {type(self.model).__name__} must return (prediction, "
                f"target), but returned {_describe(output)}",
                hint="return the target (the last column of the batch) with the prediction",
            )
        pred, target = output
        try:
            loss = self.loss_fn(pred, target)
        except Exception as exc:
            raise BatchCheckError(
                f"{name}: the loss {metric_name(self.loss_fn)} does not fit the model's output: "
                f"prediction {_describe(pred)}, target {_describe(target)}: "
                f"{type(exc).__name__}: {exc}",
                hint="make the model's output shape match what the loss expects (e.g. "
                "[batch, classes] scores and [batch] class ids for NLLLoss)",
            ) from exc
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise BatchCheckError(
                f"{name}: the loss {metric_name(self.loss_fn)} must return one number, but "
                f"returned {_describe(loss)}",
                hint="use a loss that reduces over the batch (reduction='mean')",
            )
        for metric in [self.metric_fn] + self.extra_validation_metrics:
            try:
                agg = aggregator(metric)
                agg.finalize(agg.aggregate({}, pred, target))
            except Exception as exc:
                raise BatchCheckError(
                    f"{name}: the metric {metric_name(metric)} does not fit the model's output: "
                    f"prediction {_describe(pred)}, target {_describe(target)}: "
                    f"{type(exc).__name__}: {exc}",
                    hint="use a metric made for this kind of prediction",
                ) from exc

    def _forward_for_check(self, batch: tuple[Any, ...]) -> Any:
        return self._forward(batch)

    # -- state -----------------------------------------------------------------------
    def _state(self, state: State, prefix: str, local_metadata: dict[str, Any]) -> State:
        state[prefix + "optimizer"] = self.optimizer.state_dict()
        if self.scheduler is not None:
            state[prefix + "scheduler"] = self.scheduler.state_dict()
        if self.iter_scheduler is not None:
            state[prefix + "iter_scheduler"] = self.iter_scheduler.state_dict()
        return state

    def _load_state(
        self,
        state: State,
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[Any],
        unexpected_keys: list[Any],
        error_msgs: list[str],
    ) -> None:
        for key, target in (
            ("optimizer", self.optimizer),
            ("scheduler", self.scheduler),
            ("iter_scheduler", self.iter_scheduler),
        ):
            if target is None:
                continue
            if prefix + key in state:
                target.load_state_dict(state[prefix + key])
            elif strict:
                missing_keys.append(prefix + key)
        if self._step >= self.max_steps and self._best_model:
            self.model.load_state_dict(self._best_model, strict=False)

    @classmethod
    def precompile(cls, **kwargs: Any) -> None:
        """Put modules built from the arguments on the device as soon as they are built.

        The model then lives on its device before an optimizer is built
        from a link to ``model.trainable_params``.
        """
        device = select_device(
            kwargs.get("device") if isinstance(kwargs.get("device"), str) else None
        )

        def move(obj: Any) -> None:
            if isinstance(obj, torch.nn.Module):
                obj.to(device)

        for value in kwargs.values():
            # links point at objects built before this stage: the constructor moves those
            if isinstance(value, Schema) and value._compiled is None:
                value.post_init_hooks.append(move)


def _norm_tensor(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """Global L2 norm of a list of tensors, as a 0-d float tensor on the CPU."""
    if not tensors:
        return torch.zeros((), dtype=torch.float32)
    norms = torch._foreach_norm(list(tensors))
    return torch.linalg.vector_norm(torch.stack(norms).float()).cpu()


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {list(value.shape)} ({value.dtype})"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} values"
    return f"a {type(value).__name__}"


def _shapes(batch: tuple[Any, ...]) -> str:
    return ", ".join(
        str(list(t.shape)) if isinstance(t, torch.Tensor) else type(t).__name__ for t in batch
    )
