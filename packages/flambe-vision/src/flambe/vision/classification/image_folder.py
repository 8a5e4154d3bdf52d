"""``ImageFolderDataset``: your own images, one folder per class, read with Pillow.

Pillow is an optional dependency: ``pip install 'flambe-vision[images]'``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from flambe.errors import DataError, FlambeError
from flambe.vision.classification.arrays import ImageArrayDataset
from flambe.vision.classification.augment import ImageAugmentation

#: file name endings read as images (compared in lower case)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


class MissingDependencyError(FlambeError, ImportError):
    """An optional package that a class needs is not installed."""


def import_pillow() -> Any:
    """``PIL.Image``, or a clear error saying how to install Pillow."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise MissingDependencyError(
            "ImageFolderDataset reads image files with Pillow, which is not installed",
            hint="pip install 'flambe-vision[images]' (or pip install Pillow)",
        ) from exc
    return Image


class ImageFolderDataset(ImageArrayDataset):
    """Images in folders, one subfolder per class (named after the class).

    ::

        train/cat/1.png  train/cat/2.png  train/dog/a.jpg ...
        test/cat/9.png ...

    Class ids follow the sorted names of the class folders of
    ``train_path``; ``val_path`` and ``test_path`` hold folders with the
    same names (some may be missing). Files are read in name order; files
    with other endings than :data:`IMAGE_EXTENSIONS` and hidden files are
    left out. Every image is read when the dataset is built and kept in
    memory as ``[C x H x W]`` floats in [0, 1].

    Parameters
    ----------
    train_path : str
        The folder of class folders of the training images.
    val_path, test_path : str, optional
        The same for the validation and test images.
    val_ratio, test_ratio : float, optional
        Draw the missing splits from the training images, as in
        :class:`ImageArrayDataset`.
    seed : int, optional
        Seed of the shuffling before the splits are drawn.
    size : int or [height, width], optional
        Resize every image to this size. Without it all images must have
        the same size.
    mode : str, optional
        Pillow mode the images are converted to: ``'L'`` (grey, 1 channel),
        ``'RGB'`` (3) or ``'RGBA'`` (4). By default ``'L'`` when every image
        is grey, else ``'RGB'``.
    augment : ImageAugmentation, optional
        Applied to training images each time they are read (off by default).

    Attributes
    ----------
    classes : List[str]
        The class names; ``classes[label]`` names a label.
    files : Dict[str, List[str]]
        The image files of each split, in the order of its examples
        (before ``val_ratio``/``test_ratio`` draw from the training files).

    Raises
    ------
    MissingDependencyError
        Pillow is not installed.
    DataError
        A folder that does not exist, has no class folders, or a class
        folder with no images (named); a file Pillow cannot read (named);
        images of different sizes without ``size`` (the file named); a
        class folder in ``val_path``/``test_path`` that ``train_path`` lacks.

    """

    def __init__(
        self,
        train_path: str,
        val_path: str | None = None,
        test_path: str | None = None,
        val_ratio: float | None = None,
        test_ratio: float | None = None,
        seed: int | None = None,
        size: int | Sequence[int] | None = None,
        mode: str | None = None,
        augment: ImageAugmentation | None = None,
    ) -> None:
        image_module = import_pillow()
        self.classes = _class_folders(train_path)
        target_size = _size(size)
        if mode is not None and mode not in ("L", "RGB", "RGBA"):
            raise DataError(f"mode must be 'L', 'RGB' or 'RGBA', not {mode!r}")
        listed: dict[str, list[tuple[str, int]]] = {"train": _list_images(train_path, self.classes)}
        for name, path in (("val", val_path), ("test", test_path)):
            if path is not None:
                unknown = sorted(set(_class_folders(path)) - set(self.classes))
                if unknown:
                    raise DataError(
                        f"{path} has class folders {unknown} that {train_path} does not have",
                        hint="every split uses the training split's classes",
                    )
                listed[name] = _list_images(path, self.classes)
        loaded = {
            name: [_open(image_module, file) for file, _ in files] for name, files in listed.items()
        }
        if mode is None:
            every = [image for images in loaded.values() for image in images]
            mode = "L" if all(image.mode in _GREY_MODES for image in every) else "RGB"
        self.mode = mode
        self.files = {name: [file for file, _ in files] for name, files in listed.items()}
        arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        reference: list[Any] = []  # (file, size) of the first image
        for name, images in loaded.items():
            pixels = []
            for (file, _), image in zip(listed[name], images, strict=True):
                image = image.convert(mode)
                if target_size is not None:
                    image = image.resize(
                        (target_size[1], target_size[0]), image_module.Resampling.BILINEAR
                    )
                elif not reference:
                    reference[:] = [file, image.size]
                elif image.size != reference[1]:
                    raise DataError(
                        f"{file} is {image.size[0]}x{image.size[1]} (width x height) "
                        f"but {reference[0]} is {reference[1][0]}x"
                        f"{reference[1][1]}",
                        hint="give 'size' to resize every image to one size",
                    )
                pixels.append(np.asarray(image, dtype=np.uint8))
            labels = np.array([label for _, label in listed[name]], dtype=np.int64)
            arrays[name] = (np.stack(pixels), labels)
        val = arrays.get("val", (None, None))
        test = arrays.get("test", (None, None))
        super().__init__(
            *arrays["train"],
            val_images=val[0],
            val_labels=val[1],
            test_images=test[0],
            test_labels=test[1],
            val_ratio=val_ratio,
            test_ratio=test_ratio,
            seed=seed,
            channels_last=mode != "L",
            augment=augment,
        )
        self.num_classes = len(self.classes)


def _size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        return (size, size)
    if (
        isinstance(size, (list, tuple))
        and len(size) == 2
        and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)
    ):
        return (size[0], size[1])
    raise DataError(f"size must be a positive integer or [height, width], not {size!r}")


def _class_folders(path: str) -> list[str]:
    """The sorted names of the class folders in ``path``."""
    if not os.path.isdir(path):
        raise DataError(
            f"image folder {path} does not exist"
            if not os.path.exists(path)
            else f"{path} is not a folder",
            hint="give a folder of class folders",
        )
    classes = sorted(
        entry.name
        for entry in os.scandir(path)
        if entry.is_dir() and not entry.name.startswith(".")
    )
    if not classes:
        raise DataError(
            f"image folder {path} has no class folders",
            hint="put the images of each class in a subfolder named after the class, "
            "such as train/cat/1.png",
        )
    return classes


def _list_images(path: str, classes: list[str]) -> list[tuple[str, int]]:
    """(file, label) of every image under ``path``, class by class, in name order."""
    files: list[tuple[str, int]] = []
    for label, name in enumerate(classes):
        folder = os.path.join(path, name)
        if not os.path.isdir(folder):
            continue
        images = sorted(
            entry.path
            for entry in os.scandir(folder)
            if entry.is_file()
            and not entry.name.startswith(".")
            and entry.name.lower().endswith(IMAGE_EXTENSIONS)
        )
        if not images:
            raise DataError(
                f"class folder {folder} has no images",
                hint=f"add images ({', '.join(IMAGE_EXTENSIONS)}) or remove the folder",
            )
        files += [(file, label) for file in images]
    return files


def _open(image_module: Any, file: str) -> Any:
    """The decoded image of ``file``; an error naming it when Pillow cannot read it."""
    try:
        with image_module.open(file) as image:
            image.load()
            return image
    except (OSError, ValueError, SyntaxError) as exc:  # UnidentifiedImageError is an OSError
        raise DataError(
            f"{file} cannot be read as an image: {exc}", hint="remove or replace the file"
        ) from exc
