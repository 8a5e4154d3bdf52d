"""Reduce: which finished variants of a stage the later stages see.

``reduce: {stage: k}`` keeps the best k variants by score (the stage's
``metric()``, oriented so that higher is better); variants without a score
rank last. Without an entry every finished variant is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from flambe.experiment.identity import Variant

logger = logging.getLogger(__name__)


def rank(variants: Sequence[Variant], scores: Mapping[str, float | None]) -> list[Variant]:
    """Return the variants best first (those without a score last, in their order)."""

    def key(variant: Variant) -> tuple[bool, float]:
        score = scores[variant.id]
        return (score is not None, score if score is not None else 0.0)

    return sorted(variants, key=key, reverse=True)


def reduce_variants(
    stage: str, finished: Sequence[Variant], scores: Mapping[str, float | None], k: int
) -> list[Variant]:
    """Return the variants of ``stage`` kept for the later stages.

    Parameters
    ----------
    stage : str
        The stage (for the warning when fewer than ``k`` finished).
    finished : sequence of Variant
        Its variants that finished (each has a score, maybe ``None``).
    scores : Mapping
        Variant id -> best score.
    k : int
        How many to keep; 0 keeps all.

    Returns
    -------
    list of Variant
        Best first.

    """
    ranked = rank(finished, scores)
    if k and k > len(ranked) and ranked:
        logger.warning(
            "reduce: %s keeps %d variants but only %d finished: keeping all",
            stage,
            k,
            len(ranked),
        )
    return ranked[:k] if k else ranked
