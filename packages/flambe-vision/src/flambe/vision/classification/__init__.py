"""Image classification: datasets (MNIST, image folders, arrays), augmentation, a classifier.

Importing this package imports torch; ``flambe.vision`` alone does not.
"""

from flambe.vision.classification.arrays import ImageArrayDataset, ImageSplit, get_dataset
from flambe.vision.classification.augment import ImageAugmentation
from flambe.vision.classification.datasets import MNISTDataset
from flambe.vision.classification.image_folder import ImageFolderDataset, MissingDependencyError
from flambe.vision.classification.model import ImageClassifier

__all__ = [
    "MNISTDataset",
    "ImageClassifier",
    "ImageArrayDataset",
    "ImageFolderDataset",
    "ImageAugmentation",
    "ImageSplit",
    "MissingDependencyError",
    "get_dataset",
]
