"""The plugin module of flambe-vision, announced under the ``flambe.plugins`` entry point.

It declares its YAML tags (image datasets, encoders, classifiers) as names mapped to
import paths, so that loading a config imports only the classes it uses and
``flambe --help`` imports neither torch nor this plugin's submodules.
"""

from __future__ import annotations

from collections.abc import Mapping

from flambe.plugins import hookimpl

# YAML tag (without "!") -> "module:Class"
TAGS: dict[str, str] = {
    "MNISTDataset": "flambe.vision.classification.datasets:MNISTDataset",
    "ImageArrayDataset": "flambe.vision.classification.arrays:ImageArrayDataset",
    "ImageFolderDataset": "flambe.vision.classification.image_folder:ImageFolderDataset",
    "ImageAugmentation": "flambe.vision.classification.augment:ImageAugmentation",
    "ImageClassifier": "flambe.vision.classification.model:ImageClassifier",
}


@hookimpl
def flambe_tags() -> Mapping[str, str]:
    """Tags provided by flambe-vision."""
    return TAGS
