"""The IDX format: parsing, gzipped or not, and clear errors naming the file."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from flambe.errors import DataError
from flambe.vision.classification import MNISTDataset
from flambe.vision.classification.idx import parse_idx, read_idx
from tests.vision.helpers import IMAGES, LABELS, idx_bytes, mnist_like, needs_mnist, write_idx


def test_parse_idx_of_a_synthetic_buffer():
    # SPEC 127: magic 0x00000803, dims 2,3,3, 18 uint8 values
    values = bytes(range(18))
    data = (
        bytes.fromhex("00000803")
        + (2).to_bytes(4, "big")
        + (3).to_bytes(4, "big")
        + (3).to_bytes(4, "big")
        + values
    )
    array = MNISTDataset._parse_idx(data)
    assert array.shape == (2, 3, 3) and array.dtype == np.uint8
    assert array.ravel().tolist() == list(range(18))


@pytest.mark.parametrize(
    "type_code,dtype",
    [
        (0x08, np.uint8),
        (0x09, np.int8),
        (0x0B, np.int16),
        (0x0C, np.int32),
        (0x0D, np.float32),
        (0x0E, np.float64),
    ],
)
def test_every_idx_type_reads_big_endian_values_in_native_order(type_code, dtype):
    original = np.arange(-3, 9).reshape(3, 4)
    if dtype == np.uint8:
        original = original + 3
    array = parse_idx(idx_bytes(original, type_code))
    assert array.dtype == np.dtype(dtype) and array.dtype.isnative
    assert np.array_equal(array, original.astype(dtype))
    assert MNISTDataset.data_type[type_code].newbyteorder("=") == np.dtype(dtype)


@needs_mnist
def test_the_local_mnist_files_parse():
    images = read_idx(str(IMAGES), (0x08, 3), "images")
    labels = MNISTDataset._parse_local_gzipped_idx(str(LABELS))
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0


def test_gzipped_and_plain_files_read_the_same(tmp_path):
    images, _ = mnist_like(5)
    plain = read_idx(str(write_idx(tmp_path / "a-idx3-ubyte", images, gzipped=False)))
    zipped = read_idx(str(write_idx(tmp_path / "a-idx3-ubyte.gz", images)))
    assert np.array_equal(plain, images) and np.array_equal(zipped, images)


def test_truncated_data_names_the_file(tmp_path):
    images, _ = mnist_like(4)
    data = idx_bytes(images)
    path = tmp_path / "cut-images.gz"
    path.write_bytes(gzip.compress(data[:-10]))
    with pytest.raises(DataError, match="truncated") as error:
        read_idx(str(path))
    assert str(path) in str(error.value) and "(4, 28, 28)" in str(error.value)


def test_a_header_cut_short_and_an_empty_file_are_errors(tmp_path):
    short = tmp_path / "short"
    short.write_bytes(bytes.fromhex("00000803") + (2).to_bytes(4, "big"))
    with pytest.raises(DataError, match=f"{short} is truncated: its header announces 3"):
        read_idx(str(short))
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=f"{empty} is not an IDX file"):
        read_idx(str(empty))


def test_trailing_bytes_are_corrupt(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros((2, 2), np.uint8)) + b"\x00\x01")
    with pytest.raises(DataError, match=f"{path} is corrupt"):
        read_idx(str(path))


def test_a_file_that_is_no_idx_names_its_magic_number(tmp_path):
    page = tmp_path / "train-images-idx3-ubyte.gz"
    page.write_bytes(gzip.compress(b"<html><body>Forbidden</body></html>"))
    with pytest.raises(DataError) as error:
        read_idx(str(page))
    assert str(page) in str(error.value) and "0x3C68746D" in str(error.value)
    assert "HTML" in error.value.hint


def test_a_broken_gzip_stream_names_the_file(tmp_path):
    images, _ = mnist_like(50)
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_bytes(images))[:200])
    with pytest.raises(DataError, match=f"{path} is a corrupt or truncated gzip file"):
        read_idx(str(path))


def test_swapped_images_and_labels_files_are_refused_by_magic_number(tmp_path):
    images, labels = mnist_like(6)
    image_file = write_idx(tmp_path / "images.gz", images)
    label_file = write_idx(tmp_path / "labels.gz", labels)
    with pytest.raises(DataError) as error:
        MNISTDataset.from_path(str(label_file), str(image_file))
    message = str(error.value)
    assert str(label_file) in message and "0x00000801" in message and "0x00000803" in message
    assert "swapped" in error.value.hint


def test_image_and_label_counts_that_disagree_name_both_files(tmp_path):
    images, labels = mnist_like(6)
    image_file = write_idx(tmp_path / "images.gz", images)
    label_file = write_idx(tmp_path / "labels.gz", labels[:5])
    with pytest.raises(DataError) as error:
        MNISTDataset.from_path(str(image_file), str(label_file))
    assert f"{image_file} has 6 images but {label_file} has 5 labels" in str(error.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path / 'nope.gz'} does not exist"):
        MNISTDataset.from_path(str(tmp_path / "nope.gz"), str(LABELS))
