"""Pretrained Hugging Face transformers (the ``transformers`` Auto classes) in Flambé.

* :class:`PretrainedTransformerField`: text to the ids of a pretrained tokenizer;
* :class:`PretrainedTransformerEmbedder`: a pretrained model as an encoder,
  per token or pooled, with links to its configuration (``hidden_size``...);
* the family names of the original documentation (``BertTextField``,
  ``BertEmbedder``, RoBERTa, DistilBERT, GPT, GPT-2, XLM, XLNet) as thin aliases;
* ``AdamW`` and the warm-up schedules on PyTorch's.

Models load by Hub name or from a local folder; offline, only local folders
and the Hugging Face cache work (:class:`PretrainedNotFoundError` otherwise).
"""

from flambe.nlp.transformers.embedder import PretrainedTransformerEmbedder
from flambe.nlp.transformers.families import (
    BertEmbedder,
    BertTextField,
    DistilBertEmbedder,
    DistilBertTextField,
    GPT2Embedder,
    GPT2TextField,
    GPTEmbedder,
    GPTTextField,
    RobertaEmbedder,
    RobertaTextField,
    TransfoXLEmbedder,
    TransfoXLTextField,
    XLMEmbedder,
    XLMTextField,
    XLNetEmbedder,
    XLNetTextField,
)
from flambe.nlp.transformers.field import PretrainedTransformerField
from flambe.nlp.transformers.loading import PretrainedArgumentError, PretrainedNotFoundError
from flambe.nlp.transformers.optim import (
    AdamW,
    ConstantLRSchedule,
    WarmupConstantSchedule,
    WarmupLinearSchedule,
)

BERTTextField = BertTextField  # the spelling of the original user guide
# the original documentation's names of the generic classes (flambe.nlp.transformers.utils)
TransformerTextField = PretrainedTransformerField
TransformerEmbedder = PretrainedTransformerEmbedder

__all__ = [
    "PretrainedTransformerField",
    "PretrainedTransformerEmbedder",
    "TransformerTextField",
    "TransformerEmbedder",
    "BertTextField",
    "BERTTextField",
    "BertEmbedder",
    "RobertaTextField",
    "RobertaEmbedder",
    "DistilBertTextField",
    "DistilBertEmbedder",
    "GPTTextField",
    "GPTEmbedder",
    "GPT2TextField",
    "GPT2Embedder",
    "XLMTextField",
    "XLMEmbedder",
    "XLNetTextField",
    "XLNetEmbedder",
    "TransfoXLTextField",
    "TransfoXLEmbedder",
    "AdamW",
    "ConstantLRSchedule",
    "WarmupConstantSchedule",
    "WarmupLinearSchedule",
    "PretrainedNotFoundError",
    "PretrainedArgumentError",
]
