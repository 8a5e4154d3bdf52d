"""Ready-made models."""

from __future__ import annotations

from flambe.model.logistic_regression import LogisticRegression

__all__ = ["LogisticRegression"]
