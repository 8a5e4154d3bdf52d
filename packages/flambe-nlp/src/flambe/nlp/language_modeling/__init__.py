"""Language modeling: corpora, a field, a sampler and a model.

The corpora PTB, WikiText-103 and enwik8, ``LMField``, ``CorpusSampler`` and ``LanguageModel``.
"""

from flambe.nlp.language_modeling.datasets import Enwiki8, PTBDataset, Wiki103
from flambe.nlp.language_modeling.fields import LMField
from flambe.nlp.language_modeling.model import LanguageModel
from flambe.nlp.language_modeling.sampler import CorpusSampler

__all__ = ["PTBDataset", "Wiki103", "Enwiki8", "LMField", "LanguageModel", "CorpusSampler"]
