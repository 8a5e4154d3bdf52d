"""A softmax output layer."""

from __future__ import annotations

import torch
from torch import nn

from flambe.nn.mlp import MLPEncoder
from flambe.nn.module import Module


class SoftmaxLayer(Module):
    """An MLP followed by a (log-)softmax over the last dimension.

    Parameters
    ----------
    input_size : int
        Input feature size.
    output_size : int
        Number of classes.
    mlp_layers : int
        Number of linear layers.
    mlp_dropout : float
        Dropout between the linear layers.
    mlp_hidden_activation : nn.Module, optional
        Activation between the linear layers.
    take_log : bool
        Return log-probabilities (LogSoftmax) instead of probabilities.

    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        mlp_layers: int = 1,
        mlp_dropout: float = 0.0,
        mlp_hidden_activation: nn.Module | None = None,
        take_log: bool = True,
    ) -> None:
        super().__init__()
        self.take_log = take_log
        activation = nn.LogSoftmax(dim=-1) if take_log else nn.Softmax(dim=-1)
        self.mlp = MLPEncoder(
            input_size,
            output_size,
            n_layers=mlp_layers,
            dropout=mlp_dropout,
            output_activation=activation,
            hidden_activation=mlp_hidden_activation,
        )

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        """Map ``data`` [*, input_size] to a distribution [*, output_size]."""
        return self.mlp(data)
