"""ImageFolderDataset: one folder per class, read with Pillow, with clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from flambe.compile import yaml
from flambe.errors import DataError
from flambe.vision.classification import ImageFolderDataset


def _png(path: Path, value, size=(6, 4), mode="L") -> Path:
    """A one-colour image (size is width x height)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)
    return path


@pytest.fixture
def folders(tmp_path):
    train = tmp_path / "train"
    for index in range(3):
        _png(train / "cat" / f"{index}.png", 10 * index)
        _png(train / "dog" / f"{index}.png", 200 + index)
    _png(train / "dog" / "3.jpg", 255)
    (train / "dog" / "notes.txt").write_text("not an image")
    (train / "dog" / ".hidden.png").write_bytes(b"")
    test = tmp_path / "test"
    _png(test / "dog" / "x.png", 255)
    return tmp_path


def test_classes_labels_and_values(folders):
    dataset = ImageFolderDataset(str(folders / "train"), test_path=str(folders / "test"))
    assert dataset.classes == ["cat", "dog"] and dataset.num_classes == 2
    assert dataset.mode == "L" and dataset.num_channels == 1 and dataset.image_size == (4, 6)
    assert [Path(f).name for f in dataset.files["train"]] == [
        "0.png",
        "1.png",
        "2.png",
        "0.png",
        "1.png",
        "2.png",
        "3.jpg",
    ]
    assert dataset.train_labels.tolist() == [0, 0, 0, 1, 1, 1, 1]
    image, label = dataset.train[1]
    assert image.shape == (1, 4, 6) and image.dtype == torch.float32
    assert torch.allclose(image, torch.full((1, 4, 6), 10 / 255))
    assert len(dataset.test) == 1 and dataset.test_labels.tolist() == [1]
    assert float(dataset.test[0][0].max()) == 1.0 and len(dataset.val) == 0


def test_colour_images_give_three_channels_and_resize(tmp_path):
    _png(tmp_path / "a" / "1.png", (255, 0, 0), size=(5, 5), mode="RGB")
    _png(tmp_path / "b" / "1.png", 128, size=(9, 7))
    dataset = ImageFolderDataset(str(tmp_path), size=[8, 10])
    assert dataset.mode == "RGB" and dataset.train_images.shape == (2, 3, 8, 10)
    red = dataset.train[0][0]
    assert torch.allclose(red[0], torch.ones(8, 10)) and float(red[1:].abs().max()) == 0.0
    rgba = ImageFolderDataset(str(tmp_path), size=4, mode="RGBA", val_ratio=0.5, seed=0)
    assert rgba.train_images.shape == (1, 4, 4, 4) and len(rgba.val) == 1


def test_mixed_sizes_without_resize_name_the_file(tmp_path):
    _png(tmp_path / "a" / "1.png", 0, size=(5, 5))
    odd = _png(tmp_path / "b" / "1.png", 0, size=(6, 5))
    with pytest.raises(DataError) as error:
        ImageFolderDataset(str(tmp_path))
    assert str(odd) in str(error.value) and "6x5" in str(error.value)
    assert "size" in error.value.hint


def test_folders_without_images_are_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        ImageFolderDataset(str(tmp_path / "nowhere"))
    _png(tmp_path / "flat" / "1.png", 0)
    with pytest.raises(DataError, match=f"{tmp_path / 'flat'} has no class folders"):
        ImageFolderDataset(str(tmp_path / "flat"))
    _png(tmp_path / "data" / "a" / "1.png", 0)
    (tmp_path / "data" / "b").mkdir()
    (tmp_path / "data" / "b" / "readme.txt").write_text("")
    with pytest.raises(DataError, match=f"class folder {tmp_path / 'data' / 'b'} has no images"):
        ImageFolderDataset(str(tmp_path / "data"))


def test_an_unreadable_image_is_named(tmp_path):
    _png(tmp_path / "a" / "1.png", 0)
    broken = tmp_path / "b" / "2.png"
    broken.parent.mkdir()
    broken.write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match=f"{broken} cannot be read as an image"):
        ImageFolderDataset(str(tmp_path))


def test_a_test_class_unknown_to_train_is_refused(folders):
    _png(folders / "test" / "bird" / "1.png", 0)
    with pytest.raises(DataError, match=r"class folders \['bird'\]"):
        ImageFolderDataset(str(folders / "train"), test_path=str(folders / "test"))


def test_from_yaml(folders):
    dataset = yaml.load(
        f"!ImageFolderDataset {{train_path: {folders / 'train'}, val_ratio: 0.3, seed: 1}}"
    )()
    assert len(dataset.train) + len(dataset.val) == 7 and len(dataset.val) == 3


def test_without_pillow_the_error_says_how_to_install_it(folders):
    code = (
        "import sys; sys.modules['PIL'] = None\n"
        "from flambe.vision.classification import ImageFolderDataset\n"
        "from flambe.vision.classification.image_folder import MissingDependencyError\n"
        "try:\n"
        f"    ImageFolderDataset({str(folders / 'train')!r})\n"
        "except MissingDependencyError as error:\n"
        "    assert isinstance(error, ImportError)\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Pillow, which is not installed" in result.stdout
    assert "pip install 'flambe-vision[images]'" in result.stdout
