"""Few-shot text classification: ``PrototypicalTextClassifier``.

Its episodes come from ``flambe.sampler.EpisodicSampler``.
"""

from flambe.nlp.fewshot.model import PrototypicalTextClassifier

__all__ = ["PrototypicalTextClassifier"]
