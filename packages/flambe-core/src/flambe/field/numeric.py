"""``NumericField``: numeric columns to one float vector."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from flambe.errors import DataError
from flambe.field.field import Field


class NumericField(Field):
    """Turns the values of one or more numeric columns into a float vector.

    Values may be numbers or strings of numbers (as read from a csv file).
    Bind it to several columns in a dataset's transform
    (``{field: !NumericField {}, columns: [0, 1, 2]}``): ``process`` then
    gets one value per column and returns a vector of that length.

    Parameters
    ----------
    standardize : bool
        Subtract each column's mean and divide by its standard deviation,
        both computed over every split given to ``setup``.
    dtype : str
        The torch dtype of the output, ``"float32"`` by default.

    Attributes
    ----------
    mean, std : List[float] or None
        The column statistics (saved with the state; None before ``setup``).

    """

    def __init__(self, standardize: bool = False, dtype: str = "float32") -> None:
        super().__init__()
        self.standardize = standardize
        self.dtype = getattr(torch, dtype, None)
        if not isinstance(self.dtype, torch.dtype):
            raise DataError(
                f"NumericField: unknown dtype {dtype!r}",
                hint="use a torch dtype name such as 'float32' or 'float64'",
            )
        self.mean: list[float] | None = None
        self.std: list[float] | None = None
        self._n = 0
        self._sum: np.ndarray | None = None
        self._sum_sq: np.ndarray | None = None
        self.register_attrs("mean", "std")

    def setup(self, *data: np.ndarray) -> None:
        """Accumulate the mean and standard deviation of each column (with ``standardize``)."""
        if not self.standardize:
            return
        for split in data:
            if split is None or len(split) == 0:
                continue
            values = _as_matrix(split)
            self._sum = values.sum(0) if self._sum is None else self._sum + values.sum(0)
            squares = (values**2).sum(0)
            self._sum_sq = squares if self._sum_sq is None else self._sum_sq + squares
            self._n += len(values)
        if self._n:
            assert self._sum is not None and self._sum_sq is not None  # summed above
            mean = self._sum / self._n
            var = np.maximum(self._sum_sq / self._n - mean**2, 0.0)
            std = np.asarray(np.sqrt(var))
            std[std == 0] = 1.0  # constant columns are left centred, not divided by zero
            self.mean, self.std = mean.tolist(), std.tolist()

    def process(self, *example: Any) -> torch.Tensor:
        """Return the values as a 1-D tensor (standardized when asked).

        Raises
        ------
        DataError
            A value that is not a number.

        """
        try:
            values = [float(value) for value in example]
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"NumericField: a value is not a number: {exc}",
                hint="bind the field only to numeric columns",
            ) from exc
        if not self.standardize or self.mean is None:
            return torch.tensor(values, dtype=self.dtype)
        out = torch.tensor(values, dtype=torch.float64)
        if len(values) != len(self.mean):
            raise DataError(
                f"NumericField: got {len(values)} values, but setup saw {len(self.mean)} columns"
            )
        out = (out - torch.tensor(self.mean, dtype=torch.float64)) / torch.tensor(
            self.std, dtype=torch.float64
        )
        return out.to(self.dtype)


def _as_matrix(split: Any) -> np.ndarray:
    array = np.asarray(split, dtype=object)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    try:
        return array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"NumericField: a value is not a number: {exc}",
            hint="bind the field only to numeric columns",
        ) from exc
