"""The module of the original documentation's custom-code example (section 14.2)."""

from my_module.dataset import MyDataset

__all__ = ["MyDataset"]
