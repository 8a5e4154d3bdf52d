"""Samplers: turn a split's examples into batches of padded tensors."""

from flambe.sampler.base import BaseSampler
from flambe.sampler.collate import collate_fn, pad_to_longest
from flambe.sampler.episodic import EpisodicSampler
from flambe.sampler.sampler import Sampler

__all__ = ["Sampler", "BaseSampler", "EpisodicSampler", "collate_fn", "pad_to_longest"]
