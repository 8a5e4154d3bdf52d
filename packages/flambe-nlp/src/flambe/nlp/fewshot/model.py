"""``PrototypicalTextClassifier``: few-shot classification by distance to class prototypes."""

from __future__ import annotations

import torch
from torch import nn

from flambe.errors import DataError
from flambe.nn.distance import get_distance_module, get_mean_module
from flambe.nn.module import Module


class PrototypicalTextClassifier(Module):
    """A prototypical network (Snell et al., 2017) over text encodings.

    Each class's prototype is the mean encoding of its support examples;
    a query scores ``-distance(query, prototype)`` for every class. The
    argument order of :meth:`forward` is that of ``EpisodicSampler``
    batches ``(query, query_label, support, support_label)``, so a
    ``Trainer`` calls ``model(*batch)`` directly.

    Parameters
    ----------
    embedder : nn.Module
        Encodes token ids [B x S] to [B x H] (the first element of a tuple is used).
    distance : str
        ``'euclidean'`` (squared), ``'cosine'`` or ``'hyperbolic'``.
    detach_mean : bool
        Stop gradients through the prototypes.

    """

    def __init__(
        self, embedder: nn.Module, distance: str = "euclidean", detach_mean: bool = False
    ) -> None:
        super().__init__()
        self.embedder = embedder
        self.distance = distance
        self.distance_module = get_distance_module(distance)
        self.mean_module = get_mean_module(distance)
        self.detach_mean = detach_mean

    def _encode(self, data: torch.Tensor) -> torch.Tensor:
        encoding = self.embedder(data)
        return encoding[0] if isinstance(encoding, tuple) else encoding

    def compute_prototypes(self, support: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """The prototypes [C x H] of support encodings [n x H] with labels 0..C-1 [n].

        Raises
        ------
        DataError
            Labels that are not exactly 0..C-1.

        """
        label = label.reshape(-1).long()
        classes = sorted(set(label.tolist()))
        if classes != list(range(len(classes))):
            raise DataError(
                f"PrototypicalTextClassifier: support labels must be 0..C-1, got {classes}",
                hint="relabel the support set (EpisodicSampler does)",
            )
        prototypes = []
        for c in classes:
            group = support[label == c]
            prototypes.append(group[0] if group.size(0) == 1 else self.mean_module(group))
        return torch.stack(prototypes)

    def forward(
        self,
        query: torch.Tensor,
        query_label: torch.Tensor | None = None,
        support: torch.Tensor | None = None,
        support_label: torch.Tensor | None = None,
        prototypes: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Scores [Q x C] of the queries, paired with ``query_label`` when given.

        Raises
        ------
        DataError
            Neither ``prototypes`` nor a support set with labels.

        """
        encoded = self._encode(query)
        if prototypes is None:
            if support is None or support_label is None:
                raise DataError(
                    "No prototypes set or provided: give a support set with its "
                    "labels, or prototypes"
                )
            support_encoding = self._encode(support)
            if self.detach_mean:
                support_encoding = support_encoding.detach()
            prototypes = self.compute_prototypes(support_encoding, support_label)
        scores = -self.distance_module(encoded, prototypes)
        return (scores, query_label) if query_label is not None else scores
