"""PretrainedTransformerEmbedder: a pretrained Hugging Face model as an encoder."""

from __future__ import annotations

from typing import Any

import torch

from flambe.nlp.transformers.loading import PretrainedArgumentError, load_model
from flambe.nn.module import Module

POOLINGS = ("pooler", "first", "mean")


def _pool_mode(pool: bool | str) -> str | None:
    if pool is False or pool is None:
        return None
    if pool is True:
        return "pooler"
    if isinstance(pool, str) and pool in POOLINGS:
        return pool
    raise PretrainedArgumentError(
        f"PretrainedTransformerEmbedder: pool must be a bool or one "
        f"of {', '.join(POOLINGS)}, not {pool!r}"
    )


class PretrainedTransformerEmbedder(Module):
    """A pretrained transformer (``AutoModel``) mapping token ids to vectors.

    Outputs the hidden states of the last layer, batch first, or one vector
    per sequence with ``pool``. Positions equal to ``padding_idx`` are masked
    out of the attention when no ``attention_mask`` is given.

    Attributes of the model's configuration are readable on the embedder, so
    a config can link to them: ``!@ teacher[embedder].hidden_size``.

    Parameters
    ----------
    alias : str
        A Hub model name (``google-bert/bert-base-uncased``) or a local folder
        holding ``config.json`` and the weights (what ``save_pretrained`` writes);
        the family classes (``BertEmbedder``...) default to their family's base model.
    cache_dir : str, optional
        Where downloaded files are cached (default: the Hugging Face cache, ``HF_HOME``).
    padding_idx : int, optional
        Token id of the padding; defaults to the configuration's ``pad_token_id``
        (None when the model has no pad token, like GPT-2: then nothing is masked).
    pool : bool or str
        False: per-token output [B x S x H]. True or ``'pooler'``: the model's
        pooled output [B x H] (models with a pooler: BERT, RoBERTa...).
        ``'first'``: the first token's hidden state. ``'mean'``: the mean over
        the real (unmasked) tokens.
    **kwargs :
        Passed to ``AutoModel.from_pretrained``.

    Attributes
    ----------
    config : transformers.PretrainedConfig
        The model's configuration.
    padding_idx : int or None
        The padding id used to build attention masks.
    pool : str or None
        The pooling mode (None for per-token output).

    Raises
    ------
    PretrainedNotFoundError
        When the model cannot be found (offline and not in a local folder or cache).
    ValueError
        ``pool=True`` for a model without a pooler (GPT-2, DistilBERT, XLNet...).

    """

    #: The alias used when none is given (set by the family classes, e.g. BertEmbedder).
    default_alias: str | None = None

    def __init__(
        self,
        alias: str | None = None,
        cache_dir: str | None = None,
        padding_idx: int | None = None,
        pool: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        alias = alias if alias is not None else type(self).default_alias
        if alias is None:
            raise PretrainedArgumentError(
                f"{type(self).__name__}: alias is required",
                hint="give a Hub model name or a local folder",
            )
        mode = _pool_mode(pool)
        if mode == "pooler" and "gpt2" in str(alias).lower():
            raise PretrainedArgumentError(
                f"PretrainedTransformerEmbedder: GPT-2 ({alias!r}) has no pooled output",
                hint="use pool: first or pool: mean",
            )
        self.alias = str(alias)
        self.cache_dir = cache_dir
        if cache_dir is not None:
            kwargs["cache_dir"] = cache_dir
        self._embedder = load_model(self.alias, **kwargs)
        self.config = self._embedder.config
        if mode == "pooler" and getattr(self._embedder, "pooler", None) is None:
            raise PretrainedArgumentError(
                f"PretrainedTransformerEmbedder: the {self.config.model_type} model {alias!r} "
                "has no pooler, so pool=True has no output to give",
                hint="use pool: first (the first token) or pool: mean (mean over tokens)",
            )
        self.pool = mode
        if padding_idx is None:
            padding_idx = getattr(self.config, "pad_token_id", None)
        self.padding_idx = padding_idx

    @property
    def output_size(self) -> int:
        """Size of the output vectors (the model's hidden size)."""
        return int(self.config.hidden_size)

    def forward(
        self,
        data: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Encode token ids ``data`` [B x S].

        Parameters
        ----------
        data : torch.Tensor
            Token ids, batch first, right-padded with ``padding_idx``.
        token_type_ids, position_ids : torch.Tensor, optional
            [B x S], as the model takes them.
        attention_mask : torch.Tensor, optional
            [B x S], 1 for real tokens; built from ``padding_idx`` when omitted.
        head_mask : None
            Kept for the original signature; transformers 5 removed head
            masking, so anything but None raises ValueError.

        Returns
        -------
        torch.Tensor
            [B x S x H], or [B x H] when pooling.

        """
        if head_mask is not None:
            raise PretrainedArgumentError(
                "PretrainedTransformerEmbedder: head_mask is not supported "
                "(transformers 5 removed head masking)",
                hint="leave head_mask out",
            )
        if attention_mask is None and self.padding_idx is not None:
            attention_mask = (data != self.padding_idx).long()
        inputs = {"input_ids": data, "attention_mask": attention_mask}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        if position_ids is not None:
            inputs["position_ids"] = position_ids
        output = self._embedder(**inputs)
        hidden = output.last_hidden_state
        if self.pool is None:
            return hidden
        if self.pool == "pooler":
            return output.pooler_output
        if self.pool == "first":
            return hidden[:, 0]
        if attention_mask is None:
            return hidden.mean(dim=1)
        weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
        return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            config = self.__dict__.get("config")
            if config is not None and not name.startswith("_") and hasattr(config, name):
                return getattr(config, name)
            raise
