"""Metrics: values on known inputs, exact aggregation over batches, names, YAML."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from flambe.compile import yaml
from flambe.metric import (
    AUC,
    BPC,
    F1,
    Accuracy,
    AverageableMetric,
    BinaryAccuracy,
    BinaryPrecision,
    BinaryRecall,
    Metric,
    MultiClassAUC,
    MultiLabelCrossEntropy,
    MultiLabelNLLLoss,
    Perplexity,
    Recall,
)


def pairwise_auc(scores, labels):
    """AUC as the probability that a positive outscores a negative (ties count half)."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels).astype(bool)
    pos, neg = scores[labels], scores[~labels]
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


# -- accuracy and recall ----------------------------------------------------------


def test_accuracy_values():
    assert float(Accuracy()(torch.tensor([[0.1, 0.2], [0.9, 0.1]]), torch.tensor([1, 1]))) == 0.5
    assert float(Accuracy()(torch.tensor([[1.0, 0.0], [0.6, 0.4]]), torch.tensor([1, 1]))) == 0


def test_accuracy_aggregation_state():
    metric, state = Accuracy(), {}
    metric.aggregate(state, torch.tensor([[0.1, 0.2], [0.9, 0.1]]), torch.tensor([1, 1]))
    metric.aggregate(state, torch.tensor([[1.0, 0.0], [0.6, 0.4]]), torch.tensor([1, 1]))
    assert state["accumulated_score"] == pytest.approx(0.25)
    assert state["sample_count"] == 4
    assert metric.finalize(state) == pytest.approx(0.25)


def test_accuracy_accepts_one_hot_targets_and_rejects_bad_shapes():
    pred = torch.tensor([[0.1, 0.9], [0.8, 0.2]])
    assert float(Accuracy()(pred, torch.tensor([[0, 1], [0, 1]]))) == 0.5
    with pytest.raises(ValueError, match="Accuracy"):
        Accuracy()(pred, torch.tensor([1, 0, 1]))
    with pytest.raises(ValueError, match="scores"):
        Accuracy()(torch.rand(2, 3, 4), torch.tensor([1, 0]))


def test_recall_at_k():
    pred = torch.tensor([[0.1, 0.2], [0.9, 0.1]])
    target = torch.tensor([1, 1])
    assert float(Recall()(pred, target)) == float(Accuracy()(pred, target))
    scores = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.9, 0.8, 0.4, 0.1]])
    assert float(Recall(2)(scores, torch.tensor([3, 2]))) == 0.5
    assert float(Recall(2)(scores, torch.tensor([3, 1]))) == 1
    assert float(Recall(2)(scores, torch.tensor([1, 2]))) == 0
    one_hot = torch.tensor([[0, 0, 0, 1], [0, 1, 0, 0]])
    assert float(Recall(2)(scores, one_hot)) == 1


# -- AUC ----------------------------------------------------------------------------


def test_auc_equals_pairwise_auc_for_tensors_and_arrays():
    rng = np.random.default_rng(0)
    for _ in range(5):
        scores = rng.random(200)
        labels = rng.integers(0, 2, 200)
        expected = pairwise_auc(scores, labels)
        as_tensors = AUC()(torch.from_numpy(scores), torch.from_numpy(labels))
        assert float(as_tensors) == pytest.approx(expected)
        assert float(AUC()(scores, labels)) == pytest.approx(expected)


def test_auc_with_ties():
    scores, labels = [0.5, 0.5, 0.5, 0.9, 0.1], [1, 0, 1, 1, 0]
    assert float(AUC()(scores, labels)) == pytest.approx(pairwise_auc(scores, labels))


def test_partial_auc():
    pred, target = torch.tensor([0.1, 0.2, 0.3, 0.4]), torch.tensor([0, 1, 0, 1])
    assert float(AUC(max_fpr=0.500001)(pred, target)) == pytest.approx(0.5, abs=1e-5)
    assert float(AUC(max_fpr=0.1)(pred, target)) == pytest.approx(0.5)
    # a perfect ranking scores 1 whatever the fpr limit
    assert float(
        AUC(max_fpr=0.3)(torch.tensor([0.1, 0.2, 0.8, 0.9]), torch.tensor([0, 0, 1, 1]))
    ) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="max_fpr"):
        AUC(max_fpr=0)


def test_auc_of_empty_input_is_one_half():
    assert float(AUC()(torch.tensor([]), torch.tensor([]))) == 0.5
    assert float(MultiClassAUC()(torch.tensor([]), torch.tensor([]))) == 0.5


def test_multiclass_auc_is_micro_auc_for_ids_and_one_hot_targets():
    rng = np.random.default_rng(1)
    pred = rng.random((60, 4))
    ids = rng.integers(0, 4, 60)
    one_hot = np.eye(4)[ids]
    expected = pairwise_auc(pred.reshape(-1), one_hot.reshape(-1))
    scores = torch.from_numpy(pred)
    assert float(MultiClassAUC()(scores, torch.from_numpy(ids))) == pytest.approx(expected)
    assert float(MultiClassAUC()(scores, torch.from_numpy(one_hot))) == pytest.approx(expected)
    with pytest.raises(RuntimeError, match="drop_last"):
        MultiClassAUC()(torch.from_numpy(pred), torch.from_numpy(ids[:50]))


# -- perplexity ----------------------------------------------------------------------


def test_perplexity_and_bpc_values():
    pred, target = torch.tensor([[0.2, 0.8], [0.9, 0.1]]), torch.tensor([0, 0])
    assert float(Perplexity()(pred, target)) == pytest.approx(2.0224, abs=1e-4)
    assert float(BPC()(pred, target)) == pytest.approx(1.0161, abs=1e-4)


def test_perplexity_aggregated_equals_exp_cross_entropy_over_everything():
    torch.manual_seed(0)
    pred, target = torch.randn(100, 7), torch.randint(0, 7, (100,))
    metric, state = Perplexity(), {}
    for p, t in zip(pred.split(10), target.split(10), strict=True):
        metric.aggregate(state, p, t)
    expected = math.exp(float(torch.nn.functional.cross_entropy(pred, target)))
    assert metric.finalize(state) == pytest.approx(expected, rel=1e-5)
    assert "pred" not in state  # running sums only, no batches kept


def test_perplexity_flattens_sequences():
    pred, target = torch.randn(2, 5, 7), torch.randint(0, 7, (2, 5))
    assert float(Perplexity()(pred, target)) == pytest.approx(
        float(Perplexity()(pred.reshape(10, 7), target.reshape(10)))
    )


# -- binary --------------------------------------------------------------------------


def test_binary_precision():
    pred = torch.tensor([0.8, 0.1, 0.7, 0.1])
    assert float(BinaryPrecision()(pred, torch.tensor([1, 0, 1, 0]))) == 1
    assert float(BinaryPrecision()(pred, torch.tensor([0, 0, 0, 0]))) == 0
    assert float(BinaryPrecision()(pred, torch.tensor([0, 1, 1, 1]))) == 0.5
    assert float(BinaryPrecision(0.75)(pred, torch.tensor([0, 1, 1, 1]))) == 0


def test_binary_recall():
    pred = torch.tensor([0.75, 0.3, 0.6, 0.1])
    ones = torch.ones(4)
    assert float(BinaryRecall()(pred, ones)) == 0.5
    assert float(BinaryRecall(0.7)(pred, ones)) == 0.25
    assert float(BinaryRecall(0.25)(pred, ones)) == 0.75
    assert float(BinaryRecall(0.05)(pred, ones)) == 1
    assert float(BinaryRecall()(pred, torch.zeros(4))) == 0


def test_negative_label_inverts_predictions_and_targets():
    pred = torch.tensor([0.8, 0.1, 0.7, 0.1])
    assert float(BinaryRecall(positive_label=0)(pred, torch.tensor([0, 0, 0, 0]))) == 0.5
    assert float(
        BinaryPrecision(0.75, positive_label=0)(pred, torch.tensor([0, 0, 0, 1]))
    ) == pytest.approx(2 / 3)


def test_binary_accuracy_shapes_and_threshold_is_negative():
    target = torch.tensor([1, 0, 1, 1])
    values = [0.8, 0.5, 0.2, 0.9]
    results = {
        float(BinaryAccuracy()(torch.tensor(values).reshape(shape), t))
        for shape in [(4,), (4, 1), (4, 1, 1)]
        for t in (target, target.reshape(4, 1))
    }
    assert results == {0.75}
    # 0.5 == threshold is a negative prediction: correct for target 0
    assert float(BinaryAccuracy()(torch.tensor([0.5]), torch.tensor([0]))) == 1
    assert float(BinaryAccuracy()(torch.tensor([]), torch.tensor([]))) == 0


def test_f1():
    pred = torch.tensor([0.8, 0.1, 0.7, 0.1])
    assert float(F1()(pred, torch.tensor([1, 0, 1, 0]))) == pytest.approx(1)
    assert float(F1()(pred, torch.tensor([1, 1, 1, 1]))) == pytest.approx(2 / 3)
    assert float(F1()(pred, torch.tensor([0, 0, 0, 0]))) == 0
    assert float(F1()(pred, torch.tensor([1, 0, 1, 1]))) == pytest.approx(0.8)


def test_positive_label_must_be_binary():
    with pytest.raises(ValueError, match="positive_label"):
        BinaryPrecision(positive_label=2)


# -- every metric aggregates to its value over the whole data -----------------------


@pytest.mark.parametrize(
    "metric, kind",
    [
        (AUC(), "binary"),
        (AUC(max_fpr=0.3), "binary"),
        (MultiClassAUC(), "multi"),
        (Accuracy(), "multi"),
        (BPC(), "multi"),
        (BinaryAccuracy(), "binary"),
        (BinaryPrecision(), "binary"),
        (BinaryRecall(positive_label=0), "binary"),
        (F1(), "binary"),
        (Recall(2), "multi"),
        (Perplexity(), "multi"),
        (MultiLabelCrossEntropy(), "multilabel"),
        (MultiLabelNLLLoss(reduction="sum"), "multilabel"),
    ],
    ids=str,
)
def test_aggregating_chunks_equals_computing_everything(metric, kind):
    torch.manual_seed(3)
    if kind == "binary":
        pred, target = torch.rand(100), torch.randint(0, 2, (100,))
    elif kind == "multi":
        pred, target = torch.randn(100, 5), torch.randint(0, 5, (100,))
    else:
        pred, target = torch.randn(100, 5), torch.randint(0, 2, (100, 5))
    state: dict = {}
    for p, t in zip(pred.split(10), target.split(10), strict=True):
        state = metric.aggregate(state, p, t)
    assert metric.finalize(state) == pytest.approx(float(metric(pred, target)), rel=1e-5)


def test_finalize_of_nothing():
    for metric in (AUC(), MultiClassAUC(), Perplexity(), BPC(), F1(), MultiLabelCrossEntropy()):
        assert math.isnan(metric.finalize({}))
    assert Accuracy().finalize({}) is None
    assert Recall().finalize({}) is None
    assert isinstance(Accuracy(), AverageableMetric)


# -- multi-label losses --------------------------------------------------------------


def test_multilabel_losses_values():
    pred, target = torch.tensor([[0.2, 0.8], [0.9, 0.1]]), torch.tensor([[1, 0], [1, 0]])
    assert float(MultiLabelCrossEntropy()(pred, target)) == pytest.approx(0.7043, abs=1e-4)
    assert float(MultiLabelNLLLoss()(pred, target)) == pytest.approx(-0.55)


def test_multilabel_rows_are_normalised_and_weighted():
    pred = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
    target = torch.tensor([[1, 1, 0]])
    expected = -(0.5 * math.log(0.5) + 0.5 * math.log(0.25))
    assert float(MultiLabelNLLLoss()(pred, target)) == pytest.approx(expected)
    weighted = MultiLabelNLLLoss(weight=[2.0, 0.0, 1.0])
    assert float(weighted(pred, target)) == pytest.approx(-(2 * 0.5 * math.log(0.5)))


@pytest.mark.parametrize("loss_class", [MultiLabelCrossEntropy, MultiLabelNLLLoss])
@pytest.mark.parametrize("reduction", [None, "none"])
def test_reduction_none_gives_one_loss_per_row(loss_class, reduction):
    # the original raised ValueError for reduction='none'
    pred, target = torch.randn(6, 4), torch.randint(0, 2, (6, 4))
    losses = loss_class(reduction=reduction)(pred, target)
    assert losses.shape == (6,)
    assert float(losses.mean()) == pytest.approx(float(loss_class()(pred, target)))
    assert float(losses.sum()) == pytest.approx(float(loss_class(reduction="sum")(pred, target)))


def test_ignore_index_never_mutates_the_callers_target():
    # the original zeroed the ignored column in the caller's tensor
    pred, target = torch.randn(3, 4), torch.tensor([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 0, 1]])
    before = target.clone()
    float_target = target.float()
    float_before = float_target.clone()
    loss = MultiLabelCrossEntropy(ignore_index=1)
    value = loss(pred, target)
    loss(pred, float_target)
    assert torch.equal(target, before) and torch.equal(float_target, float_before)
    masked = before.clone()
    masked[:, 1] = 0
    assert float(value) == pytest.approx(float(MultiLabelCrossEntropy()(pred, masked)))


def test_default_weight_follows_the_number_of_classes():
    loss = MultiLabelCrossEntropy()
    assert loss(torch.randn(2, 3), torch.ones(2, 3)).shape == ()
    assert loss(torch.randn(2, 5), torch.ones(2, 5)).shape == ()


def test_losses_keep_gradients_and_check_shapes():
    pred = torch.randn(4, 3, requires_grad=True)
    MultiLabelCrossEntropy()(pred, torch.randint(0, 2, (4, 3))).backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
    with pytest.raises(ValueError, match=r"MultiLabelCrossEntropy.*\[B x N\]"):
        MultiLabelCrossEntropy()(torch.randn(4, 3), torch.ones(4, 2))
    with pytest.raises(ValueError, match="reduction"):
        MultiLabelCrossEntropy(reduction="max")


# -- names and YAML -------------------------------------------------------------------


def test_names():
    assert str(AUC()) == "AUC@1.0"
    assert str(MultiClassAUC(0.5)) == "MultiClassAUC@0.5"
    assert str(BinaryPrecision()) == "PositiveBinaryPrecision"
    assert str(BinaryRecall(positive_label=0)) == "NegativeBinaryRecall"
    assert str(BinaryAccuracy()) == "BinaryAccuracy@0.5"
    assert str(F1()) == "F1@0.5"
    assert str(Recall(3)) == "Recall@3"
    assert str(MultiLabelNLLLoss(weight=torch.ones(2))) == "WeightedMultiLabelNLLLoss"
    assert str(MultiLabelCrossEntropy()) == "MultiLabelCrossEntropy"
    assert str(Accuracy()) == "Accuracy"
    assert str(Perplexity()) == "Perplexity" and str(BPC()) == "BPC"


def test_metrics_load_from_yaml():
    metrics = yaml.load("""
- !Accuracy {}
- !AUC {max_fpr: 0.5}
- !MultiClassAUC {}
- !BinaryPrecision {threshold: 0.3, positive_label: 0}
- !BinaryRecall {}
- !BinaryAccuracy {}
- !F1 {threshold: 0.7}
- !Recall {top_k: 5}
- !Perplexity {}
- !BPC {}
- !MultiLabelCrossEntropy {weight: [1.0, 2.0], reduction: none}
- !MultiLabelNLLLoss {ignore_index: 0}
""")
    built = [schema() for schema in metrics]
    assert all(isinstance(m, Metric) for m in built)
    assert [str(m) for m in built] == [
        "Accuracy",
        "AUC@0.5",
        "MultiClassAUC@1.0",
        "NegativeBinaryPrecision",
        "PositiveBinaryRecall",
        "BinaryAccuracy@0.5",
        "F1@0.7",
        "Recall@5",
        "Perplexity",
        "BPC",
        "WeightedMultiLabelCrossEntropy",
        "MultiLabelNLLLoss",
    ]
    assert built[10](torch.zeros(3, 2), torch.ones(3, 2)).shape == (3,)
    assert "!F1" in yaml.dump(built[6])


def test_metric_base_is_abstract():
    with pytest.raises(TypeError):
        Metric()
