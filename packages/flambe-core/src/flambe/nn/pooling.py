"""Pooling over the sequence dimension: ``[B x S x H]`` (+ mask ``[B x S]``) to ``[B x H]``.

Masks follow the sampler convention: True (or 1) marks a real token, and
sequences are right-padded. A missing mask means every position is real.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from flambe.nn.module import Module


def _float_mask(data: torch.Tensor, padding_mask: torch.Tensor | None) -> torch.Tensor:
    """The mask as ``[B x S x 1]`` in ``data``'s dtype (all ones when missing)."""
    if padding_mask is None:
        return torch.ones(data.shape[:2] + (1,), dtype=data.dtype, device=data.device)
    return padding_mask.to(device=data.device, dtype=data.dtype).unsqueeze(-1)


class FirstPooling(Module):
    """The first position of every sequence (the mask is not needed)."""

    def forward(self, data: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Pool ``data`` [B x S x H] to [B x H]."""
        return data[:, 0, :]


class LastPooling(Module):
    """The last real position of every (right-padded) sequence."""

    def forward(self, data: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Pool ``data`` [B x S x H] to [B x H]."""
        if padding_mask is None:
            return data[:, -1, :]
        last = padding_mask.to(device=data.device).long().sum(dim=1).sub(1).clamp(min=0)
        return data[torch.arange(data.size(0), device=data.device), last]


class SumPooling(Module):
    """The sum over the real positions."""

    def forward(self, data: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Pool ``data`` [B x S x H] to [B x H]."""
        return (data * _float_mask(data, padding_mask)).sum(dim=1)


class AvgPooling(Module):
    """The mean over the real positions (zeros for a sequence with none)."""

    def forward(self, data: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Pool ``data`` [B x S x H] to [B x H]."""
        mask = _float_mask(data, padding_mask)
        count = mask.sum(dim=1).clamp(min=1)
        return (data * mask).sum(dim=1) / count


def _attention_mlp(
    input_size: int, units: Sequence[int], heads: int, is_biased: bool, hidden_activation: nn.Module
) -> nn.Sequential:
    layers = []
    previous = input_size
    for size in units:
        layers += [nn.Linear(previous, size, bias=is_biased), hidden_activation]
        previous = size
    layers.append(nn.Linear(previous, heads, bias=False))
    return nn.Sequential(*layers)


class StructuredSelfAttentivePooling(Module):
    """Structured self-attentive pooling (Lin et al., 2017).

    An MLP scores every position for each of ``attention_heads`` heads; the
    scores are normalised over the sequence (padding excluded) and each head
    takes a weighted sum of the inputs; the heads are averaged.

    Parameters
    ----------
    input_size : int
        Feature size H of the input.
    attention_heads : int
        Number of attention heads.
    attention_units : Sequence[int]
        Hidden sizes of the scoring MLP.
    output_activation : nn.Module, optional
        Normalises the scores; softmax over the sequence by default.
    hidden_activation : nn.Module, optional
        Activation of the hidden layers; Tanh by default.
    is_biased : bool
        Whether the hidden layers have a bias (the last layer never has).
    input_dropout : float
        Dropout applied to the input.
    attention_dropout : float
        Dropout applied to the attention scores.

    """

    def __init__(
        self,
        input_size: int,
        attention_heads: int = 16,
        attention_units: Sequence[int] = (300,),
        output_activation: nn.Module | None = None,
        hidden_activation: nn.Module | None = None,
        is_biased: bool = False,
        input_dropout: float = 0.0,
        attention_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_drop = nn.Dropout(input_dropout) if input_dropout > 0 else nn.Identity()
        self.mlp = _attention_mlp(
            input_size,
            list(attention_units),
            attention_heads,
            is_biased,
            hidden_activation
            if hidden_activation is not None
            else self._default_hidden_activation(),
        )
        self.attention_drop = (
            nn.Dropout(attention_dropout) if attention_dropout > 0 else nn.Identity()
        )
        self.output_activation = (
            output_activation if output_activation is not None else nn.Softmax(dim=1)
        )

    @staticmethod
    def _default_hidden_activation() -> nn.Module:
        return nn.Tanh()

    def _attention(self, data: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Attention weights [B x S x heads], zero weight on padding."""
        logits = self.attention_drop(self.mlp(data))
        if mask is not None:
            keep = mask.to(device=data.device, dtype=torch.bool).unsqueeze(-1)
            logits = logits.masked_fill(~keep, torch.finfo(logits.dtype).min)
        return self.output_activation(logits)

    def forward(self, data: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Pool ``data`` [B x S x H] to [B x H]."""
        data = self.in_drop(data)
        attention = self._attention(data, mask)
        # [B x heads x S] @ [B x S x H] -> [B x heads x H], averaged over heads
        return torch.bmm(attention.transpose(1, 2), data).mean(dim=1)


class GeneralizedPooling(StructuredSelfAttentivePooling):
    """Generalized pooling (Chen et al., 2018): one attention head per feature.

    Parameters are those of :class:`StructuredSelfAttentivePooling` without
    ``attention_heads`` (it equals ``input_size``); the hidden activation
    defaults to ReLU and the hidden layers are biased by default.
    """

    def __init__(
        self,
        input_size: int,
        attention_units: Sequence[int] = (300,),
        output_activation: nn.Module | None = None,
        hidden_activation: nn.Module | None = None,
        is_biased: bool = True,
        input_dropout: float = 0.0,
        attention_dropout: float = 0.0,
    ) -> None:
        super().__init__(
            input_size,
            attention_heads=input_size,
            attention_units=attention_units,
            output_activation=output_activation,
            hidden_activation=hidden_activation,
            is_biased=is_biased,
            input_dropout=input_dropout,
            attention_dropout=attention_dropout,
        )

    @staticmethod
    def _default_hidden_activation() -> nn.Module:
        return nn.ReLU()

    def forward(self, data: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Pool ``data`` [B x S x H] to [B x H] (mean over the sequence of A * X)."""
        data = self.in_drop(data)
        attention = self._attention(data, mask)
        return (attention * data).mean(dim=1)
