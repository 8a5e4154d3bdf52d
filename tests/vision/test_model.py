"""ImageClassifier: shapes, the Trainer's forward convention, save and load, training."""

from __future__ import annotations

import pytest
import torch

import flambe
from flambe.compile import yaml
from flambe.learn.utils import BatchForward
from flambe.nn import CNNEncoder, MLPEncoder
from flambe.vision.classification import ImageClassifier
from tests.vision.helpers import IMAGES, LABELS, needs_mnist


def test_shapes_of_a_cnn_classifier():
    # SPEC 129: a 5x5 convolution of 28x28 gives 1x24x24, flattened to 576
    model = ImageClassifier(
        CNNEncoder(1, [1], kernel_size=[5]), MLPEncoder(576, 10, n_layers=2, hidden_size=128)
    )
    data = torch.rand(3, 1, 28, 28)
    assert model(data).shape == (3, 10)
    target = torch.tensor([1, 2, 3])
    pred, same = model(data, target)
    assert pred.shape == (3, 10) and same is target
    assert model.features(data).shape == (3, 576)


def test_pooling_fixes_the_feature_size():
    model = ImageClassifier(
        CNNEncoder(3, [4, 8], kernel_size=3, padding=1),
        torch.nn.Linear(8 * 2 * 2, 5),
        pooling=torch.nn.AdaptiveAvgPool2d(2),
    )
    for size in (16, 23):
        assert model(torch.rand(2, 3, size, size)).shape == (2, 5)


def test_the_trainer_calls_it_with_the_whole_batch():
    model = ImageClassifier(torch.nn.Identity(), torch.nn.Linear(4, 2))
    batch = (torch.rand(5, 1, 2, 2), torch.tensor([0, 1, 0, 1, 1]))
    pred, target = BatchForward(model)(batch)
    assert pred.shape == (5, 2) and target is batch[1]


CONFIG = f"""
dataset: !MNISTDataset.from_path
  train_images_path: {IMAGES}
  train_labels_path: {LABELS}
  test_ratio: 0.05
  val_ratio: 0.03
  seed: 0
model: !ImageClassifier
  encoder: !CNNEncoder
    input_channels: 1
    channels: [6, 12]
    kernel_size: 3
    padding: 1
    pooling: !torch.MaxPool2d {{kernel_size: 2}}
  pooling: !torch.AdaptiveAvgPool2d {{output_size: 3}}
  output_layer: !MLPEncoder {{input_size: 108, output_size: 10}}
trainer: !Trainer
  dataset: !@ dataset
  train_sampler: !BaseSampler {{batch_size: 32, seed: 1}}
  val_sampler: !BaseSampler {{batch_size: 500, shuffle: false}}
  model: !@ model
  loss_fn: !torch.CrossEntropyLoss {{}}
  metric_fn: !Accuracy {{}}
  optimizer: !torch.Adam
    params: !@ trainer[model].trainable_params
    lr: 0.01
  iter_per_step: 15
  max_steps: 2
evaluator: !Evaluator
  dataset: !@ dataset
  model: !@ trainer.model
  metric_fn: !Accuracy {{}}
  eval_data: test
"""


@pytest.mark.slow
@needs_mnist
def test_trains_and_evaluates_with_the_core_trainer_then_saves_and_loads(tmp_path):
    torch.manual_seed(0)
    config = yaml.load(CONFIG)
    built = {name: schema() for name, schema in config.items()}
    trainer, evaluator = built["trainer"], built["evaluator"]
    while trainer.run():
        pass
    assert trainer.best_metric > 0.5  # 30 iterations of a small CNN
    evaluator.run()
    assert evaluator.eval_metric > 0.5
    model = trainer.model.eval()
    flambe.save(model, str(tmp_path / "model"))
    loaded = flambe.load(str(tmp_path / "model")).eval()
    assert isinstance(loaded, ImageClassifier)
    images = built["dataset"].test_images[:16]
    assert torch.equal(loaded(images), model(images))
    # the dataset saves as its config and loads to the same splits
    flambe.save(built["dataset"], str(tmp_path / "dataset"))
    dataset = flambe.load(str(tmp_path / "dataset"))
    assert torch.equal(dataset.test_images, built["dataset"].test_images)
