"""Fields: turn the raw values of a dataset's columns into tensors.

``Field`` is the interface; ``LabelField`` numericalizes labels and
``NumericField`` turns numeric columns into a float vector. Text fields
(``TextField``, ``BoWField``) come with the ``flambe-nlp`` distribution;
``from flambe.field import TextField``, the original import path, still
works when it is installed (the name is imported on first use) and says how
to install it when it is not.
"""

from flambe.field.field import Field
from flambe.field.label import LabelField
from flambe.field.numeric import NumericField
from flambe.utils.moved import moved_attributes

__all__ = ["Field", "LabelField", "NumericField"]

# moved to flambe-nlp (flambe.nlp.field); forwarded on first access
__getattr__, __dir__ = moved_attributes(
    __name__,
    {
        "TextField": "flambe.nlp.field",
        "BoWField": "flambe.nlp.field",
        "BowField": "flambe.nlp.field",
    },
    "flambe-nlp",
)
