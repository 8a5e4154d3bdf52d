"""Text fields: ``TextField`` (token ids, pretrained vectors) and ``BoWField`` (bags of words).

These lived in ``flambe.field`` in the original Flambé; they come with the
``flambe-nlp`` distribution as ``flambe.nlp.field``. ``Field`` and
``LabelField`` stay in ``flambe.field`` (flambe-core).
"""

from flambe.nlp.field.bow import BoWField, BowField
from flambe.nlp.field.embeddings import read_embeddings
from flambe.nlp.field.text import TextField

__all__ = ["TextField", "BoWField", "BowField", "read_embeddings"]
