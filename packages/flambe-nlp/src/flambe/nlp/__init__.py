"""Natural language for Flambé: text fields, tokenizers, embeddings, text datasets and models.

Part of the ``flambe-nlp`` distribution, which contributes this subpackage to
the ``flambe`` namespace. Importing it is cheap: the classes live in
submodules and are imported when a config or your code first uses them.
"""

__version__ = "0.1.0"
