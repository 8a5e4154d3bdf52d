"""Transformers whose feed-forward block is an SRU cell (Lei et al. 2018), batch first.

Each layer is a post-LayerNorm transformer layer (see
:mod:`flambe.nn.transformer`) whose position-wise feed-forward network is
replaced by an SRU cell ``d_model -> dim_feedforward`` followed by a linear
map back to ``d_model``; the SRU cell carries a state along the sequence,
which the encoder returns and the encoder-decoder hands to its decoder.

Masks follow Flambé's convention: ``padding_mask`` tensors are bool [B x S],
True for real tokens (turned here into PyTorch's key padding mask and into
SRU's sequence-first ``mask_pad``, True for padding); ``src_mask`` /
``tgt_mask`` / ``memory_mask`` are additive float masks. Sequences must be
right-padded. Needs the ``sru`` package (a dependency of flambe-nlp); on CPU
it compiles a small extension with ``ninja`` the first time it is imported.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from typing import Any

import torch
from torch import nn

from flambe.errors import ArgumentError
from flambe.nn.module import Module
from flambe.nn.transformer import check_source_and_target

# SRU warns on every training step on CPU, where it runs its (slower) PyTorch code path
warnings.filterwarnings(
    "ignore", message="Running SRU on CPU with grad_enabled=True", category=UserWarning
)


class SRUArgumentError(ArgumentError, ValueError):
    """An argument the SRU cell does not accept (a ``ValueError`` too)."""


def _sru_cell_class() -> Any:
    try:
        with warnings.catch_warnings():  # it warns when it cannot compile CUDA kernels
            warnings.simplefilter("ignore", UserWarning)
            from sru import SRUCell
    except ImportError as exc:
        raise ImportError("the SRU transformers need the 'sru' package: pip install sru") from exc
    return SRUCell


def _sru_cell(
    owner: str,
    input_size: int,
    hidden_size: int,
    dropout: float,
    sru_dropout: float | None,
    bidirectional: bool,
    kwargs: dict[str, Any],
) -> nn.Module:
    cell_class = _sru_cell_class()
    accepted = set(inspect.signature(cell_class.__init__).parameters) - {
        "self",
        "input_size",
        "hidden_size",
        "dropout",
        "rnn_dropout",
        "bidirectional",
        "has_skip_term",
    }
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise SRUArgumentError(
            f"{owner}: unknown SRU arguments {unknown}",
            hint=f"SRUCell accepts {', '.join(sorted(accepted))}",
        )
    rnn_dropout = dropout if sru_dropout is None else sru_dropout
    return cell_class(
        input_size,
        hidden_size,
        dropout=dropout,
        rnn_dropout=rnn_dropout,
        bidirectional=bidirectional,
        has_skip_term=False,
        **kwargs,
    )


def _key_padding(padding_mask: torch.Tensor | None) -> torch.Tensor | None:
    """Flambé's keep-mask [B x S] to PyTorch's key padding mask (True = ignore)."""
    return None if padding_mask is None else ~padding_mask.to(torch.bool)


def _sru_mask(padding_mask: torch.Tensor | None) -> torch.Tensor | None:
    """Flambé's keep-mask [B x S] to SRU's ``mask_pad`` [S x B] (True = padding)."""
    return None if padding_mask is None else (~padding_mask.to(torch.bool)).transpose(0, 1)


class TransformerSRUEncoderLayer(Module):
    """Self-attention then an SRU feed-forward block, each with residual and LayerNorm.

    Works sequence first ([S x B x d_model]); the stacks below transpose.

    Parameters
    ----------
    d_model : int
        Model size.
    nhead : int
        Number of attention heads.
    dim_feedforward : int
        Hidden size of the SRU cell (per direction).
    dropout : float
        Dropout of the attention, the residual branches and the SRU input.
    sru_dropout : float, optional
        Dropout of the SRU's recurrent state; defaults to ``dropout``.
    bidirectional : bool
        Run the SRU in both directions.
    **kwargs :
        Other ``sru.SRUCell`` options (``use_tanh``, ``highway_bias``, ``layer_norm``...).

    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        sru_dropout: float | None = None,
        bidirectional: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.d_model, self.dim_feedforward = d_model, dim_feedforward
        self.bidirectional = bidirectional
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.sru = _sru_cell(
            type(self).__name__,
            d_model,
            dim_feedforward,
            dropout,
            sru_dropout,
            bidirectional,
            kwargs,
        )
        self.linear2 = nn.Linear(dim_feedforward * (2 if bidirectional else 1), d_model)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(
        self,
        src: torch.Tensor,
        state: torch.Tensor | None = None,
        src_mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode ``src`` [S x B x d_model].

        Parameters
        ----------
        src : torch.Tensor
            The input, sequence first.
        state : torch.Tensor, optional
            The SRU's initial state [B x dim_feedforward * directions].
        src_mask : torch.Tensor, optional
            Additive attention mask [S x S].
        padding_mask : torch.Tensor, optional
            [B x S], True for real tokens.

        Returns
        -------
        Tuple[torch.Tensor, torch.Tensor]
            The output [S x B x d_model] and the SRU's final state.

        """
        attended = self.self_attn(
            src,
            src,
            src,
            attn_mask=src_mask,
            key_padding_mask=_key_padding(padding_mask),
            need_weights=False,
        )[0]
        src = self.norm1(src + self.dropout1(attended))
        output, state = self.sru(src, state, mask_pad=_sru_mask(padding_mask))
        src = self.norm2(src + self.dropout2(self.linear2(output)))
        return src, state


class TransformerSRUDecoderLayer(Module):
    """Self-attention, attention over the memory, then an SRU feed-forward block.

    Works sequence first; the SRU runs forward only. Parameters are those of
    :class:`TransformerSRUEncoderLayer` (without ``bidirectional``).
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        sru_dropout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.d_model, self.dim_feedforward = d_model, dim_feedforward
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.multihead_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.sru = _sru_cell(
            type(self).__name__, d_model, dim_feedforward, dropout, sru_dropout, False, kwargs
        )
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        state: torch.Tensor | None = None,
        tgt_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
        memory_key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decode ``tgt`` [T x B x d_model] attending to ``memory`` [S x B x d_model].

        ``state`` [B x dim_feedforward] starts the SRU; ``padding_mask`` [B x T]
        and ``memory_key_padding_mask`` [B x S] are True for real tokens.
        Returns [T x B x d_model].
        """
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
        output, _ = self.sru(tgt, state, mask_pad=_sru_mask(padding_mask))
        return self.norm3(tgt + self.dropout3(self.linear2(output)))


def _xavier(module: nn.Module) -> None:
    for p in module.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)


def _layer_state(state: torch.Tensor | None, index: int) -> torch.Tensor | None:
    return None if state is None else state[index]


class TransformerSRUEncoder(Module):
    """A stack of ``num_layers`` SRU encoder layers over batch-first input.

    Parameters
    ----------
    input_size : int
        Feature size of the input; projected to ``d_model`` when different.
    d_model, nhead, dim_feedforward, dropout, sru_dropout, bidirectional, **kwargs :
        As for :class:`TransformerSRUEncoderLayer`.
    num_layers : int
        Number of layers.

    Attributes
    ----------
    output_size : int
        ``d_model``.

    """

    def __init__(
        self,
        input_size: int = 512,
        d_model: int = 512,
        nhead: int = 8,
        num_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        sru_dropout: float | None = None,
        bidirectional: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.input_size, self.d_model, self.output_size = input_size, d_model, d_model
        self.bidirectional = bidirectional
        self.proj = nn.Linear(input_size, d_model) if input_size != d_model else None
        layer = TransformerSRUEncoderLayer(
            d_model, nhead, dim_feedforward, dropout, sru_dropout, bidirectional, **kwargs
        )
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(num_layers))
        _xavier(self)

    def forward(
        self,
        src: torch.Tensor,
        state: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode ``src`` [B x S x input_size].

        Parameters
        ----------
        src : torch.Tensor
            Right-padded input, batch first.
        state : torch.Tensor, optional
            Initial SRU states [num_layers x B x dim_feedforward * directions];
            layer ``i`` starts from ``state[i]``.
        mask : torch.Tensor, optional
            Additive attention mask [S x S].
        padding_mask : torch.Tensor, optional
            [B x S], True for real tokens.

        Returns
        -------
        Tuple[torch.Tensor, torch.Tensor]
            The output [B x S x d_model] and the final SRU states
            [num_layers x B x dim_feedforward * directions].

        """
        output = self.proj(src) if self.proj is not None else src
        output = output.transpose(0, 1)
        states = []
        for i, layer in enumerate(self.layers):
            output, layer_state = layer(
                output, _layer_state(state, i), src_mask=mask, padding_mask=padding_mask
            )
            states.append(layer_state)
        return output.transpose(0, 1), torch.stack(states)


class TransformerSRUDecoder(Module):
    """A stack of ``num_layers`` SRU decoder layers over batch-first input.

    Parameters are those of :class:`TransformerSRUEncoder` (without ``bidirectional``).
    """

    def __init__(
        self,
        input_size: int = 512,
        d_model: int = 512,
        nhead: int = 8,
        num_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        sru_dropout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.input_size, self.d_model, self.output_size = input_size, d_model, d_model
        self.dim_feedforward = dim_feedforward
        self.proj = nn.Linear(input_size, d_model) if input_size != d_model else None
        layer = TransformerSRUDecoderLayer(
            d_model, nhead, dim_feedforward, dropout, sru_dropout, **kwargs
        )
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(num_layers))
        _xavier(self)

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        state: torch.Tensor | None = None,
        tgt_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
        memory_key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decode ``tgt`` [B x T x input_size] over ``memory`` [B x S x d_model].

        ``state`` [num_layers x B x dim_feedforward] starts layer ``i``'s SRU
        from ``state[i]``; ``padding_mask`` [B x T] and
        ``memory_key_padding_mask`` [B x S] are True for real tokens.
        Returns [B x T x d_model].
        """
        output = self.proj(tgt) if self.proj is not None else tgt
        output, memory = output.transpose(0, 1), memory.transpose(0, 1)
        for i, layer in enumerate(self.layers):
            output = layer(
                output,
                memory,
                _layer_state(state, i),
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                padding_mask=padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
            )
        return output.transpose(0, 1)


class TransformerSRU(Module):
    """An encoder-decoder SRU transformer; the encoder's SRU states start the decoder's.

    Decoder layer ``i`` starts from the final state of encoder layer ``i``
    (zeros for decoder layers beyond the encoder's depth); a bidirectional
    encoder hands over the mean of its two directions' states.

    Parameters
    ----------
    input_size : int
        Feature size of both ``src`` and ``tgt``.
    d_model, nhead, dim_feedforward, dropout, sru_dropout, **kwargs :
        As for :class:`TransformerSRUEncoderLayer`.
    num_encoder_layers, num_decoder_layers : int
        Depth of the encoder and of the decoder.
    bidirectional : bool
        Run the encoder's SRU cells in both directions.

    """

    def __init__(
        self,
        input_size: int = 512,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        sru_dropout: float | None = None,
        bidirectional: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.input_size, self.d_model, self.nhead = input_size, d_model, nhead
        self.dim_feedforward = dim_feedforward
        self.encoder = TransformerSRUEncoder(
            input_size,
            d_model,
            nhead,
            num_encoder_layers,
            dim_feedforward,
            dropout,
            sru_dropout,
            bidirectional,
            **kwargs,
        )
        self.decoder = TransformerSRUDecoder(
            input_size,
            d_model,
            nhead,
            num_decoder_layers,
            dim_feedforward,
            dropout,
            sru_dropout,
            **kwargs,
        )

    def _decoder_state(self, state: torch.Tensor) -> torch.Tensor:
        layers, batch = state.size(0), state.size(1)
        if self.encoder.bidirectional:  # SRU lays a state out as [B x directions x H]
            state = state.view(layers, batch, 2, self.dim_feedforward).mean(dim=2)
        wanted = len(self.decoder.layers)
        if layers >= wanted:
            return state[:wanted]
        return torch.cat([state, state.new_zeros(wanted - layers, batch, state.size(-1))])

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
        check_source_and_target("TransformerSRU", src, tgt, self.input_size)
        if memory_key_padding_mask is None:
            memory_key_padding_mask = src_key_padding_mask
        memory, state = self.encoder(src, mask=src_mask, padding_mask=src_key_padding_mask)
        return self.decoder(
            tgt,
            memory,
            self._decoder_state(state),
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
        )
