"""Augmentation: off by default, seeded, training split only, shapes kept."""

from __future__ import annotations

import pytest
import torch

import flambe
from flambe.compile import yaml
from flambe.errors import DataError
from flambe.sampler import BaseSampler
from flambe.vision.classification import ImageArrayDataset, ImageAugmentation
from tests.vision.helpers import mnist_like


def _dataset(augment=None):
    X, y = mnist_like(40)
    return ImageArrayDataset(X, y, val_ratio=0.25, test_ratio=0.25, seed=0, augment=augment)


def test_off_by_default():
    dataset = _dataset()
    assert dataset.augment is None
    assert all(
        torch.equal(image, dataset.train_images[i]) for i, (image, _) in enumerate(dataset.train)
    )


def test_the_same_seed_gives_the_same_images_and_another_seed_others():
    first = _dataset(ImageAugmentation(crop_padding=3, horizontal_flip=True, seed=5))
    second = _dataset(ImageAugmentation(crop_padding=3, horizontal_flip=True, seed=5))
    other = _dataset(ImageAugmentation(crop_padding=3, horizontal_flip=True, seed=6))
    a = [image for image, _ in first.train]
    b = [image for image, _ in second.train]
    c = [image for image, _ in other.train]
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))
    # through a seeded sampler, batch after batch
    batches = [
        list(BaseSampler(batch_size=8, seed=2).sample(d.train))
        for d in (
            _dataset(ImageAugmentation(crop_padding=2, seed=1)),
            _dataset(ImageAugmentation(crop_padding=2, seed=1)),
        )
    ]
    assert all(torch.equal(x[0], y[0]) for x, y in zip(*batches, strict=True))
    # reading again draws new transformations
    again = [image for image, _ in first.train]
    assert not all(torch.equal(x, y) for x, y in zip(a, again, strict=True))


def test_only_the_training_split_changes():
    plain = _dataset()
    augmented = _dataset(ImageAugmentation(crop_padding=4, horizontal_flip=True, seed=0))
    for split in ("val", "test"):
        assert all(
            torch.equal(x[0], y[0])
            for x, y in zip(getattr(plain, split), getattr(augmented, split), strict=True)
        )
    changed = [
        not torch.equal(image, plain.train_images[i])
        for i, (image, _) in enumerate(augmented.train)
    ]
    assert sum(changed) > len(changed) // 2
    assert torch.equal(augmented.train_labels, plain.train_labels)


def test_a_crop_shifts_the_image_within_its_padding():
    image = torch.zeros(1, 9, 9)
    image[0, 4, 4] = 1.0
    augment = ImageAugmentation(crop_padding=2, seed=0)
    seen = set()
    for _ in range(60):
        out = augment(image)
        assert out.shape == (1, 9, 9) and float(out.sum()) == 1.0
        row, col = (out[0] == 1).nonzero()[0].tolist()
        assert abs(row - 4) <= 2 and abs(col - 4) <= 2
        seen.add((row, col))
    assert len(seen) > 10


def test_a_flip_mirrors_left_to_right():
    image = torch.arange(12.0).reshape(1, 3, 4)
    augment = ImageAugmentation(horizontal_flip=True, seed=0)
    outs = [augment(image) for _ in range(20)]
    assert all(torch.equal(o, image) or torch.equal(o, image.flip(-1)) for o in outs)
    assert any(torch.equal(o, image.flip(-1)) for o in outs)
    assert any(torch.equal(o, image) for o in outs)


def test_the_generator_is_saved_and_restored(tmp_path):
    augment = yaml.load("!ImageAugmentation {crop_padding: 2, horizontal_flip: true, seed: 3}")()
    image = torch.rand(1, 6, 6)
    augment(image)
    flambe.save(augment, str(tmp_path / "augment"))
    expected = [augment(image) for _ in range(5)]
    loaded = flambe.load(str(tmp_path / "augment"))
    assert all(torch.equal(loaded(image), e) for e in expected)


def test_a_negative_padding_is_refused():
    with pytest.raises(DataError, match="crop_padding"):
        ImageAugmentation(crop_padding=-1)
