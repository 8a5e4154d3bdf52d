"""The model-family names of the original documentation, as thin aliases.

Each ``<Family>TextField`` / ``<Family>Embedder`` is
:class:`PretrainedTransformerField` / :class:`PretrainedTransformerEmbedder`
(the ``transformers`` Auto classes) with that family's base model as the
default ``alias``; any other alias works too (a Hub name or a local folder),
so ``!BertEmbedder {alias: path/to/minilm}`` loads a BERT-architecture model
from disk.

Transformer-XL (``TransfoXLTextField``, ``TransfoXLEmbedder``) is gone from
``transformers`` 5: the names remain only to raise an error saying so.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flambe.nlp.transformers.embedder import PretrainedTransformerEmbedder
from flambe.nlp.transformers.field import PretrainedTransformerField
from flambe.nlp.transformers.loading import PretrainedArgumentError


class BertTextField(PretrainedTransformerField):
    """BERT's WordPiece tokenizer (default alias ``google-bert/bert-base-uncased``)."""

    default_alias = "google-bert/bert-base-uncased"


class BertEmbedder(PretrainedTransformerEmbedder):
    """A BERT model (default alias ``google-bert/bert-base-uncased``)."""

    default_alias = "google-bert/bert-base-uncased"


class RobertaTextField(PretrainedTransformerField):
    """RoBERTa's byte-level BPE tokenizer (default alias ``FacebookAI/roberta-base``)."""

    default_alias = "FacebookAI/roberta-base"


class RobertaEmbedder(PretrainedTransformerEmbedder):
    """A RoBERTa model (default alias ``FacebookAI/roberta-base``)."""

    default_alias = "FacebookAI/roberta-base"


class DistilBertTextField(PretrainedTransformerField):
    """DistilBERT's tokenizer (default alias ``distilbert/distilbert-base-uncased``)."""

    default_alias = "distilbert/distilbert-base-uncased"


class DistilBertEmbedder(PretrainedTransformerEmbedder):
    """A DistilBERT model (default alias ``distilbert/distilbert-base-uncased``; no pooler)."""

    default_alias = "distilbert/distilbert-base-uncased"


class GPTTextField(PretrainedTransformerField):
    """OpenAI GPT's tokenizer (default alias ``openai-community/openai-gpt``)."""

    default_alias = "openai-community/openai-gpt"


class GPTEmbedder(PretrainedTransformerEmbedder):
    """An OpenAI GPT model (default alias ``openai-community/openai-gpt``; no pooler)."""

    default_alias = "openai-community/openai-gpt"


class GPT2TextField(PretrainedTransformerField):
    """GPT-2's tokenizer (default alias ``openai-community/gpt2``; no pad token)."""

    default_alias = "openai-community/gpt2"


class GPT2Embedder(PretrainedTransformerEmbedder):
    """A GPT-2 model (default alias ``openai-community/gpt2``; no pooler)."""

    default_alias = "openai-community/gpt2"


class XLMTextField(PretrainedTransformerField):
    """XLM's tokenizer (default alias ``FacebookAI/xlm-mlm-en-2048``)."""

    default_alias = "FacebookAI/xlm-mlm-en-2048"


class XLMEmbedder(PretrainedTransformerEmbedder):
    """An XLM model (default alias ``FacebookAI/xlm-mlm-en-2048``; no pooler)."""

    default_alias = "FacebookAI/xlm-mlm-en-2048"


class XLNetTextField(PretrainedTransformerField):
    """XLNet's SentencePiece tokenizer (default alias ``xlnet/xlnet-base-cased``)."""

    default_alias = "xlnet/xlnet-base-cased"


class XLNetEmbedder(PretrainedTransformerEmbedder):
    """An XLNet model (default alias ``xlnet/xlnet-base-cased``; no pooler)."""

    default_alias = "xlnet/xlnet-base-cased"


def _removed(name: str) -> NoReturn:
    raise PretrainedArgumentError(
        f"{name}: Transformer-XL was removed from the transformers library (deprecated in "
        "version 4, gone in version 5), so Flambé cannot load it",
        hint="pick another model, e.g. !PretrainedTransformerEmbedder with a GPT-2 or XLNet alias",
    )


class TransfoXLTextField(PretrainedTransformerField):
    """Removed: Transformer-XL is no longer part of ``transformers``; raises on construction."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _removed(type(self).__name__)


class TransfoXLEmbedder(PretrainedTransformerEmbedder):
    """Removed: Transformer-XL is no longer part of ``transformers``; raises on construction."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _removed(type(self).__name__)


__all__ = [
    "BertTextField",
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
]
