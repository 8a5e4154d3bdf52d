"""``LanguageModel``: next-token prediction over batch-first sequences."""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from flambe.errors import DataError
from flambe.nn.module import Module


def _find_weight(root: nn.Module, path: str) -> nn.Parameter:
    """The ``weight`` of the module at dotted ``path`` under ``root``.

    A flambe ``Embeddings`` is followed to its ``token_embedding``.
    """
    obj: Any = root
    for part in path.split(".") if path else []:
        if not hasattr(obj, part):
            raise DataError(
                f"LanguageModel: tie_weight_attr {path!r}: "
                f"{type(obj).__name__} has no attribute {part!r}"
            )
        obj = getattr(obj, part)
    if not isinstance(getattr(obj, "weight", None), nn.Parameter) and hasattr(
        obj, "token_embedding"
    ):
        obj = obj.token_embedding
    weight = getattr(obj, "weight", None)
    if not isinstance(weight, nn.Parameter):
        raise DataError(
            f"LanguageModel: {path!r} of the embedder ({type(obj).__name__}) has no weight to tie",
            hint="point tie_weight_attr at an embedding",
        )
    return weight


def _output_linear(layer: nn.Module) -> nn.Module:
    """The module of ``layer`` whose weight is tied: itself, or its last ``nn.Linear``."""
    if isinstance(getattr(layer, "weight", None), nn.Parameter):
        return layer
    linears = [m for m in layer.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise DataError(
            f"LanguageModel: the output layer ({type(layer).__name__}) has no weight to tie",
            hint="use a torch.Linear output layer",
        )
    return linears[-1]


class LanguageModel(Module):
    """Predicts every next token of batch-first sequences.

    Parameters
    ----------
    embedder : nn.Module
        Encodes token ids [B x S] to [B x S x H] (an ``Embedder`` with an
        ``RNNEncoder``, without pooling); the first element is used when
        it returns a tuple.
    output_layer : nn.Module
        Maps [.. x H] to scores over the vocabulary [.. x V] (a
        ``torch.Linear`` for logits, with ``CrossEntropyLoss`` and
        ``Perplexity``).
    dropout : float
        Dropout before the output layer.
    pad_index : int
        Target positions holding this id are left out of the predictions.
    tie_weights : bool
        Share the embedding matrix with the output layer's weight (their
        sizes must match: H = E).
    tie_weight_attr : str
        Dotted path, from the embedder, of the embedding to tie
        (``embedding``; a flambe ``Embeddings`` is followed to its
        ``token_embedding``).

    """

    def __init__(
        self,
        embedder: nn.Module,
        output_layer: nn.Module,
        dropout: float = 0,
        pad_index: int = 0,
        tie_weights: bool = False,
        tie_weight_attr: str = "embedding",
    ) -> None:
        super().__init__()
        self.embedder = embedder
        self.output_layer = output_layer
        self.drop = nn.Dropout(dropout)
        self.pad_index = pad_index
        self.tie_weights = tie_weights
        self.tie_weight_attr = tie_weight_attr
        if tie_weights:
            weight = _find_weight(embedder, tie_weight_attr)
            linear = _output_linear(output_layer)
            shape = cast(nn.Parameter, linear.weight).shape  # _output_linear checked it
            if shape != weight.shape:
                raise DataError(
                    f"LanguageModel: cannot tie an output weight of shape "
                    f"{tuple(shape)} to an embedding of shape "
                    f"{tuple(weight.shape)}",
                    hint="the encoder's output size must equal the embedding size "
                    "and the output size the vocabulary size",
                )
            linear.weight = weight

    def forward(
        self, data: torch.Tensor, target: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Score the next token at every position of ``data`` [B x S].

        Returns
        -------
        Without ``target``: the scores [B x S x V]. With ``target`` [B x S]:
        ``(scores [N x V], targets [N])`` for the N positions whose target
        is not ``pad_index`` (padding does not count in the loss).

        """
        encoding = self.embedder(data)
        if isinstance(encoding, tuple):
            encoding = encoding[0]
        if target is None:
            return self.output_layer(self.drop(encoding))
        mask = target != self.pad_index
        flat = encoding[mask]
        return self.output_layer(self.drop(flat)), target[mask]
