"""Recall at k (defined next to :class:`Accuracy`)."""

from __future__ import annotations

from flambe.metric.dev.accuracy import Recall

__all__ = ["Recall"]
