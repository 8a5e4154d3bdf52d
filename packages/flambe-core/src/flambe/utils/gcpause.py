"""Pausing Python's cyclic garbage collector during short, allocation-heavy work.

Once torch is imported a process holds a few hundred thousand objects, and a
full collection of them takes about 0.1 s. Importing modules, building the
plugin host and loading a config allocate many objects that all live on,
which triggers such collections for nothing: Flambé pauses the collector for
those phases (measured by ``bench/bench_compile.py``) and restores its state
afterwards.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector inside the block (nesting is fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def without_gc(fn: F) -> F:
    """Decorator form of :func:`paused_gc`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with paused_gc():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
