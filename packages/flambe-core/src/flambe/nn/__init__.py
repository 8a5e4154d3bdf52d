"""Neural network building blocks: every class is a torch module and a component."""

from __future__ import annotations

from flambe.nn import distance
from flambe.nn.cnn import CNNEncoder
from flambe.nn.embedding import Embedder, Embeddings
from flambe.nn.mlp import MLPEncoder
from flambe.nn.module import Module
from flambe.nn.mos import MixtureOfSoftmax
from flambe.nn.pooling import (
    AvgPooling,
    FirstPooling,
    GeneralizedPooling,
    LastPooling,
    StructuredSelfAttentivePooling,
    SumPooling,
)
from flambe.nn.rnn import PooledRNNEncoder, RNNEncoder
from flambe.nn.sequential import Sequential
from flambe.nn.softmax import SoftmaxLayer
from flambe.nn.transformer import Transformer, TransformerDecoder, TransformerEncoder
from flambe.utils.moved import moved_attributes

MLPDecoder = MLPEncoder  # the name used by the original documentation

# SRU transformers moved to flambe-nlp (flambe.nlp.sru); forwarded on first access
__getattr__, __dir__ = moved_attributes(
    __name__,
    {
        name: "flambe.nlp.sru"
        for name in (
            "TransformerSRU",
            "TransformerSRUEncoder",
            "TransformerSRUDecoder",
            "TransformersSRUDecoder",
            "TransformerSRUEncoderLayer",
            "TransformerSRUDecoderLayer",
        )
    },
    "flambe-nlp",
)

__all__ = [
    "Module",
    "Embeddings",
    "Embedder",
    "RNNEncoder",
    "PooledRNNEncoder",
    "CNNEncoder",
    "MLPEncoder",
    "MLPDecoder",
    "SoftmaxLayer",
    "MixtureOfSoftmax",
    "Sequential",
    "Transformer",
    "TransformerEncoder",
    "TransformerDecoder",
    "FirstPooling",
    "LastPooling",
    "SumPooling",
    "AvgPooling",
    "StructuredSelfAttentivePooling",
    "GeneralizedPooling",
    "distance",
]
