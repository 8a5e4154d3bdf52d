"""Image classification datasets: MNIST, images in memory (and folders of image files).

``MNISTDataset`` reads the original IDX files, from arrays you give, from
local files, or downloaded once into the Flambé home folder.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from flambe.compile.registrable import registrable_factory
from flambe.errors import DataError
from flambe.vision.classification.arrays import ImageArrayDataset, get_dataset
from flambe.vision.classification.augment import ImageAugmentation
from flambe.vision.classification.idx import DATA_TYPES, parse_idx, read_idx

__all__ = ["MNISTDataset", "ImageArrayDataset", "get_dataset"]

_IMAGES = (0x08, 3)  # magic 0x00000803: 3-D uint8
_LABELS = (0x08, 1)  # magic 0x00000801: 1-D uint8


def mnist_cache_folder() -> str:
    """Where downloaded MNIST files are kept: ``<Flambé home>/cache/mnist``."""
    from flambe.utils.paths import flambe_home

    return os.path.join(str(flambe_home()), "cache", "mnist")


class MNISTDataset(ImageArrayDataset):
    """The MNIST handwritten digits: 28x28 grey images of the digits 0-9.

    Examples are ``(image, label)``: a float tensor ``[1 x 28 x 28]`` with
    values in [0, 1] and an int64 scalar. Each array not given is read from
    its original IDX file (``train-images-idx3-ubyte.gz`` and so on): from
    ``folder`` when the file is there (gzipped or not), else from the
    download cache, ``<Flambé home>/cache/mnist``, downloading it there
    first from :attr:`URL` (or a mirror) when ``download`` is true.

    The validation split is drawn from the training images (``val_ratio``),
    and with ``test_ratio`` so is the test split (the test files are then
    not needed): one file set can be split into train, val and test.

    Parameters
    ----------
    train_images, train_labels, test_images, test_labels : np.ndarray, optional
        The arrays (images ``[N x 28 x 28]`` uint8 0-255, labels ``[N]``).
    val_ratio : float, optional
        The share of the training images that forms the validation split
        (default 0.2; 0 or None: no validation split).
    seed : int, optional
        Seed of the shuffling before the splits are drawn.
    test_ratio : float, optional
        Draw the test split from the training images instead of reading the
        test files.
    folder : str, optional
        A folder holding (some of) the original files.
    download : bool
        Download the files found neither in ``folder`` nor in the cache.
    augment : ImageAugmentation, optional
        Applied to the training images each time they are read (off by default).

    Raises
    ------
    DataError
        A corrupt, truncated or mismatching IDX file (named), image and label
        files of different counts (both named), a missing file that may not
        or could not be downloaded.

    """

    URL = "http://yann.lecun.com/exdb/mnist/"
    #: tried in order after :attr:`URL`, which often refuses downloads
    MIRRORS: tuple[str, ...] = ("https://ossci-datasets.s3.amazonaws.com/mnist/",)
    FILES: dict[str, str] = {
        "train_images": "train-images-idx3-ubyte.gz",
        "train_labels": "train-labels-idx1-ubyte.gz",
        "test_images": "t10k-images-idx3-ubyte.gz",
        "test_labels": "t10k-labels-idx1-ubyte.gz",
    }
    #: IDX type code -> numpy dtype (big-endian, as stored)
    data_type = DATA_TYPES

    def __init__(
        self,
        train_images: np.ndarray | None = None,
        train_labels: np.ndarray | None = None,
        test_images: np.ndarray | None = None,
        test_labels: np.ndarray | None = None,
        val_ratio: float | None = 0.2,
        seed: int | None = None,
        test_ratio: float | None = None,
        folder: str | None = None,
        download: bool = True,
        augment: ImageAugmentation | None = None,
    ) -> None:
        given = {
            "train_images": train_images,
            "train_labels": train_labels,
            "test_images": test_images,
            "test_labels": test_labels,
        }
        if test_ratio:
            if test_images is not None or test_labels is not None:
                raise DataError(
                    "test_ratio draws the test split from the training images, but "
                    "test arrays are given",
                    hint="give test arrays or test_ratio",
                )
            del given["test_images"], given["test_labels"]
        sources: dict[str, str] = {}
        arrays: dict[str, np.ndarray] = {}
        for key, value in given.items():
            if value is None:
                path = self._locate(key, folder, download)
                arrays[key] = read_idx(
                    path, _IMAGES if key.endswith("images") else _LABELS, key.split("_")[1]
                )
                sources[key] = path
            else:
                arrays[key] = np.asarray(value)
                sources[key] = key
        for split in ("train", "test"):
            if split + "_images" in arrays:
                _check_counts(
                    arrays[split + "_images"],
                    arrays[split + "_labels"],
                    sources[split + "_images"],
                    sources[split + "_labels"],
                )
        super().__init__(
            arrays["train_images"],
            arrays["train_labels"],
            test_images=arrays.get("test_images"),
            test_labels=arrays.get("test_labels"),
            val_ratio=val_ratio,
            test_ratio=test_ratio,
            seed=seed,
            augment=augment,
        )

    # -- local files ----------------------------------------------------------------------
    @registrable_factory
    @classmethod
    def from_path(
        cls,
        train_images_path: str,
        train_labels_path: str,
        test_images_path: str | None = None,
        test_labels_path: str | None = None,
        val_ratio: float | None = 0.2,
        seed: int | None = None,
        test_ratio: float | None = None,
        augment: ImageAugmentation | None = None,
    ) -> MNISTDataset:
        """Read local IDX files, gzipped or not (``!MNISTDataset.from_path``).

        Parameters
        ----------
        train_images_path, train_labels_path : str
            The training images and labels.
        test_images_path, test_labels_path : str, optional
            The test images and labels; without them the test split is
            drawn with ``test_ratio``, or empty.
        val_ratio, seed, test_ratio, augment
            As for the constructor.

        Raises
        ------
        DataError
            As for the constructor; also one test path given without the other.

        """
        if (test_images_path is None) != (test_labels_path is None):
            raise DataError(
                "test_images_path and test_labels_path go together", hint="give both, or neither"
            )
        if test_images_path is not None and test_ratio:
            raise DataError(
                "test_ratio draws the test split from the training images, but "
                "test files are given",
                hint="give test files or test_ratio",
            )
        train_images = read_idx(train_images_path, _IMAGES, "images")
        train_labels = read_idx(train_labels_path, _LABELS, "labels")
        _check_counts(train_images, train_labels, train_images_path, train_labels_path)
        if test_images_path is not None and test_labels_path is not None:  # both, or neither
            test_images = read_idx(test_images_path, _IMAGES, "images")
            test_labels = read_idx(test_labels_path, _LABELS, "labels")
            _check_counts(test_images, test_labels, test_images_path, test_labels_path)
        elif test_ratio:
            return cls(
                train_images,
                train_labels,
                val_ratio=val_ratio,
                seed=seed,
                test_ratio=test_ratio,
                download=False,
                augment=augment,
            )
        else:  # no test split
            test_images = np.zeros((0, *train_images.shape[1:]), dtype=np.uint8)
            test_labels = np.zeros((0,), dtype=np.uint8)
        return cls(
            train_images,
            train_labels,
            test_images,
            test_labels,
            val_ratio=val_ratio,
            seed=seed,
            download=False,
            augment=augment,
        )

    @classmethod
    def _parse_local_gzipped_idx(cls, path: str) -> np.ndarray:
        """Parse a local IDX file (gzipped or not)."""
        return read_idx(path)

    @classmethod
    def _parse_downloaded_idx(cls, url: str) -> np.ndarray:
        """Parse the IDX file at ``url``, downloaded once into the cache folder."""
        name = url.rstrip("/").rsplit("/", 1)[-1]
        base = url[: len(url.rstrip("/")) - len(name)]
        return read_idx(cls._fetch(name, [base]))

    @classmethod
    def _parse_idx(cls, data: bytes) -> np.ndarray:
        """Parse the bytes of an uncompressed IDX file."""
        return parse_idx(data)

    # -- finding and downloading the original files -----------------------------------------
    @classmethod
    def _locate(cls, key: str, folder: str | None, download: bool) -> str:
        """The local path of the file of ``key``: in ``folder``, the cache, or downloaded."""
        name = cls.FILES[key]
        searched: list[str] = []
        for place in ([folder] if folder else []) + [mnist_cache_folder()]:
            for candidate in (name, name[:-3]):
                path = os.path.join(os.path.expanduser(place), candidate)
                if os.path.isfile(path):
                    return path
            searched.append(place)
        if folder and not os.path.isdir(os.path.expanduser(folder)):
            raise DataError(f"MNIST folder {folder} does not exist", hint="fix 'folder'")
        if not download:
            raise DataError(
                f"{name} (MNIST {key.replace('_', ' ')}) is in none of "
                f"{', '.join(searched)}, and download is off",
                hint=f"put the file in 'folder', or set download: true to fetch it from {cls.URL}",
            )
        return cls._fetch(name, [cls.URL, *cls.MIRRORS])

    @classmethod
    def _fetch(cls, name: str, bases: list[str]) -> str:
        """Download ``name`` from the first base URL that serves a valid IDX file.

        The file goes to the cache folder through a temporary name, so an
        interrupted download never leaves a broken file behind.

        """
        from flambe.storage import get_backend, scheme_of

        cache = mnist_cache_folder()
        target = os.path.join(cache, name)
        if os.path.isfile(target):
            return target
        os.makedirs(cache, exist_ok=True)
        failures = []
        for base in bases:
            url = base.rstrip("/") + "/" + name
            handle, partial = tempfile.mkstemp(prefix=name + ".", suffix=".part", dir=cache)
            os.close(handle)
            try:
                get_backend(scheme_of(url)).download(url, partial)
                read_idx(partial)  # refuse an error page or a cut-off file
            except Exception as exc:  # try the next location
                failures.append(f"{url}: {exc}")
                _remove(partial)
                continue
            os.replace(partial, target)
            return target
        raise DataError(
            f"could not download {name}: " + "; ".join(failures),
            hint=f"download {name} by hand and pass its folder as 'folder'",
        )


def _check_counts(
    images: np.ndarray, labels: np.ndarray, images_source: str, labels_source: str
) -> None:
    if len(images) != len(labels):
        raise DataError(
            f"{images_source} has {len(images)} images but {labels_source} has "
            f"{len(labels)} labels",
            hint="use the labels file that goes with the images file",
        )


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
