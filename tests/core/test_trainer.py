"""Trainer: steps, iterations, accumulation, clipping, schedulers, best model, state, logs."""

from __future__ import annotations

import math
import sys

import pytest
import torch

from flambe.learn import BatchCheckError, NonFiniteLossError, Trainer, TrainerConfigError
from flambe.learn.utils import select_device
from flambe.logging import TrialLogging
from flambe.logging.events import read_scalars
from tests.core.learn_helpers import (
    CountingSGD,
    LAccuracy,
    LLinear,
    LSampler,
    LSequenceMetric,
    make_trainer,
)


def run_all(trainer: Trainer) -> int:
    calls = 1
    while trainer.run():
        calls += 1
    return calls


# -- construction ---------------------------------------------------------------------


def test_batches_per_iter_needs_drop_last():
    with pytest.raises(TrainerConfigError, match="drop_last") as info:
        make_trainer(batches_per_iter=2, drop_last=False)
    assert isinstance(info.value, ValueError)
    assert "set 'drop_last: true'" in str(info.value)


def test_iter_per_step_from_epoch_per_step():
    trainer = make_trainer(n_train=40, batch_size=4, epoch_per_step=0.25)  # 10 batches
    assert trainer.iter_per_step == 3


def test_batches_per_iter_larger_than_an_epoch_is_refused():
    with pytest.raises(TrainerConfigError, match="more than the 10 batches"):
        make_trainer(n_train=40, batch_size=4, batches_per_iter=11, drop_last=True)


def test_iter_per_step_overrides_epoch_per_step():
    trainer = make_trainer(
        n_train=40, batch_size=4, iter_per_step=7, epoch_per_step=5.0, max_steps=3
    )
    assert trainer.iter_per_step == 7
    assert trainer.n_epochs == math.ceil(7 / 10 * 3)


def test_model_output_that_does_not_fit_the_loss_is_reported_before_training():
    class Wide(LLinear):
        def forward(self, x, y):
            return torch.randn(len(x), 3, 5), y  # 3-d scores for NLLLoss with [B] targets

    with pytest.raises(BatchCheckError, match=r"loss NLLLoss does not fit.*\[4, 3, 5\]"):
        make_trainer(model=Wide())


def test_model_that_does_not_return_a_target_is_reported():
    class NoTarget(LLinear):
        def forward(self, x, y):
            return self.linear(x)

    with pytest.raises(BatchCheckError, match=r"must return \(prediction, target\)"):
        make_trainer(model=NoTarget())


def test_non_finite_loss_stops_with_the_iteration():
    trainer = make_trainer(iter_per_step=3, max_steps=2, check_batch=False)
    trainer.run()
    with torch.no_grad():
        trainer.model.linear.weight.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="at iteration 3 ") as info:
        trainer.run()
    assert info.value.step == 3


def test_device_is_chosen_automatically():
    assert select_device(None) == ("cuda" if torch.cuda.is_available() else "cpu")
    assert select_device("cpu") == "cpu"
    assert make_trainer(device="cpu").device == "cpu"


# -- steps ------------------------------------------------------------------------------


def test_run_returns_false_after_max_steps():
    trainer = make_trainer(max_steps=4, iter_per_step=2)
    results = [trainer.run() for _ in range(4)]
    assert results == [True, True, True, False]
    assert trainer._step == 4


def test_validation_runs_max_steps_plus_one_times_first_untrained(tmp_path):
    trainer = make_trainer(max_steps=3, iter_per_step=2, check_batch=False)
    model = trainer.model
    untrained = LAccuracy()
    state = {}
    with torch.no_grad():
        for batch in LSampler(4).sample(trainer.dataset.val):
            untrained.aggregate(state, *model(*batch))
    with TrialLogging(str(tmp_path)):
        run_all(trainer)
    assert trainer.val_sampler.calls == [1] * 4
    scalars = read_scalars(str(tmp_path))
    assert [s for s, _ in scalars["Validation/Loss"]] == [0, 1, 2, 3]
    assert scalars["Validation/LAccuracy"][0][1] == pytest.approx(untrained.finalize(state))


def test_each_run_makes_iter_per_step_optimizer_steps_and_forwards():
    trainer = make_trainer(
        n_train=40, batch_size=4, iter_per_step=3, batches_per_iter=2, drop_last=True, max_steps=2
    )
    trainer.run()
    assert trainer.optimizer.steps == 3
    assert trainer.model.train_forwards == 6
    trainer.run()
    assert trainer.optimizer.steps == 6
    assert trainer.model.train_forwards == 12


def test_training_goes_on_past_the_planned_epochs():
    trainer = make_trainer(n_train=12, batch_size=4, iter_per_step=5, max_steps=3)
    trainer.n_epochs = 1  # plan less data than the steps need
    run_all(trainer)
    assert trainer.optimizer.steps == 15
    assert len(trainer.train_sampler.calls) > 1


# -- logs ---------------------------------------------------------------------------------


def test_training_and_validation_tags_and_steps(tmp_path):
    class Extra(LAccuracy):
        def __str__(self):
            return "Extra"

    trainer = make_trainer(
        max_steps=2, iter_per_step=3, extra_validation_metrics=[Extra()], log_interval=1
    )
    with TrialLogging(str(tmp_path)):
        run_all(trainer)
    scalars = read_scalars(str(tmp_path))
    for tag in ("Training/Loss", "Training/Gradient_Norm", "Training/Parameter_Norm"):
        assert [s for s, _ in scalars[tag]] == list(range(6))
    assert "Training/LR" not in scalars
    for tag in ("Validation/Loss", "Validation/LAccuracy", "Best/LAccuracy", "Validation/Extra"):
        assert [s for s, _ in scalars[tag]] == [0, 1, 2]


def test_lr_is_logged_with_a_scheduler(tmp_path):
    model = LLinear()
    optimizer = CountingSGD(model.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1.0 / (i + 1))
    trainer = make_trainer(
        model=model,
        optimizer=optimizer,
        iter_scheduler=scheduler,
        max_steps=1,
        iter_per_step=3,
        log_interval=1,
    )
    with TrialLogging(str(tmp_path)):
        run_all(trainer)
    lrs = [v for _, v in read_scalars(str(tmp_path))["Training/LR"]]
    assert lrs == pytest.approx([0.5, 0.25, 0.5 / 3])


def test_tb_log_prefix(tmp_path):
    trainer = make_trainer(max_steps=1, iter_per_step=1)
    trainer.tb_log_prefix = "t1"
    with TrialLogging(str(tmp_path)):
        run_all(trainer)
    tags = set(read_scalars(str(tmp_path)))
    # TensorBoard does not allow spaces in tags: the writer turns them into '_'
    assert {"t1_Training/Loss", "t1_Validation/Loss", "t1_Best/LAccuracy"} <= tags
    assert not any(tag.startswith(("Training", "Validation", "Best")) for tag in tags)


def test_training_metrics_log_interval(tmp_path):
    """Regression: the original compared the interval with the index of the last log."""
    trainer = make_trainer(
        max_steps=1,
        iter_per_step=5,
        extra_training_metrics=[LAccuracy()],
        extra_training_metrics_log_interval=2,
    )
    with TrialLogging(str(tmp_path / "a")):
        run_all(trainer)
    assert [s for s, _ in read_scalars(str(tmp_path / "a"))["Training/LAccuracy"]] == [1, 3, 4]
    trainer = make_trainer(max_steps=2, iter_per_step=4, extra_training_metrics=[LAccuracy()])
    with TrialLogging(str(tmp_path / "b")):
        run_all(trainer)
    assert [s for s, _ in read_scalars(str(tmp_path / "b"))["Training/LAccuracy"]] == [3, 7]


# -- best model and metric ----------------------------------------------------------------


@pytest.mark.parametrize("lower, best", [(False, 0.9), (True, 0.2)])
def test_best_metric_follows_the_direction(lower, best):
    values = [0.5, 0.9, 0.2, 0.7]
    trainer = make_trainer(
        max_steps=3,
        iter_per_step=1,
        metric_fn=LSequenceMetric(values),
        lower_is_better=lower,
        check_batch=False,
    )
    assert trainer.metric() is None
    run_all(trainer)
    assert trainer.best_metric == best
    # metric() is what reduce and schedulers maximise: higher is better in both directions
    assert trainer.metric() == (-best if lower else best)


def test_lower_is_better_ranks_variants_the_right_way_round():
    """Regression: the original reported the raw loss, so maximising kept the worst variant."""
    good = make_trainer(
        max_steps=1,
        iter_per_step=1,
        lower_is_better=True,
        check_batch=False,
        metric_fn=LSequenceMetric([0.1]),
    )
    bad = make_trainer(
        max_steps=1,
        iter_per_step=1,
        lower_is_better=True,
        check_batch=False,
        metric_fn=LSequenceMetric([5.0]),
    )
    run_all(good)
    run_all(bad)
    assert max([good, bad], key=lambda t: t.metric()) is good


def test_final_model_is_the_best_snapshot_on_cpu():
    snapshots = []

    class Snap(LSequenceMetric):
        def finalize(self, state):
            snapshots.append({k: v.clone() for k, v in trainer.model.state_dict().items()})
            return super().finalize(state)

    trainer = make_trainer(
        max_steps=3, iter_per_step=2, check_batch=False, metric_fn=Snap([0.1, 0.3, 0.8, 0.8])
    )
    run_all(trainer)
    best = snapshots[2]  # 0.8 first seen at pass 2; the equal pass 3 does not replace it
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(value, best[name])
        assert value.device.type == "cpu"
    assert not torch.equal(snapshots[3]["linear.weight"], best["linear.weight"])


# -- schedulers -----------------------------------------------------------------------


def test_plateau_scheduler_gets_the_validation_loss_and_iter_scheduler_steps_each_iteration():
    model = LLinear()
    optimizer = CountingSGD(model.parameters(), lr=0.1)
    seen = []

    class Plateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    order = []

    class Iter(torch.optim.lr_scheduler.LambdaLR):
        def step(self, epoch=None):
            order.append(optimizer.steps)
            super().step(epoch)

    trainer = make_trainer(
        model=model,
        optimizer=optimizer,
        scheduler=Plateau(optimizer),
        iter_scheduler=Iter(optimizer, lambda i: 1.0),
        max_steps=2,
        iter_per_step=3,
    )
    order.clear()  # the LambdaLR constructor steps once
    run_all(trainer)
    assert len(seen) == 2 and all(isinstance(v, float) and v > 0 for v in seen)
    assert order == [1, 2, 3, 4, 5, 6]  # after each optimizer step


def test_other_scheduler_steps_once_per_validation_after_training():
    model = LLinear()
    optimizer = CountingSGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    trainer = make_trainer(
        model=model, optimizer=optimizer, scheduler=scheduler, max_steps=3, iter_per_step=1
    )
    run_all(trainer)
    assert scheduler.last_epoch == 3
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 / 8)


# -- gradients -------------------------------------------------------------------------


def test_gradient_norm_clipping(tmp_path):
    trainer = make_trainer(max_steps=2, iter_per_step=4, max_grad_norm=0.01, log_interval=1)
    with TrialLogging(str(tmp_path)):
        run_all(trainer)
    norms = [v for _, v in read_scalars(str(tmp_path))["Training/Gradient_Norm"]]
    assert len(norms) == 8 and max(norms) <= 0.01 + 1e-6
    for grads in trainer.optimizer.grads:
        total = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))
        assert float(total) <= 0.01 + 1e-6


def test_scalars_and_norms_are_logged_every_log_interval_iterations(tmp_path, monkeypatch):
    # default: every 50th iteration, like Lightning; norms computed only for those
    computed = []
    original = torch._foreach_norm

    def counting(tensors, *args, **kwargs):
        computed.append(len(tensors))
        return original(tensors, *args, **kwargs)

    monkeypatch.setattr(torch, "_foreach_norm", counting)
    model = LLinear()
    optimizer = CountingSGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1.0)
    trainer = make_trainer(
        model=model, optimizer=optimizer, iter_scheduler=scheduler, max_steps=2, iter_per_step=60
    )
    assert trainer.log_interval == 50
    with TrialLogging(str(tmp_path / "default")):
        run_all(trainer)
    scalars = read_scalars(str(tmp_path / "default"))
    for tag in (
        "Training/Loss",
        "Training/Gradient_Norm",
        "Training/Parameter_Norm",
        "Training/LR",
    ):
        assert [s for s, _ in scalars[tag]] == [0, 50, 100], tag
    assert len(computed) == 2 * 3  # gradients and weights, at 3 of the 120 iterations
    assert [s for s, _ in scalars["Validation/Loss"]] == [0, 1, 2]  # every step as before

    computed.clear()
    every = make_trainer(max_steps=1, iter_per_step=7, log_interval=1)
    with TrialLogging(str(tmp_path / "every")):
        run_all(every)
    assert [s for s, _ in read_scalars(str(tmp_path / "every"))["Training/Gradient_Norm"]] == list(
        range(7)
    )
    assert len(computed) == 2 * 7


def test_gradients_are_clipped_at_every_iteration_whatever_the_log_interval():
    trainer = make_trainer(max_steps=1, iter_per_step=10, max_grad_norm=0.01, log_interval=50)
    run_all(trainer)
    assert len(trainer.optimizer.grads) == 10
    for grads in trainer.optimizer.grads:
        total = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))
        assert float(total) <= 0.01 + 1e-6


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "50"])
def test_log_interval_must_be_a_positive_integer(value):
    with pytest.raises(TrainerConfigError, match="log_interval must be a positive integer"):
        make_trainer(log_interval=value)


def test_gradient_value_clipping():
    trainer = make_trainer(max_steps=2, iter_per_step=4, max_grad_abs_val=0.003)
    run_all(trainer)
    assert trainer.optimizer.grads
    for grads in trainer.optimizer.grads:
        assert max(float(g.abs().max()) for g in grads) <= 0.003 + 1e-9


def test_accumulated_gradient_is_the_mean_of_the_batches(tmp_path):
    """Regression: the original summed the gradients of the accumulated batches."""
    k = 3
    trainer = make_trainer(
        n_train=24, batch_size=4, batches_per_iter=k, drop_last=True, iter_per_step=1, max_steps=1
    )
    reference = LLinear()
    reference.load_state_dict(trainer.model.state_dict())
    batches = list(LSampler(4, drop_last=True).sample(trainer.dataset.train))[:k]
    losses, grads = [], []
    for batch in batches:
        reference.zero_grad()
        loss = torch.nn.functional.nll_loss(*reference(*batch))
        loss.backward()
        losses.append(float(loss.detach()))
        grads.append([p.grad.clone() for p in reference.parameters()])
    with TrialLogging(str(tmp_path)):
        trainer.run()
    applied = trainer.optimizer.grads[0]
    for i, grad in enumerate(applied):
        expected = sum(g[i] for g in grads) / k
        assert torch.allclose(grad, expected, atol=1e-6)
    logged = read_scalars(str(tmp_path))["Training/Loss"][0][1]
    assert logged == pytest.approx(sum(losses) / k, rel=1e-5)


# -- state ------------------------------------------------------------------------------


def test_state_round_trip_with_optimizer_and_schedulers():
    def build():
        model = LLinear(seed=5)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        return make_trainer(
            model=model,
            optimizer=optimizer,
            scheduler=torch.optim.lr_scheduler.StepLR(optimizer, 1, 0.5),
            iter_scheduler=torch.optim.lr_scheduler.StepLR(optimizer, 2, 0.9),
            max_steps=3,
            iter_per_step=2,
        )

    trainer = build()
    trainer.run()
    trainer.run()
    state = trainer.get_state()
    for key in ("optimizer", "scheduler", "iter_scheduler", "_step", "_best_metric", "_best_model"):
        assert key in state, key
    fresh = build()
    fresh.load_state(state)
    assert fresh._step == 2
    assert fresh._best_metric == trainer._best_metric
    assert fresh.scheduler.last_epoch == trainer.scheduler.last_epoch
    assert fresh.iter_scheduler.last_epoch == trainer.iter_scheduler.last_epoch
    assert fresh.optimizer.param_groups[0]["lr"] == trainer.optimizer.param_groups[0]["lr"]
    assert fresh.optimizer.state_dict()["state"][0]["step"] == 4
    # a resumed trainer continues where the first one stopped
    assert fresh.run() is False and fresh._step == 3


def test_loading_a_finished_state_restores_the_best_weights():
    trainer = make_trainer(
        max_steps=2, iter_per_step=2, check_batch=False, metric_fn=LSequenceMetric([0.1, 0.9, 0.2])
    )
    run_all(trainer)
    state = trainer.get_state()
    fresh = make_trainer(
        max_steps=2, iter_per_step=2, model=LLinear(seed=9), metric_fn=LSequenceMetric([0.0])
    )
    fresh.load_state(state)
    for name, value in fresh.model.state_dict().items():
        assert torch.equal(value, trainer._best_model[name])


def test_validation_metrics_is_the_extra_list():
    extras = [LAccuracy(), LAccuracy(), LAccuracy()]
    trainer = make_trainer(extra_validation_metrics=extras)
    assert trainer.validation_metrics is trainer.extra_validation_metrics
    assert len(trainer.validation_metrics) == 3


def test_empty_validation_split(tmp_path):
    trainer = make_trainer(n_val=0, max_steps=1, iter_per_step=1)
    with TrialLogging(str(tmp_path)):
        run_all(trainer)
    assert math.isnan(read_scalars(str(tmp_path))["Validation/Loss"][0][1])


def test_torch_loss_flambe_metric_and_training_metrics(tmp_path):
    trainer = make_trainer(max_steps=1, iter_per_step=2, extra_training_metrics=[LAccuracy()])
    with TrialLogging(str(tmp_path)):
        run_all(trainer)
    assert "Training/LAccuracy" in read_scalars(str(tmp_path))


def test_precompile_moves_a_model_schema_when_it_is_built():
    from flambe.compile import Schema

    schema = Schema(LLinear, None)
    Trainer.precompile(model=schema, device="meta")
    model = schema()
    assert next(model.parameters()).device.type == "meta"


# -- a whole experiment from YAML, core classes only -----------------------------------

EXPERIMENT = """\
dataset: !TabularDataset.autogen
  data_path: {path}
  sep: ','
  seed: 3
  transform:
    features: {{field: !NumericField {{standardize: true}}, columns: [f0, f1, f2, f3]}}
    label: {{field: !LabelField {{}}, columns: label}}
model: !Sequential
  hidden: !MLPEncoder
    input_size: 4
    output_size: 16
    output_activation: !torch.ReLU {{}}
  output: !SoftmaxLayer
    input_size: 16
    output_size: !@ dataset.label.vocab_size
trainer: !Trainer
  dataset: !@ dataset
  train_sampler: !BaseSampler {{batch_size: 32, seed: 1}}
  val_sampler: !BaseSampler {{batch_size: 64, shuffle: false}}
  model: !@ model
  loss_fn: !torch.NLLLoss {{}}
  metric_fn: !Accuracy {{}}
  optimizer: !torch.Adam
    params: !@ trainer[model].trainable_params
    lr: 0.01
  max_steps: 5
evaluator: !Evaluator
  dataset: !@ dataset
  model: !@ trainer.model
  metric_fn: !Accuracy {{}}
"""


def write_blobs(path, n=600, seed=0):
    """Three Gaussian blobs in 4 dimensions, written as a csv with a header."""
    gen = torch.Generator().manual_seed(seed)
    centers = torch.tensor([[3.0, 0, 0, 0], [-1.5, 3, 0, 0], [0, -3, 1.5, 0]])
    lines = ["f0,f1,f2,f3,label"]
    for _ in range(n):
        label = int(torch.randint(0, 3, (1,), generator=gen))
        x = centers[label] + torch.randn(4, generator=gen)
        lines.append(",".join(f"{v:.4f}" for v in x.tolist()) + f",class{label}")
    path.write_text("\n".join(lines) + "\n")


def test_yaml_experiment_of_core_classes_learns(tmp_path):
    from flambe.compile import yaml

    write_blobs(tmp_path / "blobs.csv")
    config = yaml.load(EXPERIMENT.format(path=tmp_path / "blobs.csv"), file="experiment.yaml")
    built = {name: schema() for name, schema in config.items()}  # in order: links go back
    trainer, evaluator = built["trainer"], built["evaluator"]
    with TrialLogging(str(tmp_path / "logs")):
        steps = run_all(trainer)
        assert evaluator.run() is False
    assert steps == 5
    assert trainer.best_metric > 0.9
    assert evaluator.eval_metric > 0.9 and evaluator.metric() == evaluator.eval_metric
    assert evaluator.model is trainer.model
    scalars = read_scalars(str(tmp_path / "logs"))
    assert scalars["Eval/Accuracy"][0][1] == pytest.approx(evaluator.eval_metric)
    losses = [v for _, v in scalars["Training/Loss"]]  # every 50th iteration
    assert len(losses) >= 2 and losses[-1] < losses[0]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            ("loss_fn: !torch.NLLLoss {}", "loss_fn: !torch.BCELoss {}"),
            r"experiment.yaml:\d+:\d+: Trainer: the loss BCELoss does not fit the model's output: "
            r"prediction a tensor of shape \[\d+, 3\]",
        ),
        (
            ("  max_steps: 5", "  max_steps: 5\n  batches_per_iter: 2"),
            r"experiment.yaml:\d+:\d+: Trainer: batches_per_iter=2 needs a train sampler "
            "that drops",
        ),
    ],
)
def test_bad_trainer_configs_fail_at_build_with_their_place(tmp_path, change, message):
    from flambe.compile import yaml

    write_blobs(tmp_path / "blobs.csv", n=200)
    text = EXPERIMENT.format(path=tmp_path / "blobs.csv").replace(*change)
    config = yaml.load(text, file="experiment.yaml")
    config["dataset"]()
    config["model"]()
    with pytest.raises(TrainerConfigError, match=message):
        config["trainer"]()


def test_training_doc_examples_run(tmp_path, monkeypatch):
    """docs/training.md: every example runs as written."""
    from tests.core.test_docs_examples import blocks

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the doc adds "." for its script
    namespace = {"__name__": "__main__"}
    ran = files = 0
    for note, lang, body in blocks("training.md"):
        if note.startswith("file:"):
            (tmp_path / note.split(":", 1)[1].strip()).write_text(body)
            files += 1
        elif lang == "python":
            exec(compile(body, f"training.md example {ran + 1}", "exec"), namespace)
            ran += 1
    sys.modules.pop("my_train", None)
    assert ran >= 7 and files >= 4


def test_a_saved_trainer_loads_and_resumes(tmp_path):
    import flambe
    from flambe.compile import yaml

    write_blobs(tmp_path / "blobs.csv", n=300)
    text = EXPERIMENT.format(path=tmp_path / "blobs.csv")
    # the model written inside the trainer, so that the saved trainer holds its whole config
    text = text.replace(
        "  model: !@ model\n",
        "  model: !MLPEncoder {input_size: 4, output_size: 3,"
        " output_activation: !torch.LogSoftmax {dim: -1}}\n",
    )
    config = yaml.load(text, file="experiment.yaml")
    config["dataset"]()
    trainer = config["trainer"]()
    trainer.run()
    flambe.save(trainer, str(tmp_path / "saved"))
    again = flambe.load(str(tmp_path / "saved"))
    assert isinstance(again, Trainer) and again._step == 1
    assert again.best_metric == trainer.best_metric
    assert again.optimizer.param_groups[0]["params"][0] is next(again.model.parameters())
    assert int(again.optimizer.state_dict()["state"][0]["step"]) == trainer.iter_per_step
    for name, value in again.model.state_dict().items():
        assert torch.equal(value, trainer.model.state_dict()[name])
    while again.run():
        pass
    assert again._step == 5
