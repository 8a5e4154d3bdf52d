"""Neural network building blocks: every class is a torch module and a component."""

from __future__ import annotations

from flambe.nn import distance
from flambe.nn.cnn import CNNEncoder
from flambe.nn.embedding import Embedder, Embeddings
from flambe.nn.mlp import MLPEncoder
from flambe.nn.module import Module
from flambe.nn.mos import MixtureOfSoftmax
from flambe.nn.pooling import (AvgPooling, FirstPooling, GeneralizedPooling, LastPooling,
                               StructuredSelfAttentivePooling, SumPooling)
from flambe.nn.rnn import PooledRNNEncoder, RNNEncoder
from flambe.nn.sequential import Sequential
from flambe.nn.softmax import SoftmaxLayer
from flambe.nn.transformer import Transformer, TransformerDecoder, TransformerEncoder

MLPDecoder = MLPEncoder  # the name used by the original documentation

__all__ = ["Module", "Embeddings", "Embedder", "RNNEncoder", "PooledRNNEncoder", "CNNEncoder",
           "MLPEncoder", "MLPDecoder", "SoftmaxLayer", "MixtureOfSoftmax", "Sequential",
           "Transformer", "TransformerEncoder", "TransformerDecoder", "FirstPooling",
           "LastPooling", "SumPooling", "AvgPooling", "StructuredSelfAttentivePooling",
           "GeneralizedPooling", "distance"]
