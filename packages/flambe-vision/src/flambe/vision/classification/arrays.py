"""Image datasets over arrays in memory: splits, scaling to [0, 1], augmentation."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from flambe.dataset.dataset import Dataset
from flambe.errors import DataError
from flambe.vision.classification.augment import ImageAugmentation

Example = tuple[torch.Tensor, torch.Tensor]


class ImageSplit(Sequence):
    """One split of an image dataset: a read-only sequence of ``(image, label)``.

    ``image`` is a float tensor ``[C x H x W]`` with values in [0, 1] and
    ``label`` an int64 scalar tensor. With an augmentation, every read of an
    example returns a freshly transformed image.

    Parameters
    ----------
    images : torch.Tensor
        ``[N x C x H x W]`` floats.
    labels : torch.Tensor
        ``[N]`` int64.
    augment : ImageAugmentation, optional
        Applied to each image when it is read.
    name : str
        The split's name, used in messages.

    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        augment: ImageAugmentation | None = None,
        name: str = "data",
    ) -> None:
        self.images = images
        self.labels = labels
        self.augment = augment if augment is not None and augment.active else None
        self.name = name

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        image = self.images[index]
        if self.augment is not None:
            image = self.augment(image)
        return image, self.labels[index]

    def __iter__(self) -> Iterator[Example]:
        for index in range(len(self)):
            yield self[index]

    def __repr__(self) -> str:
        return f"ImageSplit({self.name!r}, {len(self)} images of {tuple(self.images.shape[1:])})"


def to_image_tensor(
    images: Any, channels_last: bool = False, source: str = "images"
) -> torch.Tensor:
    """Images as a float tensor ``[N x C x H x W]`` with values in [0, 1].

    Parameters
    ----------
    images : array-like
        ``[N x H x W]`` (one channel is added) or ``[N x C x H x W]``
        (``[N x H x W x C]`` with ``channels_last``). Integer values are
        taken as 0-255 and divided by 255; float values are kept.
    channels_last : bool
        4-D images have their channels last.
    source : str
        What the images are, for error messages.

    Raises
    ------
    DataError
        Images that are not 3-D or 4-D, or not numbers.

    """
    array = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{source} must be numbers, not {array.dtype}")
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4:
        if channels_last:
            array = array.transpose(0, 3, 1, 2)
    else:
        raise DataError(
            f"{source} have shape {array.shape}; images are [N x H x W] or [N x C x H x W]",
            hint="give one image per entry of the first dimension",
        )
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if np.issubdtype(array.dtype, np.integer):
        return tensor.float().div_(255.0)
    return tensor.float()


def to_label_tensor(labels: Any, count: int, source: str = "labels") -> torch.Tensor:
    """Labels as an int64 tensor ``[N]``, checking there is one per image.

    Raises
    ------
    DataError
        Labels that are not integers, not 1-D, negative, or not ``count`` of them.

    """
    array = labels.numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if array.ndim != 1:
        raise DataError(f"{source} have shape {array.shape}; labels are one integer per image")
    if len(array) and not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(np.mod(array, 1) == 0):
            raise DataError(f"{source} must be integers (class ids), not {array.dtype}")
    if len(array) != count:
        raise DataError(
            f"there are {count} images but {len(array)} {source}",
            hint="give exactly one label per image",
        )
    tensor = torch.from_numpy(np.ascontiguousarray(array)).long()
    if len(tensor) and int(tensor.min()) < 0:
        raise DataError(f"{source} hold a negative class id ({int(tensor.min())})")
    return tensor


def _take(
    images: torch.Tensor, labels: torch.Tensor, indices: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor]:
    index = torch.from_numpy(indices.astype(np.int64))
    return images[index], labels[index]


def split_off(
    count: int, ratio: float | None, rng: np.random.Generator, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(count)`` and cut off ``ceil(ratio * count)``: (kept, cut) indices.

    Raises
    ------
    DataError
        A ratio outside [0, 1), or one that leaves nothing to keep.

    """
    if ratio is None or ratio == 0:
        return np.arange(count), np.arange(0)
    if isinstance(ratio, bool) or not 0 < ratio < 1:
        raise DataError(f"{name} must be between 0 and 1 (exclusive), not {ratio!r}")
    n_cut = math.ceil(round(ratio * count, 9))
    if n_cut >= count:
        raise DataError(
            f"{name}={ratio} of {count} images leaves none to train on",
            hint=f"lower {name} or give more images",
        )
    order = rng.permutation(count)
    return order[: count - n_cut], order[count - n_cut :]


class ImageArrayDataset(Dataset):
    """An image classification dataset over arrays already in memory.

    Examples are ``(image, label)``: a float tensor ``[C x H x W]`` in
    [0, 1] and an int64 scalar. Missing validation or test splits can be
    drawn from the training images with ``val_ratio`` and ``test_ratio``
    (the test split first, then the validation split from the rest), after
    shuffling with a generator seeded by ``seed``.

    Parameters
    ----------
    train_images : array-like
        ``[N x H x W]`` or ``[N x C x H x W]`` (``channels_last`` for
        ``[N x H x W x C]``); integers are read as 0-255, floats as [0, 1].
    train_labels : array-like
        ``[N]`` integer class ids.
    val_images, val_labels, test_images, test_labels : array-like, optional
        The other splits, in the same layout.
    val_ratio : float, optional
        Draw the validation split from the training images (only when
        ``val_images`` is not given).
    test_ratio : float, optional
        Draw the test split from the training images (only when
        ``test_images`` is not given).
    seed : int, optional
        Seed of the shuffling before the splits are drawn: the same seed
        gives the same splits. None draws a fresh one.
    channels_last : bool
        4-D arrays are ``[N x H x W x C]``.
    augment : ImageAugmentation, optional
        Applied to training images each time they are read (off by default).

    Attributes
    ----------
    num_classes : int
        One more than the largest label of any split.
    num_channels : int
        Channels of the images.
    image_size : tuple of int
        ``(H, W)``.

    Raises
    ------
    DataError
        Images and labels of different counts, splits with different image
        shapes, a ratio given together with the split it would draw.

    """

    def __init__(
        self,
        train_images: Any,
        train_labels: Any,
        val_images: Any = None,
        val_labels: Any = None,
        test_images: Any = None,
        test_labels: Any = None,
        val_ratio: float | None = None,
        test_ratio: float | None = None,
        seed: int | None = None,
        channels_last: bool = False,
        augment: ImageAugmentation | None = None,
    ) -> None:
        super().__init__()
        self._init_splits(
            train_images,
            train_labels,
            val_images,
            val_labels,
            test_images,
            test_labels,
            val_ratio,
            test_ratio,
            seed,
            channels_last,
            augment,
        )

    def _init_splits(
        self,
        train_images: Any,
        train_labels: Any,
        val_images: Any,
        val_labels: Any,
        test_images: Any,
        test_labels: Any,
        val_ratio: float | None,
        test_ratio: float | None,
        seed: int | None,
        channels_last: bool,
        augment: ImageAugmentation | None,
    ) -> None:
        """Check, split and convert the arrays (shared by subclasses)."""
        for name, images, labels in (
            ("val", val_images, val_labels),
            ("test", test_images, test_labels),
        ):
            if (images is None) != (labels is None):
                given, missing = ("images", "labels") if labels is None else ("labels", "images")
                raise DataError(
                    f"{name}_{given} is given without {name}_{missing}",
                    hint="give both, or neither",
                )
        if val_images is not None and val_ratio:
            raise DataError(
                "val_ratio draws a validation split, but val_images is given",
                hint="give either val_images or val_ratio",
            )
        if test_images is not None and test_ratio:
            raise DataError(
                "test_ratio draws a test split, but test_images is given",
                hint="give either test_images or test_ratio",
            )
        self.seed = seed
        self.augment = augment
        images = to_image_tensor(train_images, channels_last, "train_images")
        labels = to_label_tensor(train_labels, len(images), "train_labels")
        rng = np.random.default_rng(seed)
        splits = {}
        rest, cut = split_off(len(images), test_ratio, rng, "test_ratio")
        if test_images is not None:
            test = to_image_tensor(test_images, channels_last, "test_images")
            splits["test"] = (test, to_label_tensor(test_labels, len(test), "test_labels"))
        else:
            splits["test"] = _take(images, labels, cut)
        images, labels = _take(images, labels, rest)
        kept, cut = split_off(len(images), val_ratio, rng, "val_ratio")
        if val_images is not None:
            val = to_image_tensor(val_images, channels_last, "val_images")
            splits["val"] = (val, to_label_tensor(val_labels, len(val), "val_labels"))
        else:
            splits["val"] = _take(images, labels, cut)
        splits["train"] = _take(images, labels, kept)
        shape = tuple(splits["train"][0].shape[1:])
        for name in ("val", "test"):
            other = tuple(splits[name][0].shape[1:])
            if len(splits[name][0]) and other != shape:
                raise DataError(
                    f"the {name} images are {other} but the training images are "
                    f"{shape} (C x H x W)",
                    hint="every split needs one image shape",
                )
        self._splits = {
            name: ImageSplit(*splits[name], augment=augment if name == "train" else None, name=name)
            for name in ("train", "val", "test")
        }
        self.num_channels, height, width = shape
        self.image_size = (height, width)
        largest = [int(s.labels.max()) for s in self._splits.values() if len(s)]
        self.num_classes = max(largest) + 1 if largest else 0

    @property
    def train(self) -> ImageSplit:
        """The training examples (augmented when the dataset has an augmentation)."""
        return self._splits["train"]

    @property
    def val(self) -> ImageSplit:
        """The validation examples (empty when there are none)."""
        return self._splits["val"]

    @property
    def test(self) -> ImageSplit:
        """The test examples (empty when there are none)."""
        return self._splits["test"]

    # the arrays of each split, by the names of the original MNISTDataset
    @property
    def train_images(self) -> torch.Tensor:
        """The training images ``[N x C x H x W]`` (not augmented)."""
        return self.train.images

    @property
    def train_labels(self) -> torch.Tensor:
        """The training labels ``[N]``."""
        return self.train.labels

    @property
    def val_images(self) -> torch.Tensor:
        """The validation images."""
        return self.val.images

    @property
    def val_labels(self) -> torch.Tensor:
        """The validation labels."""
        return self.val.labels

    @property
    def test_images(self) -> torch.Tensor:
        """The test images."""
        return self.test.images

    @property
    def test_labels(self) -> torch.Tensor:
        """The test labels."""
        return self.test.labels

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(split)}" for name, split in self._splits.items())
        return f"{type(self).__name__}({sizes}, image {self.num_channels}x{self.image_size})"


def get_dataset(images: Any, labels: Any) -> list[Example]:
    """The list of ``(image [1 x H x W] in [0, 1], int64 label)`` examples of arrays.

    Parameters
    ----------
    images : array-like
        ``[N x H x W]`` or ``[N x C x H x W]`` images (integers as 0-255).
    labels : array-like
        ``[N]`` integer labels.

    """
    tensor = to_image_tensor(images)
    return list(zip(tensor, to_label_tensor(labels, len(tensor)), strict=True))
