"""PretrainedTransformerField: text to the token ids of a pretrained tokenizer."""

from __future__ import annotations

from typing import Any

import torch

from flambe.compile import registrable_factory
from flambe.errors import ArgumentError
from flambe.field.field import Field
from flambe.nlp.transformers.loading import load_tokenizer


class PretrainedTransformerField(Field):
    """Tokenize text with a Hugging Face tokenizer (``AutoTokenizer``).

    The vocabulary is the tokenizer's and never changes: :meth:`setup` does
    nothing. Long texts are cut by the tokenizer to ``max_len_truncate`` ids
    *including* the special tokens, so a truncated text still ends with the
    closing token (``[SEP]``, ``</s>``) the model expects.

    Parameters
    ----------
    alias : str
        A Hub model name (``google-bert/bert-base-uncased``) or a local folder
        holding the tokenizer files (what ``save_pretrained`` writes); the
        family classes (``BertTextField``...) default to their family's base model.
    cache_dir : str, optional
        Where downloaded files are cached (default: the Hugging Face cache, ``HF_HOME``).
    max_len_truncate : int, optional
        Maximum number of ids per text, special tokens included; None: no limit.
    add_special_tokens : bool
        Add the model's special tokens (``[CLS] ... [SEP]`` for BERT).
    **kwargs :
        Passed to ``AutoTokenizer.from_pretrained`` (``do_lower_case``, ``revision``...).

    Attributes
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
        The loaded tokenizer.

    Raises
    ------
    PretrainedNotFoundError
        When the tokenizer cannot be found (offline and not in a local folder or cache).

    Examples
    --------
    .. code-block:: yaml

        text: !PretrainedTransformerField
          alias: google-bert/bert-base-uncased
          max_len_truncate: 128

    """

    #: The alias used when none is given (set by the family classes, e.g. BertTextField).
    default_alias: str | None = None

    def __init__(
        self,
        alias: str | None = None,
        cache_dir: str | None = None,
        max_len_truncate: int | None = 500,
        add_special_tokens: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        alias = alias if alias is not None else type(self).default_alias
        if alias is None:
            raise ArgumentError(
                f"{type(self).__name__}: alias is required",
                hint="give a Hub model name or a local folder",
            )
        if max_len_truncate is not None and (
            not isinstance(max_len_truncate, int) or max_len_truncate < 1
        ):
            raise ArgumentError(
                f"{type(self).__name__}: max_len_truncate must be a positive "
                f"integer or None, not {max_len_truncate!r}"
            )
        self.alias = str(alias)
        self.cache_dir = cache_dir
        self.max_len_truncate = max_len_truncate
        self.add_special_tokens = add_special_tokens
        if cache_dir is not None:
            kwargs["cache_dir"] = cache_dir
        self.tokenizer = load_tokenizer(self.alias, **kwargs)

    @registrable_factory
    @classmethod
    def from_alias(
        cls,
        alias: str | None = None,
        cache_dir: str | None = None,
        max_len_truncate: int | None = 500,
        add_special_tokens: bool = True,
        lower: bool | None = None,
        **kwargs: Any,
    ) -> PretrainedTransformerField:
        """Build the field for ``alias`` (``!BertTextField.from_alias`` in YAML).

        Parameters
        ----------
        lower : bool, optional
            Lowercase the text before tokenizing (the tokenizer's ``do_lower_case``);
            None keeps the tokenizer's own setting.

        Other parameters are those of the constructor.

        """
        if lower is not None:
            kwargs["do_lower_case"] = bool(lower)
        return cls(
            alias,
            cache_dir=cache_dir,
            max_len_truncate=max_len_truncate,
            add_special_tokens=add_special_tokens,
            **kwargs,
        )

    @property
    def padding_idx(self) -> int | None:
        """The id of the tokenizer's pad token; None when it has none (GPT-2)."""
        return self.tokenizer.pad_token_id

    @property
    def vocab_size(self) -> int:
        """Number of ids, added tokens included (``len(tokenizer)``)."""
        return len(self.tokenizer)

    def setup(self, *data: Any) -> None:
        """Nothing to do: the vocabulary of a pretrained tokenizer is fixed."""

    def _encode(self, text: str) -> torch.Tensor:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates (e.g. from a badly decoded file)
            text = text.encode("utf-8", "replace").decode("utf-8")
        truncate = self.max_len_truncate is not None
        ids = self.tokenizer(
            text,
            add_special_tokens=self.add_special_tokens,
            truncation=truncate,
            max_length=self.max_len_truncate,
        )["input_ids"]
        return torch.tensor(ids, dtype=torch.long)

    def process(self, example: Any) -> Any:
        """Token ids of a text, of each text of a list, or of each value of a dict.

        Parameters
        ----------
        example : str, list, tuple or dict
            The text(s) to encode.

        Returns
        -------
        torch.Tensor, list or dict
            A 1-D LongTensor for a text; a list (dict) of them for a list (dict).

        """
        if isinstance(example, dict):
            return {key: self.process(value) for key, value in example.items()}
        if isinstance(example, (list, tuple)):
            return [self.process(value) for value in example]
        if not isinstance(example, str):
            example = str(example)
        return self._encode(example)
