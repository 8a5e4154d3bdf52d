"""A sequence of named modules."""

from __future__ import annotations

from typing import Any

from torch import nn

from flambe.nn.module import Module


class Sequential(Module):
    """Applies named modules in the order they are given.

    Like ``torch.nn.Sequential`` but built from keyword arguments, so that a
    YAML mapping of named modules makes one::

        !Sequential
        linear: !torch.Linear {in_features: 4, out_features: 8}
        relu: !torch.ReLU {}

    Parameters
    ----------
    **kwargs : nn.Module
        The modules, registered as attributes under their keyword names.

    """

    def __init__(self, **kwargs: Module | nn.Module) -> None:
        super().__init__()
        for name, module in kwargs.items():
            if not isinstance(module, nn.Module):
                raise TypeError(
                    f"Sequential argument '{name}' is a {type(module).__name__}, not a torch module"
                )
            self.add_module(name, module)

    def forward(self, data: Any) -> Any:
        """Feed ``data`` through every module in turn."""
        for module in self.children():
            data = module(data)
        return data
