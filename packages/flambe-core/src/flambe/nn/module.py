"""Module: a ``torch.nn.Module`` that is also a Flambé component."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import nn

from flambe.compile import Component


class Module(Component, nn.Module, should_register=False):  # type: ignore[call-arg]  # mypy reads object's __init_subclass__ here, not Registrable's
    """Base Flambé module: the interface of ``nn.Module`` plus parameter helpers.

    Subclass it instead of ``torch.nn.Module`` to make a model buildable
    from YAML and savable with :func:`flambe.save`; implement ``forward``
    as usual.
    """

    @property
    def named_trainable_params(self) -> Iterator[tuple[str, nn.Parameter]]:
        """Named parameters with ``requires_grad=True``."""
        return ((name, p) for name, p in self.named_parameters() if p.requires_grad)

    @property
    def trainable_params(self) -> Iterator[nn.Parameter]:
        """Parameters with ``requires_grad=True`` (what an optimizer should get)."""
        return (p for p in self.parameters() if p.requires_grad)

    @property
    def gradient_norm(self) -> float:
        """Global L2 norm of the gradients of the trainable parameters (0.0 if none)."""
        total = 0.0
        for p in self.trainable_params:
            if p.grad is not None:
                total += float(p.grad.detach().pow(2).sum())
        return math.sqrt(total)

    @property
    def parameter_norm(self) -> float:
        """Global L2 norm of the trainable parameters."""
        total = sum(float(p.detach().pow(2).sum()) for p in self.trainable_params)
        return math.sqrt(total)

    def num_parameters(self, trainable: bool = False) -> int:
        """Number of parameter elements (only trainable ones when ``trainable``)."""
        params = self.trainable_params if trainable else self.parameters()
        return sum(p.numel() for p in params)

    def clip_params(self, threshold: float) -> None:
        """Clamp every trainable parameter in place to ``[-threshold, threshold]``."""
        with torch.no_grad():
            for p in self.trainable_params:
                p.clamp_(-threshold, threshold)

    def clip_gradient_norm(self, threshold: float) -> None:
        """Rescale the gradients so that their global norm is at most ``threshold``."""
        params = [p for p in self.trainable_params if p.grad is not None]
        if params:
            nn.utils.clip_grad_norm_(params, threshold)
