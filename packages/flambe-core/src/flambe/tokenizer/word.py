"""``flambe.tokenizer.word``, an import path of the original Flambé (now in flambe-nlp)."""

from flambe.utils.moved import moved_module

__getattr__, __dir__ = moved_module(
    __name__,
    "flambe.nlp.tokenizer.word",
    ["WordTokenizer", "NGramsTokenizer", "WhitespaceTokenizer", "english_stop_words"],
    "flambe-nlp",
)
