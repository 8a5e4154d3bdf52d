"""SRU transformers: transformer layers whose feed-forward block is an SRU cell.

Needs the ``sru`` package (installed with flambe-nlp). For SRU recurrent
encoders use flambe-core's ``!RNNEncoder {rnn_type: sru}``.
"""

from flambe.nlp.sru.transformer import (
    SRUArgumentError,
    TransformerSRU,
    TransformerSRUDecoder,
    TransformerSRUDecoderLayer,
    TransformerSRUEncoder,
    TransformerSRUEncoderLayer,
)

TransformersSRUDecoder = TransformerSRUDecoder  # a spelling of the original documentation

__all__ = [
    "TransformerSRU",
    "TransformerSRUEncoder",
    "TransformerSRUDecoder",
    "TransformersSRUDecoder",
    "TransformerSRUEncoderLayer",
    "TransformerSRUDecoderLayer",
    "SRUArgumentError",
]
