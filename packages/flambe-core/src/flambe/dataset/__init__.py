"""Datasets: the train, validation and test examples of an experiment.

``Dataset`` is the interface; ``TabularDataset`` holds tables (in memory
or loaded from csv/tsv files) and applies fields to their columns lazily.
"""

from flambe.dataset.dataset import Dataset
from flambe.dataset.tabular import DataView, TabularDataset

__all__ = ["Dataset", "DataView", "TabularDataset"]
