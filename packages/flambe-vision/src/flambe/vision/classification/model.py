"""``ImageClassifier``: an image encoder, optional pooling, then an output layer."""

from __future__ import annotations

import torch
from torch import nn

from flambe.nn.module import Module


class ImageClassifier(Module):
    """A simple image classifier: ``output_layer(flatten(pooling(encoder(images))))``.

    The encoder (such as ``CNNEncoder``) maps ``[B x C x H x W]`` images to
    feature maps, the optional pooling (such as
    ``torch.AdaptiveAvgPool2d``) shrinks them to a fixed size, and the
    output layer maps the flattened features (from dimension 1) to one
    score per class.

    Parameters
    ----------
    encoder : nn.Module
        The image encoder.
    output_layer : nn.Module
        Maps the flattened features to the outputs, such as an
        ``MLPEncoder`` giving logits (with ``CrossEntropyLoss``) or a
        ``SoftmaxLayer`` giving log-probabilities (with ``NLLLoss``).
    pooling : nn.Module, optional
        Applied to the encoder's output before flattening.

    Attributes
    ----------
    encoder : nn.Module
        The encoder layer.
    output_layer : nn.Module
        The output layer.
    pooling : nn.Module or None
        The pooling.

    """

    def __init__(
        self, encoder: nn.Module, output_layer: nn.Module, pooling: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.output_layer = output_layer

    def features(self, data: torch.Tensor) -> torch.Tensor:
        """The flattened features of ``data`` ``[B x C x H x W]``: ``[B x F]``."""
        encoded = self.encoder(data)
        if self.pooling is not None:
            encoded = self.pooling(encoded)
        return encoded.flatten(1)

    def forward(
        self, data: torch.Tensor, target: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Run a forward pass through the network.

        Parameters
        ----------
        data : torch.Tensor
            The images ``[B x C x H x W]``.
        target : torch.Tensor, optional
            The targets, returned with the predictions (the convention of
            ``Trainer`` and ``Evaluator``).

        Returns
        -------
        Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]
            The predictions ``[B x n_classes]``, and the targets when given.

        """
        pred = self.output_layer(self.features(data))
        if target is not None:
            return pred, target
        return pred
