"""``EpisodicSampler``: few-shot episodes of support and query examples."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from flambe.errors import DataError
from flambe.sampler.collate import pad_to_longest
from flambe.sampler.sampler import Sampler


class EpisodicSampler(Sampler):
    """Few-shot episodes: a support set and a query set drawn from a few classes.

    The data are ``(source, target)`` pairs: a 1-D tensor and a class id.
    Each episode draws ``n_classes`` classes (all when None); the i-th class
    of the episode is relabelled ``i``. For each of them, ``n_support``
    random examples form the support set; the queries are ``n_query``
    further examples per class with ``balance_query``, otherwise
    ``n_query`` examples drawn from all the episode's remaining examples.

    Parameters
    ----------
    n_support : int
        Support examples per class.
    n_query : int
        Query examples (per class with ``balance_query``).
    n_episodes : int
        Episodes per epoch.
    n_classes : int, optional
        Classes per episode (default: every class).
    pad_index : int
        The padding value of the sources.
    balance_query : bool
        Draw ``n_query`` queries from each class.
    seed : int, optional
        Seed of the random draws; None draws a fresh seed.

    """

    def __init__(
        self,
        n_support: int,
        n_query: int,
        n_episodes: int,
        n_classes: int | None = None,
        pad_index: int = 0,
        balance_query: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        for name, value in (
            ("n_support", n_support),
            ("n_query", n_query),
            ("n_episodes", n_episodes),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DataError(f"{name} must be a positive integer, not {value!r}")
        if n_classes is not None and (not isinstance(n_classes, int) or n_classes < 1):
            raise DataError(f"n_classes must be a positive integer, not {n_classes!r}")
        self.n_support = n_support
        self.n_query = n_query
        self.n_episodes = n_episodes
        self.n_classes = n_classes
        self.pad = pad_index
        self.balance_query = balance_query
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def length(self, data: Sequence[Sequence[Any]]) -> int:
        """Episodes per epoch (``n_episodes``); raises ``DataError`` on empty data."""
        self._check_data(data)
        return self.n_episodes

    def _group(self, data: Sequence[Sequence[Any]]) -> dict[int, list[torch.Tensor]]:
        groups: dict[int, list[torch.Tensor]] = OrderedDict()
        for example in data:
            source, target = example[0], example[1]
            groups.setdefault(int(target), []).append(
                source if isinstance(source, torch.Tensor) else torch.as_tensor(source)
            )
        needed = self.n_support + (self.n_query if self.balance_query else 0)
        small = [label for label, items in groups.items() if len(items) < self.n_support]
        if small:
            raise self._located(
                DataError(
                    f"class {small[0]} has {len(groups[small[0]])} examples, fewer than "
                    f"n_support={self.n_support}",
                    hint="lower n_support or drop the class",
                )
            )
        if self.n_classes is not None and self.n_classes > len(groups):
            raise self._located(
                DataError(f"n_classes={self.n_classes} but the data has {len(groups)} classes")
            )
        if not self.balance_query and all(len(v) == self.n_support for v in groups.values()):
            raise self._located(
                DataError(
                    "no example is left for queries once the support sets are drawn",
                    hint=f"each class needs more than n_support={self.n_support} examples "
                    f"(ideally {needed + self.n_query})",
                )
            )
        return groups

    def sample(
        self, data: Sequence[Sequence[Any]], n_epochs: int = 1
    ) -> Iterator[tuple[torch.Tensor, ...]]:
        """Yield ``n_episodes`` episodes per epoch, for ``n_epochs`` epochs (``-1``: without end).

        Yields
        ------
        Tuple[Tensor, Tensor, Tensor, Tensor]
            ``(query_source, query_target, support_source, support_target)``;
            sources padded batch-first with ``pad_index``, targets the
            episode's class positions, all int64.

        Raises
        ------
        DataError
            Right away when the data is empty (naming the split), a class has
            fewer than ``n_support`` examples, or ``n_classes`` exceeds the
            number of classes.

        """
        self._check_data(data)
        self._check_epochs(n_epochs)
        groups = self._group(data)
        return self._generate(groups, n_epochs)

    def _generate(
        self, groups: dict[int, list[torch.Tensor]], n_epochs: int
    ) -> Iterator[tuple[torch.Tensor, ...]]:
        labels = list(groups)
        epoch = 0
        while n_epochs == -1 or epoch < n_epochs:
            epoch += 1
            for _ in range(self.n_episodes):
                yield self._episode(groups, labels)

    def _episode(
        self, groups: dict[int, list[torch.Tensor]], labels: list[int]
    ) -> tuple[torch.Tensor, ...]:
        rng = self.rng
        if self.n_classes is None:
            chosen = labels
        else:
            chosen = [labels[i] for i in rng.choice(len(labels), self.n_classes, replace=False)]
        support: list[torch.Tensor] = []
        support_target: list[int] = []
        query: list[tuple[torch.Tensor, int]] = []
        for position, label in enumerate(chosen):
            items = groups[label]
            order = rng.permutation(len(items))
            support.extend(items[i] for i in order[: self.n_support])
            support_target.extend([position] * min(self.n_support, len(items)))
            rest = order[self.n_support :]
            if self.balance_query:
                rest = rest[: self.n_query]
            query.extend((items[i], position) for i in rest)
        if not self.balance_query:
            query = [query[i] for i in rng.permutation(len(query))[: self.n_query]]
        query_source = pad_to_longest([q[0] for q in query], self.pad).long()
        query_target = torch.tensor([q[1] for q in query], dtype=torch.long)
        support_source = pad_to_longest(support, self.pad).long()
        return (
            query_source,
            query_target,
            support_source,
            torch.tensor(support_target, dtype=torch.long),
        )
