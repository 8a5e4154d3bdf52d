"""Natural language for Flambé: tokenizers, text fields, text datasets and models.

Part of the ``flambe-nlp`` distribution, which contributes this subpackage to
the ``flambe`` namespace. Importing it is cheap: the classes live in
submodules (``flambe.nlp.tokenizer``, ``flambe.nlp.field``,
``flambe.nlp.classification``, ``flambe.nlp.language_modeling``,
``flambe.nlp.fewshot``) and are imported when first used, also through the
names below (``from flambe.nlp import TextField``).
"""

from __future__ import annotations

from flambe.utils.lazy import lazy_attributes

__version__ = "0.2.0"

_LAZY: dict[str, str] = {
    "Tokenizer": "flambe.nlp.tokenizer",
    "WordTokenizer": "flambe.nlp.tokenizer",
    "WhitespaceTokenizer": "flambe.nlp.tokenizer",
    "CharTokenizer": "flambe.nlp.tokenizer",
    "NGramsTokenizer": "flambe.nlp.tokenizer",
    "LabelTokenizer": "flambe.nlp.tokenizer",
    "TextField": "flambe.nlp.field",
    "BoWField": "flambe.nlp.field",
    "BowField": "flambe.nlp.field",
    "SSTDataset": "flambe.nlp.classification",
    "TRECDataset": "flambe.nlp.classification",
    "NewsGroupDataset": "flambe.nlp.classification",
    "TextClassifier": "flambe.nlp.classification",
    "PTBDataset": "flambe.nlp.language_modeling",
    "Wiki103": "flambe.nlp.language_modeling",
    "Enwiki8": "flambe.nlp.language_modeling",
    "LMField": "flambe.nlp.language_modeling",
    "LanguageModel": "flambe.nlp.language_modeling",
    "CorpusSampler": "flambe.nlp.language_modeling",
    "PrototypicalTextClassifier": "flambe.nlp.fewshot",
}
_LAZY.update(
    {
        name: "flambe.nlp.transformers"
        for name in (
            "PretrainedTransformerField",
            "PretrainedTransformerEmbedder",
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
            "AdamW",
            "ConstantLRSchedule",
            "PretrainedNotFoundError",
        )
    }
)
_LAZY.update(
    {
        name: "flambe.nlp.sru"
        for name in (
            "TransformerSRU",
            "TransformerSRUEncoder",
            "TransformerSRUDecoder",
            "TransformerSRUEncoderLayer",
            "TransformerSRUDecoderLayer",
        )
    }
)


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
