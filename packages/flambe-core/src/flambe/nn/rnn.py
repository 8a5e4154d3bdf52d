"""Recurrent encoders: RNN, LSTM, GRU and (with the ``sru`` package) SRU."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from flambe.nn.module import Module
from flambe.nn.pooling import AvgPooling, FirstPooling, LastPooling, SumPooling

RNN_TYPES = ("rnn", "lstm", "gru", "sru")
_TORCH_RNNS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _import_sru() -> Any:
    """The ``sru`` package, imported on first use (it is optional)."""
    try:
        with warnings.catch_warnings():  # it warns when it cannot compile CUDA kernels
            warnings.simplefilter("ignore", UserWarning)
            import sru
    except ImportError as exc:
        raise ImportError(
            "rnn_type 'sru' needs the optional 'sru' package: pip install sru"
        ) from exc
    return sru


class RNNEncoder(Module):
    """A multi-layer recurrent encoder over batch-first sequences.

    Padding is handled with packed sequences: the outputs at padded positions
    are zeros and a sequence's outputs do not depend on the padding after it.

    Parameters
    ----------
    input_size : int
        Feature size E of the input.
    hidden_size : int
        Hidden size H of each direction.
    n_layers : int
        Number of layers.
    rnn_type : str
        One of ``'rnn'``, ``'lstm'``, ``'gru'``, ``'sru'`` (the last needs the ``sru`` package).
    dropout : float
        Dropout between layers (used only when ``n_layers > 1`` for torch RNNs).
    bidirectional : bool
        Run a backward direction too; the output size doubles.
    layer_norm, highway_bias, rescale :
        SRU options (ignored by the other types).
    enforce_sorted : bool
        Whether batches come sorted by decreasing length (packing is faster).
    **kwargs :
        Extra SRU options (e.g. ``use_tanh``); ignored with a warning by other types.

    Attributes
    ----------
    rnn : nn.Module
        The recurrent module, run sequence-first.
    output_size : int
        ``2 * hidden_size`` when bidirectional, else ``hidden_size``.

    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        n_layers: int = 1,
        rnn_type: str = "lstm",
        dropout: float = 0,
        bidirectional: bool = False,
        layer_norm: bool = False,
        highway_bias: float = 0,
        rescale: bool = True,
        enforce_sorted: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if rnn_type not in RNN_TYPES:
            raise ValueError(
                f"RNNEncoder rnn_type must be one of {', '.join(RNN_TYPES)} "
                f"(lowercase), got {rnn_type!r}"
            )
        self.rnn_type, self.input_size, self.hidden_size = rnn_type, input_size, hidden_size
        self.enforce_sorted = enforce_sorted
        self.output_size = 2 * hidden_size if bidirectional else hidden_size
        if rnn_type == "sru":
            self.rnn = self._build_sru(
                input_size,
                hidden_size,
                n_layers,
                dropout,
                bidirectional,
                layer_norm,
                highway_bias,
                rescale,
                kwargs,
            )
        else:
            if kwargs:
                warnings.warn(
                    f"RNNEncoder ignores {sorted(kwargs)} for rnn_type {rnn_type!r}", stacklevel=2
                )
            self.rnn = _TORCH_RNNS[rnn_type](
                input_size,
                hidden_size,
                num_layers=n_layers,
                dropout=dropout if n_layers > 1 else 0.0,
                bidirectional=bidirectional,
            )

    @staticmethod
    def _build_sru(
        input_size: int,
        hidden_size: int,
        n_layers: int,
        dropout: float,
        bidirectional: bool,
        layer_norm: bool,
        highway_bias: float,
        rescale: bool,
        kwargs: dict,
    ) -> nn.Module:
        sru = _import_sru()
        accepted = set(inspect.signature(sru.SRU.__init__).parameters) - {"self"}
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            raise ValueError(
                f"RNNEncoder got unknown SRU arguments {unknown}; SRU accepts {sorted(accepted)}"
            )
        return sru.SRU(
            input_size,
            hidden_size,
            num_layers=n_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            layer_norm=layer_norm,
            highway_bias=highway_bias,
            rescale=rescale,
            **kwargs,
        )

    def forward(
        self, data: torch.Tensor, state: Any | None = None, padding_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Any]:
        """Encode ``data`` [B x S x E].

        Parameters
        ----------
        data : torch.Tensor
            Right-padded input, batch first.
        state : optional
            Initial state in the RNN's own format ([L*dirs x B x H]; a pair for LSTM).
        padding_mask : torch.Tensor, optional
            [B x S], True for real tokens.

        Returns
        -------
        Tuple[torch.Tensor, Any]
            The output [B x S x output_size] and the final state.

        """
        seq_len = data.size(1)
        data = data.transpose(0, 1)  # the RNN runs sequence-first
        if padding_mask is None:
            output, state = self.rnn(data, state)
        elif self.rnn_type == "sru":
            mask_pad = ~padding_mask.to(device=data.device, dtype=torch.bool).transpose(0, 1)
            output, state = self.rnn(data, state, mask_pad=mask_pad)
            output = output * (~mask_pad).unsqueeze(-1).to(output.dtype)
        else:
            # pack_padded_sequence wants CPU int64 lengths; empty rows still need one step
            lengths = padding_mask.long().sum(dim=1).clamp(min=1).cpu()
            packed = pack_padded_sequence(data, lengths, enforce_sorted=self.enforce_sorted)
            output, state = self.rnn(packed, state)
            output, _ = pad_packed_sequence(output, total_length=seq_len)
        return output.transpose(0, 1).contiguous(), state


class PooledRNNEncoder(Module):
    """An :class:`RNNEncoder` followed by a pooling over the sequence (deprecated).

    Prefer an :class:`~flambe.nn.embedding.Embedder` with a ``pooling`` module.

    Parameters
    ----------
    pooling : str
        ``'first'``, ``'last'``, ``'sum'`` or ``'average'``.

    Other parameters are those of :class:`RNNEncoder`.

    """

    _POOLINGS = {
        "first": FirstPooling,
        "last": LastPooling,
        "sum": SumPooling,
        "average": AvgPooling,
    }

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        n_layers: int = 1,
        rnn_type: str = "lstm",
        dropout: float = 0,
        bidirectional: bool = False,
        layer_norm: bool = False,
        highway_bias: float = 0,
        rescale: bool = True,
        pooling: str = "last",
    ) -> None:
        warnings.warn(
            "PooledRNNEncoder is deprecated: use an Embedder with an RNNEncoder and "
            "a pooling module",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__()
        if pooling not in self._POOLINGS:
            raise ValueError(
                f"PooledRNNEncoder pooling must be one of "
                f"{', '.join(self._POOLINGS)}, got {pooling!r}"
            )
        self.pooling = pooling
        self._pool = self._POOLINGS[pooling]()
        self.rnn = RNNEncoder(
            input_size,
            hidden_size,
            n_layers,
            rnn_type,
            dropout,
            bidirectional,
            layer_norm,
            highway_bias,
            rescale,
        )
        self.output_size = self.rnn.output_size

    def forward(
        self, data: torch.Tensor, state: Any | None = None, padding_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Encode ``data`` [B x S x E] and pool it to [B x output_size]."""
        output, _ = self.rnn(data, state=state, padding_mask=padding_mask)
        return self._pool(output, padding_mask)
