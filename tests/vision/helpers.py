"""Shared helpers of the vision tests: the local MNIST files and crafted IDX files.

``MNIST``, ``IMAGES`` and ``LABELS`` are the real MNIST test files of the
shared data folder, which a machine with only the repository does not have:
a test that reads them is marked ``@needs_mnist``, and skips, saying why,
when they are absent (CI, which has them, fails instead).
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO_ROOT, SHARED_DATA

ROOT = REPO_ROOT
MNIST = SHARED_DATA / "mnist"
IMAGES = MNIST / "t10k-images-idx3-ubyte.gz"
LABELS = MNIST / "t10k-labels-idx1-ubyte.gz"

# for tests that read IMAGES, LABELS or MNIST: skip when the shared data is absent
needs_mnist = pytest.mark.usefixtures("mnist_folder")


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """The IDX encoding of ``array`` (big-endian values of the given type code)."""
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    header = struct.pack(">HBB", 0, type_code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=dtypes[type_code]).tobytes()


def write_idx(path: Path, array: np.ndarray, gzipped: bool = True) -> Path:
    """Write ``array`` as an IDX file (gzipped by default); returns ``path``."""
    data = idx_bytes(np.asarray(array))
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def mnist_like(count: int, seed: int = 0, shape: Sequence[int] = (28, 28)):
    """Random uint8 images and labels 0-9 in MNIST's layout."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, *shape), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count, dtype=np.uint8)
    return images, labels
