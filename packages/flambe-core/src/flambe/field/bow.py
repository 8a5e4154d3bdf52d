"""``flambe.field.bow``, an import path of the original Flambé: ``BoWField`` is in flambe-nlp."""

from flambe.utils.moved import moved_module

__getattr__, __dir__ = moved_module(
    __name__, "flambe.nlp.field.bow", ["BoWField", "BowField"], "flambe-nlp"
)
