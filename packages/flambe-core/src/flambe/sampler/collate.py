"""Making one batch from examples: stack equal shapes, pad unequal ones to the longest."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any, cast

import torch
from torch.nn.utils.rnn import pad_sequence

from flambe.errors import DataError

Pad = int | float | Sequence[int | float]


def collate_fn(data: Sequence[Sequence[Any]], pad: Pad = 0) -> tuple[torch.Tensor, ...]:
    """Turn a list of examples into a batch: one tensor per column, batch first.

    For each column, tensors of one shape are stacked (scalars give a
    ``[B]`` tensor); tensors of different shapes are padded with the
    column's pad value to the longest along every dimension. Values that
    are not tensors go through ``torch.as_tensor``. A column of (nested)
    lists of tensors becomes one tensor of shape ``(B, longest list, ...,
    longest leaf)``, keeping the leaves' dtype.

    Parameters
    ----------
    data : Sequence[Sequence]
        The examples, each with the same number of columns.
    pad : int, float or sequence of them
        The padding value, for all columns or one per column.

    Returns
    -------
    Tuple[torch.Tensor, ...]
        The batch.

    Raises
    ------
    DataError
        No example, examples with different numbers of columns, a pad list
        whose length is not the number of columns, tensors whose number of
        dimensions differ within a column.

    """
    if len(data) == 0:
        raise DataError("cannot make a batch of no examples")
    n_cols = len(data[0])
    if sum(map(len, data)) != n_cols * len(data):
        raise DataError(
            "the examples of a batch have different numbers of columns: "
            f"{sorted({len(example) for example in data})}"
        )
    if isinstance(pad, (int, float)):
        pads: Sequence[int | float] = [pad] * n_cols
    else:
        pads = list(pad)
        if len(pads) != n_cols:
            raise DataError(
                f"pad_index has {len(pads)} values but the examples have {n_cols} columns",
                hint="give one pad value, or one per column",
            )
    return tuple(
        _batch_column(column, value)
        for column, value in zip(zip(*data, strict=True), pads, strict=True)
    )


_shape = attrgetter("shape")


def _batch_column(column: Sequence[Any], pad: int | float) -> torch.Tensor:
    # The common cases first, with no check beyond what torch does itself: a
    # column of tensors of one shape, or of 1-D tensors of different lengths.
    first = column[0]
    if type(first) is torch.Tensor:
        try:
            ndim = first.dim()
            tensors = cast(list[torch.Tensor], column)  # checked by torch itself
            if ndim == 0:
                return torch.stack(tensors)
            if ndim == 1:  # equal lengths give the same result as stacking
                return pad_sequence(
                    tensors,
                    batch_first=True,
                    padding_value=pad,
                )
            if len(set(map(_shape, column))) == 1:
                return torch.stack(tensors)
        except (AttributeError, TypeError, RuntimeError, IndexError, ValueError):
            pass  # mixed values or shapes: the general path below says what is wrong
    return _batch_general(column, pad)


def _batch_general(column: Sequence[Any], pad: int | float) -> torch.Tensor:
    if any(isinstance(value, (list, tuple)) for value in column):
        return _batch_nested(column, pad)
    tensors = [t if isinstance(t, torch.Tensor) else torch.as_tensor(t) for t in column]
    shapes = set(map(_shape, tensors))
    if len(shapes) == 1:
        return torch.stack(tensors)
    return _pad(tensors, pad, shapes)


def pad_to_longest(tensors: Sequence[torch.Tensor], pad: int | float = 0) -> torch.Tensor:
    """Stack tensors, padding each to the longest size along every dimension.

    Parameters
    ----------
    tensors : Sequence[torch.Tensor]
        Tensors with the same number of dimensions.
    pad : int or float
        The padding value.

    Returns
    -------
    torch.Tensor
        Shape ``(len(tensors), max size of dim 0, max size of dim 1, ...)``.

    """
    return _pad(list(tensors), pad, set(map(_shape, tensors)))


def _pad(tensors: list[torch.Tensor], pad: int | float, shapes: set[torch.Size]) -> torch.Tensor:
    ndims = {len(shape) for shape in shapes}
    if len(ndims) > 1:
        raise DataError(
            f"cannot batch tensors with different numbers of dimensions: {sorted(ndims)}"
        )
    ndim = ndims.pop()
    if ndim == 0 or len(shapes) == 1:
        return torch.stack(tensors)
    if len({shape[1:] for shape in shapes}) == 1:  # only dim 0 differs: the fast path
        return pad_sequence(tensors, batch_first=True, padding_value=pad)
    sizes = [max(shape[d] for shape in shapes) for d in range(ndim)]
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    out = torch.full((len(tensors), *sizes), pad, dtype=dtype, device=tensors[0].device)
    for i, t in enumerate(tensors):
        where: tuple[int | slice, ...] = (i, *(slice(0, s) for s in t.shape))
        out[where] = t
    return out


def _nested_sizes(obj: Any, depth: int, sizes: list[int]) -> tuple[int, torch.dtype]:
    """Record the largest size at each depth; return the leaves' rank and dtype."""
    if isinstance(obj, (list, tuple)):
        if len(sizes) <= depth:
            sizes.append(0)
        sizes[depth] = max(sizes[depth], len(obj))
        found: tuple[int, torch.dtype] = (-1, torch.int64)
        for child in obj:
            leaf = _nested_sizes(child, depth + 1, sizes)
            if found[0] == -1:
                found = leaf
            elif leaf[0] != -1 and leaf != found and leaf[0] != found[0]:
                raise DataError(
                    "the leaves of a nested column have different numbers of dimensions"
                )
            elif leaf[0] != -1:
                found = (found[0], torch.promote_types(found[1], leaf[1]))
        return found
    tensor = obj if isinstance(obj, torch.Tensor) else torch.as_tensor(obj)
    for d, size in enumerate(tensor.shape):
        if len(sizes) <= depth + d:
            sizes.append(0)
        sizes[depth + d] = max(sizes[depth + d], size)
    return tensor.dim(), tensor.dtype


def _fill(out: torch.Tensor, obj: Any) -> None:
    if isinstance(obj, (list, tuple)):
        for j, child in enumerate(obj):
            _fill(out[j], child)
        return
    tensor = obj if isinstance(obj, torch.Tensor) else torch.as_tensor(obj)
    out[tuple(slice(0, s) for s in tensor.shape)] = tensor


def _batch_nested(column: Sequence[Any], pad: int | float) -> torch.Tensor:
    """Batch a column of nested lists of tensors into one padded tensor."""
    sizes: list[int] = []
    rank, dtype = -1, torch.int64
    for obj in column:
        leaf = _nested_sizes(obj, 0, sizes)
        if leaf[0] != -1:
            if rank == -1:
                rank, dtype = leaf
            elif leaf[0] != rank:
                raise DataError(
                    "the leaves of a nested column have different numbers of dimensions"
                )
            else:
                dtype = torch.promote_types(dtype, leaf[1])
    out = torch.full((len(column), *sizes), pad, dtype=dtype)
    for i, obj in enumerate(column):
        _fill(out[i], obj)
    return out
