"""A multi-layer n-dimensional convolutional encoder."""

from __future__ import annotations

import torch
from torch import nn

from flambe.nn.module import Module

_CONV: dict[int, type[nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_BATCH_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}

Kernel = int | tuple[int, ...]


def conv_block(
    conv_mod: nn.Module,
    activation: nn.Module,
    pooling: nn.Module | None,
    dropout: float,
    batch_norm: nn.Module | None = None,
) -> nn.Module:
    """One convolutional block: conv, [pooling], [batch norm], activation, dropout.

    Parameters
    ----------
    conv_mod : nn.Module
        The convolution (element 0 of the block).
    activation : nn.Module
        The activation.
    pooling : nn.Module, optional
        Pooling applied right after the convolution.
    dropout : float
        Dropout probability at the end of the block.
    batch_norm : nn.Module, optional
        Batch normalisation applied before the activation.

    Returns
    -------
    nn.Module
        An ``nn.Sequential`` of the parts given.

    """
    parts: list[nn.Module] = [conv_mod]
    if pooling is not None:
        parts.append(pooling)
    if batch_norm is not None:
        parts.append(batch_norm)
    parts += [activation, nn.Dropout(dropout)]
    return nn.Sequential(*parts)


class CNNEncoder(Module):
    """Convolutional blocks, one per entry of ``channels``.

    Parameters
    ----------
    input_channels : int
        Channels of the input.
    channels : List[int]
        Output channels of each block.
    conv_dim : int
        1, 2 or 3 dimensional convolutions.
    kernel_size : int or list of int / tuple
        One kernel for every block, or one per block (a tuple has ``conv_dim`` sizes).
    activation : nn.Module, optional
        ReLU by default.
    pooling : nn.Module, optional
        Applied after every convolution.
    dropout : float
        Dropout at the end of every block.
    batch_norm : bool
        Add batch normalisation to every block.
    stride : int
        Convolution stride.
    padding : int
        Convolution padding.

    Attributes
    ----------
    cnn : nn.Sequential
        The blocks (``len(cnn) == len(channels)``).

    """

    def __init__(
        self,
        input_channels: int,
        channels: list[int],
        conv_dim: int = 2,
        kernel_size: int | list[Kernel] = 3,
        activation: nn.Module | None = None,
        pooling: nn.Module | None = None,
        dropout: float = 0,
        batch_norm: bool = True,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__()
        if conv_dim not in _CONV:
            raise ValueError(f"CNNEncoder conv_dim must be 1, 2 or 3, got {conv_dim}")
        kernels = self._kernels(kernel_size, len(channels), conv_dim)
        activation = activation if activation is not None else nn.ReLU()
        blocks = []
        previous = input_channels
        for out_channels, kernel in zip(channels, kernels, strict=True):
            conv = _CONV[conv_dim](previous, out_channels, kernel, stride=stride, padding=padding)
            norm = _BATCH_NORM[conv_dim](out_channels) if batch_norm else None
            blocks.append(conv_block(conv, activation, pooling, dropout, norm))
            previous = out_channels
        self.cnn = nn.Sequential(*blocks)

    @staticmethod
    def _kernels(
        kernel_size: int | list[Kernel], n_blocks: int, conv_dim: int
    ) -> list[tuple[int, ...]]:
        if isinstance(kernel_size, int):
            return [(kernel_size,) * conv_dim] * n_blocks
        kernels = list(kernel_size)
        if len(kernels) != n_blocks:
            raise ValueError(
                f"CNNEncoder got {len(kernels)} kernel sizes for {n_blocks} channels;"
                " give one per channel entry or a single int"
            )
        out = []
        for kernel in kernels:
            if isinstance(kernel, int):
                out.append((kernel,) * conv_dim)
                continue
            kernel = tuple(kernel)
            if len(kernel) != conv_dim:
                raise ValueError(
                    f"CNNEncoder kernel {kernel} has {len(kernel)} sizes but conv_dim is {conv_dim}"
                )
            out.append(kernel)
        return out

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        """Encode ``data`` [B x C x spatial...] into a feature map."""
        return self.cnn(data)
