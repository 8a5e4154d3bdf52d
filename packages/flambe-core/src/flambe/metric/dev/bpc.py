"""Bits per character (defined next to :class:`Perplexity`)."""

from __future__ import annotations

from flambe.metric.dev.perplexity import BPC

__all__ = ["BPC"]
