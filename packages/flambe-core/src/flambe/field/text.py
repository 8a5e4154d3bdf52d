"""``flambe.field.text``, an import path of the original Flambé: ``TextField`` is in flambe-nlp."""

from flambe.utils.moved import moved_module

__getattr__, __dir__ = moved_module(__name__, "flambe.nlp.field.text", ["TextField"], "flambe-nlp")
