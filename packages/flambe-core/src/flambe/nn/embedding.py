"""Token embeddings (with optional positional encodings) and the Embedder."""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

import torch
from torch import nn

from flambe.compile import registrable_factory
from flambe.errors import ArgumentError
from flambe.nn.module import Module

# The original spelled these without the second 'i'; both are accepted.
_MISSPELLED = {
    "positonal_max_length": "positional_max_length",
    "positonal_embeddings": "positional_embeddings",
    "positonal_freeze": "positional_freeze",
}


def _respell(owner: str, legacy: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """Map the original's misspelled keywords to the correct names (and refuse others)."""
    out = {}
    for key, value in legacy.items():
        if key not in allowed:
            raise ArgumentError(
                f"{owner} got an unknown argument '{key}'",
                hint=f"accepted misspellings: {', '.join(allowed)}",
            )
        warnings.warn(
            f"'{key}' is a misspelling: use '{_MISSPELLED[key]}'", DeprecationWarning, stacklevel=3
        )
        out[_MISSPELLED[key]] = value
    return out


def sinusoidal_table(num_positions: int, dim: int) -> torch.Tensor:
    """The sinusoidal position table [num_positions x dim] (any ``dim``, odd included).

    Column ``2i`` holds ``sin(p / 10000^(2i/dim))`` and column ``2i+1`` the cosine of
    the same angle.
    """
    position = torch.arange(num_positions, dtype=torch.float).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float) * (-math.log(10000.0) / dim))
    table = torch.zeros(num_positions, dim)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: dim // 2])
    return table


class Embeddings(Module):
    """Token embeddings, optionally plus sinusoidal or learned positional embeddings.

    Parameters
    ----------
    num_embeddings : int
        Vocabulary size.
    embedding_dim : int
        Embedding size E.
    padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse :
        As for ``torch.nn.Embedding``.
    positional_encoding : bool
        Add an embedding of each token's position.
    positional_learned : bool
        Learn the positional embeddings (frozen sinusoids otherwise); needs
        ``positional_encoding``.
    positional_max_length : int
        Longest sequence the positional embeddings cover.
    batch_first : bool
        Inputs are [B x S] (the sampler layout); False for [S x B].

    Attributes
    ----------
    token_embedding : nn.Embedding
    pos_embedding : nn.Embedding or None
    num_positions : int

    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int = 0,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        positional_encoding: bool = False,
        positional_learned: bool = False,
        positional_max_length: int = 5000,
        batch_first: bool = True,
        **misspelled: Any,
    ) -> None:
        super().__init__()
        fixed = _respell("Embeddings", misspelled, ("positonal_max_length",))
        positional_max_length = fixed.get("positional_max_length", positional_max_length)
        if positional_learned and not positional_encoding:
            raise ValueError("Embeddings: positional_learned needs positional_encoding: true")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.batch_first = batch_first
        self.num_positions = positional_max_length if positional_encoding else 0
        self.token_embedding = nn.Embedding(
            num_embeddings,
            embedding_dim,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
        )
        self.pos_embedding: nn.Embedding | None = None
        if positional_learned:
            self.pos_embedding = nn.Embedding(positional_max_length, embedding_dim)
        elif positional_encoding:
            self.pos_embedding = nn.Embedding.from_pretrained(
                sinusoidal_table(positional_max_length, embedding_dim), freeze=True
            )

    @registrable_factory
    @classmethod
    def from_pretrained(
        cls,
        embeddings: torch.Tensor,
        freeze: bool = True,
        padding_idx: int = 0,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        positional_encoding: bool = False,
        positional_learned: bool = False,
        positional_max_length: int = 5000,
        positional_embeddings: torch.Tensor | None = None,
        positional_freeze: bool = True,
        batch_first: bool = True,
        **misspelled: Any,
    ) -> Embeddings:
        """Embeddings initialised from a matrix (``!Embeddings.from_pretrained`` in YAML).

        Parameters
        ----------
        embeddings : torch.Tensor
            [num_embeddings x embedding_dim] weights, copied.
        freeze : bool
            Keep the token embeddings fixed during training.
        positional_embeddings : torch.Tensor, optional
            [max_length x embedding_dim] positional weights; turns positional
            encoding on, and its row count replaces ``positional_max_length``.
        positional_freeze : bool
            Keep given positional embeddings fixed.

        Other parameters are those of the constructor.

        """
        fixed = _respell("Embeddings.from_pretrained", misspelled, tuple(_MISSPELLED))
        positional_max_length = fixed.get("positional_max_length", positional_max_length)
        positional_embeddings = fixed.get("positional_embeddings", positional_embeddings)
        positional_freeze = fixed.get("positional_freeze", positional_freeze)
        embeddings = torch.as_tensor(embeddings)
        if embeddings.dim() != 2:
            raise ValueError(
                f"Embeddings.from_pretrained needs a 2-D matrix, got shape "
                f"{tuple(embeddings.shape)}"
            )
        if positional_embeddings is not None:
            positional_embeddings = torch.as_tensor(positional_embeddings)
            if positional_embeddings.dim() != 2:
                raise ValueError(
                    "Embeddings.from_pretrained needs 2-D positional_embeddings, "
                    f"got shape {tuple(positional_embeddings.shape)}"
                )
            if positional_embeddings.size(1) != embeddings.size(1):
                raise ValueError(
                    f"positional_embeddings have {positional_embeddings.size(1)} "
                    f"columns but the embeddings have {embeddings.size(1)}"
                )
            positional_encoding = True
            positional_max_length = positional_embeddings.size(0)
        rows, cols = embeddings.shape
        module = cls(
            rows,
            cols,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            positional_encoding,
            positional_learned,
            positional_max_length,
            batch_first,
        )
        with torch.no_grad():
            module.token_embedding.weight.copy_(embeddings)
        module.token_embedding.weight.requires_grad = not freeze
        if positional_embeddings is not None:
            assert module.pos_embedding is not None
            with torch.no_grad():
                module.pos_embedding.weight.copy_(positional_embeddings)
            module.pos_embedding.weight.requires_grad = not positional_freeze
        return module

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        """Embed token ids [B x S] (or [S x B]) to [B x S x E] (or [S x B x E])."""
        embedded = self.token_embedding(data)
        if self.pos_embedding is None:
            return embedded
        seq_dim = 1 if self.batch_first else 0
        length = data.size(seq_dim)
        if length > self.num_positions:
            raise ValueError(
                f"Embeddings: sequence of length {length} is longer than "
                f"positional_max_length={self.num_positions}"
            )
        positions = self.pos_embedding(torch.arange(length, device=data.device))  # [S x E]
        return embedded + (positions.unsqueeze(0) if self.batch_first else positions.unsqueeze(1))


def _accepts_padding_mask(module: nn.Module) -> bool:
    try:
        params = inspect.signature(module.forward).parameters
    except (TypeError, ValueError):
        return True
    return "padding_mask" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


class Embedder(Module):
    """Embedding, dropout, an encoder and an optional pooling, padding-aware.

    Parameters
    ----------
    embedding : nn.Module
        Maps token ids [B x S] to [B x S x E].
    encoder : nn.Module
        Encodes [B x S x E]; receives ``padding_mask=`` when its forward accepts it.
    pooling : nn.Module, optional
        Called as ``pooling(encoding, mask)`` to reduce the sequence.
    embedding_dropout : float
        Dropout on the embeddings.
    padding_idx : int, optional
        Token id of the padding; None for no padding mask.
    return_mask : bool
        Return ``(encoding, mask)`` instead of the encoding alone.

    """

    def __init__(
        self,
        embedding: nn.Module,
        encoder: nn.Module,
        pooling: nn.Module | None = None,
        embedding_dropout: float = 0,
        padding_idx: int | None = 0,
        return_mask: bool = False,
    ) -> None:
        super().__init__()
        self.embedding, self.encoder, self.pooling = embedding, encoder, pooling
        self.dropout = nn.Dropout(embedding_dropout)
        self.padding_idx, self.return_mask = padding_idx, return_mask
        self._encoder_takes_mask = _accepts_padding_mask(encoder)

    @property
    def embeddings(self) -> nn.Module:
        """The embedding module (the name used by the original documentation)."""
        return self.embedding

    @property
    def drop(self) -> nn.Module:
        """The dropout layer (the name used by the original documentation)."""
        return self.dropout

    def forward(self, data: torch.Tensor) -> torch.Tensor | tuple[Any, ...]:
        """Encode token ids [B x S].

        Returns
        -------
        The pooled encoding [B x H] when there is a pooling, else what the
        encoder returns (an ``(output, state)`` pair for RNN encoders); paired
        with the mask [B x S] when ``return_mask``.

        """
        embedded = self.dropout(self.embedding(data))
        mask = None
        if self.padding_idx is not None:
            mask = data != self.padding_idx
        if mask is not None and self._encoder_takes_mask:
            encoding = self.encoder(embedded, padding_mask=mask)
        else:
            encoding = self.encoder(embedded)
        if self.pooling is not None:
            if isinstance(encoding, tuple):
                encoding = encoding[0]
            encoding = self.pooling(encoding, mask)
        return (encoding, mask) if self.return_mask else encoding
