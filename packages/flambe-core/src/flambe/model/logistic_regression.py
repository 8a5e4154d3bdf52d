"""Logistic regression."""

from __future__ import annotations

import torch
from torch import nn

from flambe.nn.mlp import MLPEncoder
from flambe.nn.module import Module


class LogisticRegression(Module):
    """``sigmoid(W v + b)``: the probability that input ``v`` belongs to the positive class.

    Parameters
    ----------
    input_size : int
        Number of features of the input vector.

    Attributes
    ----------
    input_size : int
    encoder : MLPEncoder
        One linear layer followed by a sigmoid.

    """

    def __init__(self, input_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.encoder = MLPEncoder(input_size, 1, n_layers=1, output_activation=nn.Sigmoid())

    def forward(
        self, data: torch.Tensor, target: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Probabilities [B x 1] for ``data`` [B x input_size] (with ``target`` as floats)."""
        probabilities = self.encoder(data)
        if target is None:
            return probabilities
        return probabilities, target.float()
