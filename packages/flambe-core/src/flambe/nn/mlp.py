"""A multi-layer feed-forward network."""

from __future__ import annotations

import torch
from torch import nn

from flambe.compile import alias
from flambe.nn.module import Module


@alias("MLPEncoder")  # the tag it dumps with (the top-most alias)
@alias("MLPDecoder")  # the original documentation's name
class MLPEncoder(Module):
    """A stack of ``n_layers`` linear layers.

    Parameters
    ----------
    input_size : int
        Input feature size.
    output_size : int
        Output feature size.
    n_layers : int
        Number of linear layers (at least 1).
    dropout : float
        Dropout after each hidden layer (only with ``n_layers > 1``).
    output_activation : nn.Module, optional
        Applied to the output of the last layer.
    hidden_size : int, optional
        Size of the hidden layers; ``input_size`` by default.
    hidden_activation : nn.Module, optional
        Applied after each hidden layer.

    Attributes
    ----------
    seq : nn.Sequential
        The layers, activations and dropouts in order.

    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        n_layers: int = 1,
        dropout: float = 0.0,
        output_activation: nn.Module | None = None,
        hidden_size: int | None = None,
        hidden_activation: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"MLPEncoder needs n_layers >= 1, got {n_layers}")
        self.input_size, self.output_size = input_size, output_size
        hidden_size = hidden_size or input_size
        layers: list[nn.Module] = []
        previous = input_size
        for _ in range(n_layers - 1):
            layers.append(nn.Linear(previous, hidden_size))
            if hidden_activation is not None:
                layers.append(hidden_activation)
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            previous = hidden_size
        layers.append(nn.Linear(previous, output_size))
        if output_activation is not None:
            layers.append(output_activation)
        self.seq = nn.Sequential(*layers)

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        """Map ``data`` [*, input_size] to [*, output_size]."""
        return self.seq(data)
