"""Mixture of softmaxes (Yang et al., 2018)."""

from __future__ import annotations

import torch
from torch import nn

from flambe.nn.module import Module


class MixtureOfSoftmax(Module):
    """An output layer mixing ``k`` softmax distributions.

    The mixture weights are a softmax over ``k`` of a linear map of the
    input; component ``i`` is a softmax over the outputs of a linear map of
    a tanh projection of the input.

    Parameters
    ----------
    input_size : int
        Input feature size.
    output_size : int
        Size of the output distribution (e.g. the vocabulary).
    k : int
        Number of mixture components.
    take_log : bool
        Return log-probabilities.

    Attributes
    ----------
    pi_w : nn.Linear
        Mixture-weight logits, input_size to k.
    layers : nn.ModuleList
        One ``Sequential(Linear, Tanh, Linear)`` per component.

    """

    def __init__(
        self, input_size: int, output_size: int, k: int = 1, take_log: bool = True
    ) -> None:
        super().__init__()
        if k < 1:
            raise ValueError(f"MixtureOfSoftmax needs k >= 1, got {k}")
        self.k, self.take_log = k, take_log
        self.pi_w = nn.Linear(input_size, k)
        self.layers = nn.ModuleList(
            nn.Sequential(
                nn.Linear(input_size, input_size), nn.Tanh(), nn.Linear(input_size, output_size)
            )
            for _ in range(k)
        )

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        """Map ``data`` [*, input_size] to a distribution [*, output_size]."""
        log_pi = torch.log_softmax(self.pi_w(data), dim=-1)  # [*, k]
        log_components = torch.stack(
            [torch.log_softmax(layer(data), dim=-1) for layer in self.layers], dim=-2
        )  # [*, k, V]
        log_mixture = torch.logsumexp(log_pi.unsqueeze(-1) + log_components, dim=-2)
        return log_mixture if self.take_log else log_mixture.exp()
