"""Fields: turn the raw values of a dataset's columns into tensors.

``Field`` is the interface; ``LabelField`` numericalizes labels and
``NumericField`` turns numeric columns into a float vector. Text fields
(``TextField``, ``BoWField``) come with the ``flambe-nlp`` distribution.
"""

from flambe.field.field import Field
from flambe.field.label import LabelField
from flambe.field.numeric import NumericField

__all__ = ["Field", "LabelField", "NumericField"]
