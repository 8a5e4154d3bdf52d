"""Transformer encoder and decoder (post-LayerNorm, Vaswani et al. 2017), batch first.

Masks follow Flambé's convention: ``padding_mask`` tensors are bool [B x S]
with True for real tokens (inverted here for PyTorch's attention);
``src_mask``/``tgt_mask``/``memory_mask`` are additive float masks
(``-inf`` masked, 0 kept), e.g. :func:`generate_square_subsequent_mask`.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from flambe.nn.module import Module


def generate_square_subsequent_mask(sz: int) -> torch.Tensor:
    """A causal mask [sz x sz]: 0 on and below the diagonal, ``-inf`` above."""
    return torch.triu(torch.full((sz, sz), float("-inf")), diagonal=1)


def _key_padding(padding_mask: torch.Tensor | None) -> torch.Tensor | None:
    """Flambé's keep-mask to PyTorch's key padding mask (True = ignore)."""
    return None if padding_mask is None else ~padding_mask.to(torch.bool)


class _FeedForward(nn.Module):
    def __init__(self, d_model: int, dim_feedforward: int, dropout: float) -> None:
        super().__init__()
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(torch.relu(self.linear1(data))))


class TransformerEncoderLayer(Module):
    """Self-attention then feed-forward, each with residual and LayerNorm (sequence first).

    Parameters
    ----------
    d_model : int
        Model size.
    nhead : int
        Number of attention heads.
    dim_feedforward : int
        Hidden size of the feed-forward block.
    dropout : float
        Dropout probability.

    """

    def __init__(
        self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.feed_forward = _FeedForward(d_model, dim_feedforward, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(
        self,
        src: torch.Tensor,
        memory: torch.Tensor | None = None,
        src_mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Encode ``src`` [S x B x d_model]; ``memory`` is unused."""
        attended = self.self_attn(
            src,
            src,
            src,
            attn_mask=src_mask,
            key_padding_mask=_key_padding(padding_mask),
            need_weights=False,
        )[0]
        src = self.norm1(src + self.dropout1(attended))
        return self.norm2(src + self.dropout2(self.feed_forward(src)))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the memory and feed-forward (sequence first).

    Parameters are those of :class:`TransformerEncoderLayer`.
    """

    def __init__(
        self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.multihead_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.feed_forward = _FeedForward(d_model, dim_feedforward, dropout)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        tgt_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
        memory_key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decode ``tgt`` [T x B x d_model] attending to ``memory`` [S x B x d_model]."""
        attended = self.self_attn(
            tgt,
            tgt,
            tgt,
            attn_mask=tgt_mask,
            key_padding_mask=_key_padding(padding_mask),
            need_weights=False,
        )[0]
        tgt = self.norm1(tgt + self.dropout1(attended))
        attended = self.multihead_attn(
            tgt,
            memory,
            memory,
            attn_mask=memory_mask,
            key_padding_mask=_key_padding(memory_key_padding_mask),
            need_weights=False,
        )[0]
        tgt = self.norm2(tgt + self.dropout2(attended))
        return self.norm3(tgt + self.dropout3(self.feed_forward(tgt)))


def _xavier(module: nn.Module) -> None:
    for p in module.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` encoder layers over batch-first input.

    Parameters
    ----------
    input_size : int
        Feature size of the input; projected to ``d_model`` when different.
    d_model, nhead, dim_feedforward, dropout :
        As for :class:`TransformerEncoderLayer`.
    num_layers : int
        Number of layers.

    """

    def __init__(
        self,
        input_size: int = 512,
        d_model: int = 512,
        nhead: int = 8,
        num_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.input_size, self.d_model = input_size, d_model
        self.proj = nn.Linear(input_size, d_model) if input_size != d_model else None
        layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout)
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(num_layers))
        _xavier(self)

    def forward(
        self,
        src: torch.Tensor,
        memory: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Encode ``src`` [B x S x input_size] to [B x S x d_model].

        ``mask`` is an additive [S x S] mask; ``padding_mask`` [B x S] is True for real tokens.
        """
        output = self.proj(src) if self.proj is not None else src
        output = output.transpose(0, 1)
        for layer in self.layers:
            output = layer(output, memory, src_mask=mask, padding_mask=padding_mask)
        return output.transpose(0, 1)


class TransformerDecoder(Module):
    """A stack of ``num_layers`` decoder layers over batch-first input.

    Parameters are those of :class:`TransformerEncoder`.
    """

    def __init__(
        self,
        input_size: int,
        d_model: int,
        nhead: int,
        num_layers: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.input_size, self.d_model = input_size, d_model
        self.proj = nn.Linear(input_size, d_model) if input_size != d_model else None
        layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout)
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(num_layers))
        _xavier(self)

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        tgt_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
        memory_key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decode ``tgt`` [B x T x input_size] over ``memory`` [B x S x d_model].

        Returns [B x T x d_model]; ``padding_mask`` [B x T] and
        ``memory_key_padding_mask`` [B x S] are True for real tokens.
        """
        output = self.proj(tgt) if self.proj is not None else tgt
        output, memory = output.transpose(0, 1), memory.transpose(0, 1)
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                padding_mask=padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
            )
        return output.transpose(0, 1)


def check_source_and_target(
    name: str, src: torch.Tensor, tgt: torch.Tensor, input_size: int
) -> None:
    """Check that an encoder-decoder's ``src`` and ``tgt`` share batch size and feature size."""
    if src.size(0) != tgt.size(0):
        raise RuntimeError(f"{name}: src has batch size {src.size(0)} but tgt has {tgt.size(0)}")
    if src.size(-1) != input_size or tgt.size(-1) != input_size:
        raise RuntimeError(
            f"{name}: src and tgt must have {input_size} features, "
            f"got {src.size(-1)} and {tgt.size(-1)}"
        )


class Transformer(Module):
    """An encoder-decoder transformer over batch-first sequences.

    Parameters
    ----------
    input_size : int
        Feature size of both ``src`` and ``tgt``.
    d_model, nhead, dim_feedforward, dropout :
        As for :class:`TransformerEncoderLayer`.
    num_encoder_layers, num_decoder_layers : int
        Depth of the encoder and of the decoder.

    """

    def __init__(
        self,
        input_size: int,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.input_size, self.d_model, self.nhead = input_size, d_model, nhead
        self.encoder = TransformerEncoder(
            input_size, d_model, nhead, num_encoder_layers, dim_feedforward, dropout
        )
        self.decoder = TransformerDecoder(
            input_size, d_model, nhead, num_decoder_layers, dim_feedforward, dropout
        )

    def forward(
        self,
        src: torch.Tensor,
        tgt: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        tgt_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
        tgt_key_padding_mask: torch.Tensor | None = None,
        memory_key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Map ``src`` [B x S x input_size] and ``tgt`` [B x T x input_size] to [B x T x d_model].

        Padding masks are [B x S] / [B x T], True for real tokens;
        ``memory_key_padding_mask`` defaults to ``src_key_padding_mask``.
        """
        check_source_and_target("Transformer", src, tgt, self.input_size)
        if memory_key_padding_mask is None:
            memory_key_padding_mask = src_key_padding_mask
        memory = self.encoder(src, mask=src_mask, padding_mask=src_key_padding_mask)
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
        )
