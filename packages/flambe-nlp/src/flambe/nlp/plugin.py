"""The plugin module of flambe-nlp, announced under the ``flambe.plugins`` entry point.

It declares its YAML tags (tokenizers, fields, datasets, models) as names mapped to
import paths, so that loading a config imports only the classes it uses and
``flambe --help`` imports neither torch nor this plugin's submodules.
"""

from __future__ import annotations

from collections.abc import Mapping

from flambe.plugins import hookimpl

# YAML tag (without "!") -> "module:Class"
TAGS: dict[str, str] = {
    # tokenizers
    "WordTokenizer": "flambe.nlp.tokenizer.word:WordTokenizer",
    "WhitespaceTokenizer": "flambe.nlp.tokenizer.word:WhitespaceTokenizer",
    "NGramsTokenizer": "flambe.nlp.tokenizer.word:NGramsTokenizer",
    "CharTokenizer": "flambe.nlp.tokenizer.char:CharTokenizer",
    "LabelTokenizer": "flambe.nlp.tokenizer.label:LabelTokenizer",
    # fields
    "TextField": "flambe.nlp.field.text:TextField",
    "BoWField": "flambe.nlp.field.bow:BoWField",
    "LMField": "flambe.nlp.language_modeling.fields:LMField",
    # datasets
    "SSTDataset": "flambe.nlp.classification.datasets:SSTDataset",
    "TRECDataset": "flambe.nlp.classification.datasets:TRECDataset",
    "NewsGroupDataset": "flambe.nlp.classification.datasets:NewsGroupDataset",
    "PTBDataset": "flambe.nlp.language_modeling.datasets:PTBDataset",
    "Wiki103": "flambe.nlp.language_modeling.datasets:Wiki103",
    "Enwiki8": "flambe.nlp.language_modeling.datasets:Enwiki8",
    # samplers and models
    "CorpusSampler": "flambe.nlp.language_modeling.sampler:CorpusSampler",
    "TextClassifier": "flambe.nlp.classification.model:TextClassifier",
    "LanguageModel": "flambe.nlp.language_modeling.model:LanguageModel",
    "PrototypicalTextClassifier": "flambe.nlp.fewshot.model:PrototypicalTextClassifier",
    # pretrained transformers (Hugging Face) and SRU transformers
    "PretrainedTransformerField": "flambe.nlp.transformers.field:PretrainedTransformerField",
    "PretrainedTransformerEmbedder": (
        "flambe.nlp.transformers.embedder:PretrainedTransformerEmbedder"
    ),
    # the original documentation's names of the two generic classes
    "TransformerTextField": "flambe.nlp.transformers.field:PretrainedTransformerField",
    "TransformerEmbedder": "flambe.nlp.transformers.embedder:PretrainedTransformerEmbedder",
    "BertTextField": "flambe.nlp.transformers.families:BertTextField",
    "BertEmbedder": "flambe.nlp.transformers.families:BertEmbedder",
    "BERTTextField": "flambe.nlp.transformers.families:BertTextField",
    "RobertaTextField": "flambe.nlp.transformers.families:RobertaTextField",
    "RobertaEmbedder": "flambe.nlp.transformers.families:RobertaEmbedder",
    "DistilBertTextField": "flambe.nlp.transformers.families:DistilBertTextField",
    "DistilBertEmbedder": "flambe.nlp.transformers.families:DistilBertEmbedder",
    "GPTTextField": "flambe.nlp.transformers.families:GPTTextField",
    "GPTEmbedder": "flambe.nlp.transformers.families:GPTEmbedder",
    "GPT2TextField": "flambe.nlp.transformers.families:GPT2TextField",
    "GPT2Embedder": "flambe.nlp.transformers.families:GPT2Embedder",
    "XLMTextField": "flambe.nlp.transformers.families:XLMTextField",
    "XLMEmbedder": "flambe.nlp.transformers.families:XLMEmbedder",
    "XLNetTextField": "flambe.nlp.transformers.families:XLNetTextField",
    "XLNetEmbedder": "flambe.nlp.transformers.families:XLNetEmbedder",
    "TransfoXLTextField": "flambe.nlp.transformers.families:TransfoXLTextField",
    "TransfoXLEmbedder": "flambe.nlp.transformers.families:TransfoXLEmbedder",
    "AdamW": "flambe.nlp.transformers.optim:AdamW",
    "ConstantLRSchedule": "flambe.nlp.transformers.optim:ConstantLRSchedule",
    "TransformerSRU": "flambe.nlp.sru.transformer:TransformerSRU",
    "TransformerSRUEncoder": "flambe.nlp.sru.transformer:TransformerSRUEncoder",
    "TransformerSRUDecoder": "flambe.nlp.sru.transformer:TransformerSRUDecoder",
    "TransformersSRUDecoder": "flambe.nlp.sru.transformer:TransformerSRUDecoder",
    "TransformerSRUEncoderLayer": "flambe.nlp.sru.transformer:TransformerSRUEncoderLayer",
    "TransformerSRUDecoderLayer": "flambe.nlp.sru.transformer:TransformerSRUDecoderLayer",
}


@hookimpl
def flambe_tags() -> Mapping[str, str]:
    """Tags provided by flambe-nlp."""
    return TAGS
