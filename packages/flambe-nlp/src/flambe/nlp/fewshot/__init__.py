"""Few-shot text classification: ``PrototypicalTextClassifier`` (episodes from
``flambe.sampler.EpisodicSampler``).
"""

from flambe.nlp.fewshot.model import PrototypicalTextClassifier

__all__ = ["PrototypicalTextClassifier"]
