"""``TextClassifier``: an embedder, dropout, and an output layer."""

from __future__ import annotations

import torch
from torch import nn

from flambe.nn.module import Module


class TextClassifier(Module):
    """A standard text classifier: embedder, then dropout, then the output layer.

    Parameters
    ----------
    embedder : nn.Module
        Maps token ids [B x S] to one vector per text [B x H] (e.g. an
        ``Embedder`` with a pooling, or a ``PooledRNNEncoder``); when it
        returns a tuple, its first element is used.
    output_layer : nn.Module
        Maps [B x H] to class scores [B x N] (``SoftmaxLayer`` for
        log-probabilities and ``NLLLoss``).
    dropout : float
        Dropout between the two.

    Attributes
    ----------
    embedder, output_layer : nn.Module
    drop : nn.Dropout

    """

    def __init__(self, embedder: nn.Module, output_layer: nn.Module, dropout: float = 0) -> None:
        super().__init__()
        self.embedder = embedder
        self.output_layer = output_layer
        self.drop = nn.Dropout(dropout)

    def forward(
        self, data: torch.Tensor, target: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Classify ``data`` [B x S]: scores [B x N], paired with ``target`` when given."""
        encoding = self.embedder(data)
        if isinstance(encoding, tuple):
            encoding = encoding[0]
        pred = self.output_layer(self.drop(encoding))
        return (pred, target) if target is not None else pred
