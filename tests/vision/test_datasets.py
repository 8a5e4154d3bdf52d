"""MNISTDataset and ImageArrayDataset: splits, values, local folders, the download cache."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from flambe.compile import yaml
from flambe.errors import DataError
from flambe.sampler import BaseSampler
from flambe.vision.classification import ImageArrayDataset, MNISTDataset, get_dataset
from tests.vision.helpers import IMAGES, LABELS, MNIST, mnist_like, needs_mnist, write_idx


def _never_download(*args, **kwargs):
    raise AssertionError("the dataset tried to download a file")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty Flambé home folder (so the download cache is empty)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("FLAMBE_HOME", str(folder))
    return folder


def test_arrays_split_into_train_and_val_without_network(monkeypatch, home):
    # SPEC 128
    monkeypatch.setattr(MNISTDataset, "_fetch", classmethod(_never_download))
    X, y = mnist_like(100)
    Xt, yt = mnist_like(10, seed=1)
    dataset = MNISTDataset(
        train_images=X, train_labels=y, test_images=Xt, test_labels=yt, val_ratio=0.2, seed=0
    )
    assert len(dataset.train) == 80 and len(dataset.val) == 20 and len(dataset.test) == 10
    for image, label in list(dataset.train) + list(dataset.val) + list(dataset.test):
        assert image.dtype == torch.float32 and image.shape == (1, 28, 28)
        assert label.dtype == torch.int64 and label.dim() == 0
    again = MNISTDataset(
        train_images=X, train_labels=y, test_images=Xt, test_labels=yt, val_ratio=0.2, seed=0
    )
    assert torch.equal(again.train_images, dataset.train_images)
    assert torch.equal(again.val_labels, dataset.val_labels)
    other = MNISTDataset(
        train_images=X, train_labels=y, test_images=Xt, test_labels=yt, val_ratio=0.2, seed=1
    )
    assert not torch.equal(other.val_images, dataset.val_images)
    # every training image is one of the arrays', scaled to [0, 1]
    originals = {bytes(image) for image in X}
    for image, _ in dataset.train:
        raw = (image[0] * 255).round().to(torch.uint8).numpy()
        assert bytes(raw) in originals
    assert not list(home.rglob("*"))  # nothing written to the cache either


@needs_mnist
def test_the_local_files_split_into_train_val_and_test():
    dataset = MNISTDataset.from_path(
        str(IMAGES), str(LABELS), test_ratio=0.2, val_ratio=0.1, seed=0
    )
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (7200, 800, 2000)
    image, label = dataset.test[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert float(dataset.train_images.min()) == 0.0 and float(dataset.train_images.max()) == 1.0
    assert label.dtype == torch.int64 and 0 <= int(label) <= 9
    assert dataset.num_classes == 10 and dataset.num_channels == 1
    assert dataset.image_size == (28, 28)
    # the splits are disjoint and cover the file
    labels = torch.cat([dataset.train_labels, dataset.val_labels, dataset.test_labels])
    assert torch.equal(
        labels.bincount(),
        torch.from_numpy(
            MNISTDataset._parse_local_gzipped_idx(str(LABELS)).astype(np.int64)
        ).bincount(),
    )
    # the same seed draws the same held-out images
    again = MNISTDataset.from_path(str(IMAGES), str(LABELS), test_ratio=0.2, val_ratio=0.1, seed=0)
    assert torch.equal(again.test_images, dataset.test_images)


def test_from_path_without_test_files_or_ratio_has_an_empty_test_split(tmp_path):
    images, labels = mnist_like(20)
    dataset = MNISTDataset.from_path(
        str(write_idx(tmp_path / "i.gz", images)),
        str(write_idx(tmp_path / "l", labels, gzipped=False)),
        val_ratio=0.25,
        seed=3,
    )
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (15, 5, 0)
    with pytest.raises(DataError, match="go together"):
        MNISTDataset.from_path(
            str(tmp_path / "i.gz"), str(tmp_path / "l"), test_images_path=str(IMAGES)
        )


@needs_mnist
def test_missing_arrays_are_read_from_a_local_folder(monkeypatch, home):
    monkeypatch.setattr(MNISTDataset, "_fetch", classmethod(_never_download))
    X, y = mnist_like(30)
    dataset = MNISTDataset(train_images=X, train_labels=y, folder=str(MNIST), seed=0)
    assert len(dataset.test) == 10000 and (len(dataset.train), len(dataset.val)) == (24, 6)


def test_a_file_missing_from_the_folder_without_download_is_named(home, tmp_path):
    folder = tmp_path / "mnist"  # the test files only, as in the shared data folder
    folder.mkdir()
    images, labels = mnist_like(10)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataError) as error:
        MNISTDataset(folder=str(folder), download=False, test_ratio=0.2)
    assert "train-images-idx3-ubyte.gz" in str(error.value)
    assert str(folder) in str(error.value) and "download" in error.value.hint


@needs_mnist
def test_download_goes_to_the_cache_once_and_skips_a_broken_location(tmp_path, monkeypatch, home):
    # locations are file:// URLs: the download code runs without any network
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "t10k-images-idx3-ubyte.gz").write_bytes(b"<html>moved</html>")
    mirror = tmp_path / "mirror"
    shutil.copytree(MNIST, mirror)
    monkeypatch.setattr(MNISTDataset, "URL", broken.as_uri() + "/")
    monkeypatch.setattr(MNISTDataset, "MIRRORS", (mirror.as_uri() + "/",))
    X, y = mnist_like(10)
    dataset = MNISTDataset(train_images=X, train_labels=y, seed=0)
    assert len(dataset.test) == 10000
    cache = home / "cache" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    shutil.rmtree(mirror)  # now only the cache has the files
    again = MNISTDataset(train_images=X, train_labels=y, seed=0)
    assert torch.equal(again.test_images, dataset.test_images)
    labels = MNISTDataset._parse_downloaded_idx(mirror.as_uri() + "/t10k-labels-idx1-ubyte.gz")
    assert np.array_equal(labels, dataset.test_labels.numpy())


def test_a_failed_download_names_every_location_tried(tmp_path, monkeypatch, home):
    monkeypatch.setattr(MNISTDataset, "URL", (tmp_path / "a").as_uri() + "/")
    monkeypatch.setattr(MNISTDataset, "MIRRORS", ((tmp_path / "b").as_uri() + "/",))
    X, y = mnist_like(10)
    with pytest.raises(DataError) as error:
        MNISTDataset(train_images=X, train_labels=y)
    message = str(error.value)
    assert "could not download t10k-images-idx3-ubyte.gz" in message
    assert (tmp_path / "a").as_uri() in message and (tmp_path / "b").as_uri() in message
    assert not list((home / "cache" / "mnist").iterdir())  # no partial file left


def test_arrays_of_images_in_memory():
    rgb = np.random.default_rng(0).random((12, 8, 6, 3)).astype(np.float32)
    labels = np.arange(12) % 4
    dataset = ImageArrayDataset(
        rgb, labels, channels_last=True, val_ratio=0.25, test_ratio=0.25, seed=0
    )
    # 3 test images (a quarter, rounded up), then 3 of the 9 left for validation
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (6, 3, 3)
    image, label = dataset.train[0]
    assert image.shape == (3, 8, 6) and dataset.num_channels == 3
    assert dataset.image_size == (8, 6) and dataset.num_classes == 4
    # floats are kept as they are
    assert any(
        torch.allclose(image, torch.from_numpy(original).permute(2, 0, 1)) for original in rgb
    )
    grey = ImageArrayDataset(
        np.full((4, 5, 5), 255, np.uint8),
        [0, 1, 0, 1],
        val_images=np.zeros((2, 5, 5), np.uint8),
        val_labels=[1, 0],
    )
    assert torch.equal(grey.train_images, torch.ones(4, 1, 5, 5))
    assert torch.equal(grey.val_images, torch.zeros(2, 1, 5, 5)) and len(grey.test) == 0


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (
            dict(train_images=np.zeros((3, 4, 4)), train_labels=[0, 1]),
            "3 images but 2 train_labels",
        ),
        (dict(train_images=np.zeros((3, 4)), train_labels=[0, 1, 2]), "shape (3, 4)"),
        (
            dict(
                train_images=np.zeros((3, 4, 4)),
                train_labels=[0, 1, 2],
                val_images=np.zeros((1, 5, 5)),
                val_labels=[0],
            ),
            "the val images are (1, 5, 5)",
        ),
        (
            dict(
                train_images=np.zeros((3, 4, 4)),
                train_labels=[0, 1, 2],
                val_images=np.zeros((1, 4, 4)),
            ),
            "val_images is given without val_labels",
        ),
        (dict(train_images=np.zeros((3, 4, 4)), train_labels=[0.5, 1, 2]), "must be integers"),
        (
            dict(train_images=np.zeros((3, 4, 4)), train_labels=[0, 1, 2], val_ratio=1.5),
            "val_ratio must be between 0 and 1",
        ),
        (
            dict(train_images=np.zeros((3, 4, 4)), train_labels=[0, 1, 2], test_ratio=0.9),
            "leaves none to train on",
        ),
    ],
)
def test_bad_arrays_are_refused(kwargs, message):
    with pytest.raises(DataError) as error:
        ImageArrayDataset(**kwargs)
    assert message in str(error.value)


def test_get_dataset_builds_the_example_list():
    images, labels = mnist_like(3)
    examples = get_dataset(images, labels)
    assert len(examples) == 3 and examples[1][0].shape == (1, 28, 28)
    assert int(examples[2][1]) == int(labels[2]) and examples[2][1].dtype == torch.int64


def test_splits_batch_with_the_core_sampler():
    X, y = mnist_like(50)
    dataset = ImageArrayDataset(X, y, val_ratio=0.2, seed=0)
    sampler = BaseSampler(batch_size=16, seed=0)
    batches = list(sampler.sample(dataset.train))
    assert len(batches) == sampler.length(dataset.train) == 3
    images, labels = batches[0]
    assert images.shape == (16, 1, 28, 28) and labels.shape == (16,)
    assert labels.dtype == torch.int64


@needs_mnist
def test_mnist_from_yaml(tmp_path):
    dataset = yaml.load(f"""
!MNISTDataset.from_path
train_images_path: {IMAGES}
train_labels_path: {LABELS}
test_ratio: 0.5
val_ratio: 0.5
seed: 7
""")()
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (2500, 2500, 5000)
