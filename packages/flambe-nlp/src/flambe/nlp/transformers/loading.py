"""Load Hugging Face tokenizers and models by name or from a local folder.

Every loader goes through the ``from_pretrained`` methods of the
``transformers`` Auto classes. A name that cannot be resolved, or a folder
without the files a tokenizer or a model needs, raises
:class:`PretrainedNotFoundError`, which says what was looked for and how to
point to a local folder instead (the Hub is not reachable offline).
"""

from __future__ import annotations

import os
from typing import Any

from flambe.errors import ArgumentError, FlambeError

_WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


class PretrainedNotFoundError(FlambeError, OSError):
    """A pretrained tokenizer, configuration or model could not be found."""


class PretrainedArgumentError(ArgumentError, ValueError):
    """An argument that the pretrained model cannot honour (a ``ValueError`` too)."""


def is_offline() -> bool:
    """Whether the Hugging Face libraries are told to stay offline (``HF_HUB_OFFLINE``)."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            return True
    return False


def _looks_like_path(alias: str) -> bool:
    # Hub ids look like relative paths ("org/name"); only these forms are surely paths
    return os.path.isabs(alias) or alias.startswith(("./", "../", "~", ".\\", "..\\"))


def _not_found(what: str, alias: str, cause: Exception) -> PretrainedNotFoundError:
    folder = os.path.isdir(os.path.expanduser(alias))
    if folder:
        message = f"the folder {alias!r} holds no {what} that transformers can load ({cause})"
        hint = (
            "give the folder a model saved with save_pretrained(): config.json, the "
            "weights (model.safetensors or pytorch_model.bin) and the tokenizer files"
        )
    else:
        where = "offline, " if is_offline() else ""
        message = (
            f"{where}the pretrained {what} {alias!r} could not be found locally "
            f"(nor on the Hugging Face Hub): {cause}"
        )
        hint = (
            "set alias to a local folder holding the model (saved with save_pretrained(), "
            "or a copy of the Hub repository), or go online once so that the Hub "
            "cache (HF_HOME) has it; Hub names are namespaced, e.g. "
            "'google-bert/bert-base-uncased'"
        )
    return PretrainedNotFoundError(message, hint=hint)


def _check_folder(alias: str, what: str) -> None:
    """Fail early on a missing folder given as a path."""
    expanded = os.path.expanduser(alias)
    if _looks_like_path(alias) and not os.path.isdir(expanded):
        raise PretrainedNotFoundError(
            f"the {what} folder {alias!r} does not exist",
            hint="check the path: relative paths start from the folder you run flambe in",
        )


def load_tokenizer(alias: str, **kwargs: Any) -> Any:
    """``AutoTokenizer.from_pretrained(alias, **kwargs)`` with a clear error when missing."""
    from transformers import AutoTokenizer

    _check_folder(alias, "tokenizer")
    try:
        tokenizer = AutoTokenizer.from_pretrained(alias, **kwargs)
    except (OSError, ValueError) as exc:
        raise _not_found("tokenizer", alias, exc) from exc
    if tokenizer is None or isinstance(tokenizer, bool):
        raise _not_found("tokenizer", alias, ValueError("no tokenizer files"))
    return tokenizer


def load_model(alias: str, **kwargs: Any) -> Any:
    """``AutoModel.from_pretrained(alias, **kwargs)`` with a clear error when missing."""
    from transformers import AutoModel

    _check_folder(alias, "model")
    expanded = os.path.expanduser(alias)
    if os.path.isdir(expanded) and not any(
        os.path.exists(os.path.join(expanded, name)) for name in _WEIGHT_FILES
    ):
        raise _not_found(
            "model", alias, FileNotFoundError(f"none of {', '.join(_WEIGHT_FILES)} is there")
        )
    try:
        return AutoModel.from_pretrained(alias, **kwargs)
    except (OSError, ValueError) as exc:
        raise _not_found("model", alias, exc) from exc
