"""The import path of the original documentation's generic transformer classes.

``flambe.nlp.transformers.utils.TransformerTextField`` and ``TransformerEmbedder``
are :class:`~flambe.nlp.transformers.field.PretrainedTransformerField` and
:class:`~flambe.nlp.transformers.embedder.PretrainedTransformerEmbedder`; the YAML
tags ``!TransformerTextField`` and ``!TransformerEmbedder`` name them too.
"""

from flambe.nlp.transformers.embedder import PretrainedTransformerEmbedder as TransformerEmbedder
from flambe.nlp.transformers.field import PretrainedTransformerField as TransformerTextField

__all__ = ["TransformerTextField", "TransformerEmbedder"]
