"""``flambe.tokenizer``, an import path of the original Flambé.

The tokenizers come with the ``flambe-nlp`` distribution as
``flambe.nlp.tokenizer``. ``from flambe.tokenizer import WordTokenizer``
works when it is installed (the name is imported on first use) and says how
to install it when it is not.
"""

from flambe.utils.moved import moved_module

__getattr__, __dir__ = moved_module(
    __name__,
    "flambe.nlp.tokenizer",
    [
        "Tokenizer",
        "WordTokenizer",
        "WhitespaceTokenizer",
        "NGramsTokenizer",
        "CharTokenizer",
        "LabelTokenizer",
        "english_stop_words",
    ],
    "flambe-nlp",
)
