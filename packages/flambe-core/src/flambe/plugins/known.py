"""Tags of Flambé's own plugin distributions, for helpful errors.

When a config uses a tag that no installed plugin declares, Flambé looks it
up here to say which distribution provides it. A test keeps this table in
step with what the first-party plugins declare.
"""

from __future__ import annotations

# tag name -> distribution that declares it
KNOWN_TAGS: dict[str, str] = {
    "WordTokenizer": "flambe-nlp",
    "WhitespaceTokenizer": "flambe-nlp",
    "NGramsTokenizer": "flambe-nlp",
    "CharTokenizer": "flambe-nlp",
    "LabelTokenizer": "flambe-nlp",
    "TextField": "flambe-nlp",
    "BoWField": "flambe-nlp",
    "LMField": "flambe-nlp",
    "SSTDataset": "flambe-nlp",
    "TRECDataset": "flambe-nlp",
    "NewsGroupDataset": "flambe-nlp",
    "PTBDataset": "flambe-nlp",
    "Wiki103": "flambe-nlp",
    "Enwiki8": "flambe-nlp",
    "CorpusSampler": "flambe-nlp",
    "TextClassifier": "flambe-nlp",
    "LanguageModel": "flambe-nlp",
    "PrototypicalTextClassifier": "flambe-nlp",
    "MNISTDataset": "flambe-vision",
    "ImageArrayDataset": "flambe-vision",
    "ImageFolderDataset": "flambe-vision",
    "ImageAugmentation": "flambe-vision",
    "ImageClassifier": "flambe-vision",
    # pretrained transformers and SRU transformers
    "PretrainedTransformerField": "flambe-nlp",
    "PretrainedTransformerEmbedder": "flambe-nlp",
    "TransformerTextField": "flambe-nlp",
    "TransformerEmbedder": "flambe-nlp",
    "BertTextField": "flambe-nlp",
    "BertEmbedder": "flambe-nlp",
    "BERTTextField": "flambe-nlp",
    "RobertaTextField": "flambe-nlp",
    "RobertaEmbedder": "flambe-nlp",
    "DistilBertTextField": "flambe-nlp",
    "DistilBertEmbedder": "flambe-nlp",
    "GPTTextField": "flambe-nlp",
    "GPTEmbedder": "flambe-nlp",
    "GPT2TextField": "flambe-nlp",
    "GPT2Embedder": "flambe-nlp",
    "XLMTextField": "flambe-nlp",
    "XLMEmbedder": "flambe-nlp",
    "XLNetTextField": "flambe-nlp",
    "XLNetEmbedder": "flambe-nlp",
    "TransfoXLTextField": "flambe-nlp",
    "TransfoXLEmbedder": "flambe-nlp",
    "AdamW": "flambe-nlp",
    "ConstantLRSchedule": "flambe-nlp",
    "TransformerSRU": "flambe-nlp",
    "TransformerSRUEncoder": "flambe-nlp",
    "TransformerSRUDecoder": "flambe-nlp",
    "TransformersSRUDecoder": "flambe-nlp",
    "TransformerSRUEncoderLayer": "flambe-nlp",
    "TransformerSRUDecoderLayer": "flambe-nlp",
    "SSHCluster": "flambe-cluster",
    "AWSCluster": "flambe-cluster",
}

# tag namespace prefix -> distribution that declares it
KNOWN_NAMESPACES: dict[str, str] = {}

# URL scheme -> distribution that serves it
KNOWN_SCHEMES: dict[str, str] = {"s3": "flambe-cluster"}


def distribution_for_tag(tag: str) -> str | None:
    """The first-party distribution that declares ``tag``, if any."""
    tag = tag.lstrip("!")
    if tag in KNOWN_TAGS:
        return KNOWN_TAGS[tag]
    prefix = tag.split(".", 1)[0]
    return KNOWN_NAMESPACES.get(prefix) if "." in tag else None
