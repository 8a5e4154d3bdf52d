"""``LMField``: text to (input ids, next-token ids) for language modeling."""

from __future__ import annotations

from typing import Any

import torch

from flambe.nlp.field.text import TextField


class LMField(TextField):
    """A :class:`~flambe.nlp.field.TextField` that returns the ids and the ids shifted by one.

    ``process("a b c")`` with ``eos_token='<eos>'`` gives the ids of
    ``a b c`` and of ``b c <eos>``: each position's target is the next
    token. Takes the keywords of ``TextField``.
    """

    def process(self, example: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """``(ids[:-1], ids[1:])`` of ``example``."""
        ids = super().process(example)
        return ids[:-1], ids[1:]
