"""Loading a saved model without randomly initialising it first.

Building a large model runs its initialisers (``kaiming_uniform_``...) only
for the weights to be overwritten by the saved state a moment later. When a
saved object is made of torch modules only, :func:`build_on_meta` builds it
on the ``meta`` device (shapes, no data), allocates it empty and lets
``load_state`` fill it. It refuses whenever that could leave a tensor
unfilled: a parameter or buffer missing from the state (non-persistent
buffers included), a plain tensor attribute the state does not restore, or
an ``__init__`` that needs real data; the caller then builds normally.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from flambe.compile.state import FLAMBE_MODULE_KEY, STATE_DICT_DELIMETER, State, walk

logger = logging.getLogger(__name__)

FAST_INIT_MIN_NUMEL = 1_000_000


def eligible(state: State, force: bool, may_import: bool = True) -> bool:
    """Whether the saved object is made of torch modules only, with enough weights to matter.

    With ``may_import=False`` (weights-only loads) the classes named by the
    save are looked up only among modules already imported.
    """
    import torch

    from flambe.plugins.manager import import_object

    if not force:
        numel = sum(v.numel() for v in state.values() if isinstance(v, torch.Tensor))
        if numel < FAST_INIT_MIN_NUMEL:
            return False
    root = state._metadata.get("", {})
    if FLAMBE_MODULE_KEY not in root:
        return False
    for local in state._metadata.values():
        if isinstance(local, dict) and FLAMBE_MODULE_KEY in local:
            if not may_import and str(local[FLAMBE_MODULE_KEY]).split(":")[0] not in sys.modules:
                return False
            try:
                cls = import_object(local[FLAMBE_MODULE_KEY])
            except Exception:
                return False
            if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
                return False
    return True


def _meta_tensors(value: Any) -> bool:
    import torch

    if isinstance(value, torch.Tensor):
        return value.is_meta
    if isinstance(value, (list, tuple, set)):
        return any(isinstance(v, torch.Tensor) and v.is_meta for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, torch.Tensor) and v.is_meta for v in value.values())
    return False


def _restorable_on_meta(obj: Any, state: State) -> bool:
    """Every tensor the meta-built ``obj`` holds will be overwritten by ``state``."""
    saved = set(state)
    names = [n for n, _ in obj.named_parameters(remove_duplicate=False)]
    names += [n for n, _ in obj.named_buffers(remove_duplicate=False)]
    if any(n not in saved for n in names):
        return False  # missing or non-persistent tensors would stay uninitialised
    holders = [(p, m) for p, m in obj.named_modules()] + [(n.key, n.obj) for n in walk(obj)]
    for path, holder in holders:
        registered = set(getattr(holder, "_registered_attrs", lambda: [])())
        for name, value in vars(holder).items():
            if name in ("_parameters", "_buffers", "_modules"):
                continue
            if not _meta_tensors(value):
                continue
            key = f"{path}{STATE_DICT_DELIMETER}{name}" if path else name
            if name not in registered or key not in saved:
                return False
    return True


def build_on_meta(state: State, build: Callable[[], Any], source: str) -> Any | None:
    """Build the saved model on the meta device (no random init), then allocate it empty.

    Returns ``None`` when that is not safe for this object: the normal path
    then builds it again, on the default device.
    """
    import torch

    try:
        with torch.device("meta"):
            obj = build()
    except Exception as exc:  # anything that needs real tensors in __init__
        logger.debug(
            "building %s on the meta device failed (%s); building it normally", source, exc
        )
        return None
    if not isinstance(obj, torch.nn.Module) or not _restorable_on_meta(obj, state):
        logger.debug("%s holds tensors the state does not restore; building it normally", source)
        return None
    shared = _shared_tensors(obj)
    obj = obj.to_empty(device=torch.get_default_device())
    if shared:  # to_empty gives each name its own tensor: tie them again
        tensors: dict[str, Any] = dict(obj.named_parameters(remove_duplicate=False))
        tensors.update(obj.named_buffers(remove_duplicate=False))
    for names in shared:
        first = tensors[names[0]]
        for name in names[1:]:
            owner, _, attr = name.rpartition(STATE_DICT_DELIMETER)
            setattr(obj.get_submodule(owner), attr, first)
    return obj


def _shared_tensors(module: Any) -> list[list[str]]:
    """Names of parameters and buffers that are one and the same tensor (tied weights)."""
    groups: dict[int, list[str]] = {}
    for name, tensor in list(module.named_parameters(remove_duplicate=False)) + list(
        module.named_buffers(remove_duplicate=False)
    ):
        groups.setdefault(id(tensor), []).append(name)
    return [names for names in groups.values() if len(names) > 1]
