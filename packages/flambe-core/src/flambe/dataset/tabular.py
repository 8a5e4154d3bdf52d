"""``TabularDataset``: tables of examples, with fields applied lazily per split."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any

import numpy as np

from flambe.compile.registrable import registrable_factory
from flambe.dataset.dataset import Dataset
from flambe.dataset.io import Columns, Header, read_table
from flambe.errors import DataError, FlambeError
from flambe.field.field import Field

ColumnSpec = int | list[int]
Hook = tuple[str, Field, ColumnSpec]
_SPLITS = ("train", "val", "test")


class DataView:
    """A lazy, read-only view of one split of a :class:`TabularDataset`.

    Indexing applies the dataset's fields to the row; with ``cache`` the
    result is kept, so each example is processed once. The dataset creates
    one view per split and keeps it: use ``dataset.train`` and friends.

    Parameters
    ----------
    data : np.ndarray, optional
        The split's rows (a 2-D array), or None for a missing split.
    transform_hooks : list of (name, Field, columns)
        The fields to apply, in order, with the column(s) each reads.
    cache : bool
        Keep processed examples.
    name : str
        The split's name (``train``, ``val``, ``test``), used in errors.
    owner : str
        What the split belongs to, used in errors.

    """

    def __init__(
        self,
        data: np.ndarray | None,
        transform_hooks: list[Hook],
        cache: bool,
        name: str = "data",
        owner: str = "dataset",
    ) -> None:
        self.data = data
        self.transform_hooks = transform_hooks
        self.cache = cache
        self.cached_data: dict[int, tuple[Any, ...]] = {}
        self.name = name
        self.owner = owner
        self._length = 0 if data is None else len(data)
        # rows as Python lists (the same value objects): indexing them is much
        # cheaper than indexing numpy object arrays, example after example
        self._rows: list[list[Any]] = [] if data is None else data.tolist()
        self._steps = [
            (
                name,
                field,
                columns if isinstance(columns, int) else -1,  # -1: the getter reads it
                None if isinstance(columns, int) else _getter(columns),
            )
            for name, field, columns in transform_hooks
        ]

    @property
    def raw(self) -> np.ndarray | None:
        """The unprocessed rows (None for a missing split)."""
        return self.data

    def describe(self) -> str:
        """Words naming this split in messages: ``the 'val' split of TabularDataset``."""
        return f"the {self.name!r} split of {self.owner}"

    def is_empty(self) -> bool:
        """True when the split has no example."""
        return self._length == 0

    def cols(self) -> int:
        """The number of values of a processed example.

        Raises
        ------
        DataError
            The split is empty.

        """
        if self.is_empty():
            raise DataError(f"{self.describe()} is empty, so it has no columns")
        return len(self[0])

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for index in range(self._length):
            yield self[index]

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        if self.cache:
            found = self.cached_data.get(index)
            if found is not None:
                return found
        length = self._length
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            raise IndexError(
                f"index {index} is out of range for {self.describe()} ({length} examples)"
            )
        if self.cache and position != index:
            found = self.cached_data.get(position)
            if found is not None:
                return found
        row = self._rows[position]
        if not self._steps:
            result = tuple(row)
        else:
            out: list[Any] = []
            for name, field, column, getter in self._steps:
                try:
                    if getter is None:
                        value = field.process(row[column])
                    else:
                        value = field.process(*getter(row))
                except Exception as exc:
                    raise _process_error(exc, name, field, position, self) from exc
                if type(value) is tuple:
                    out.extend(value)
                else:
                    out.append(value)
            result = tuple(out)
        if self.cache:
            self.cached_data[position] = result
        return result

    def __setitem__(self, key: Any, value: Any) -> None:
        raise DataError("DataView objects are immutable")

    def __delitem__(self, key: Any) -> None:
        raise DataError("DataView objects are immutable")

    def __repr__(self) -> str:
        return f"DataView({self.name!r}, {self._length} examples)"


def _getter(columns: list[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function returning the values of ``columns`` of a row, as a tuple."""
    if len(columns) == 1:
        only = columns[0]
        return lambda row: (row[only],)
    return itemgetter(*columns)


def _process_error(
    exc: Exception, name: str, field: Field, position: int, view: DataView
) -> DataError:
    detail = exc.message if isinstance(exc, FlambeError) else f"{type(exc).__name__}: {exc}"
    hint = exc.hint if isinstance(exc, FlambeError) else None
    return DataError(
        f"processing example {position} of {view.describe()} with "
        f"{type(field).__name__} {name!r} failed: {detail}",
        hint=hint,
    )


class TabularDataset(Dataset):
    """Tables of examples: a train split and optional validation and test splits.

    Each split is a table (rows of values, all rows with the same number
    of columns). Without ``transform`` an example is the tuple of its
    row's values; with it, each field processes its column(s) and the
    example is the tuple of their outputs (a field returning a tuple adds
    several). Processing happens when an example is first read (lazily),
    and with ``cache`` (the default: True) the result is kept.

    The dataset is also a sequence over all its examples, train then val
    then test; reading past the end raises ``IndexError``.

    Parameters
    ----------
    train : Iterable[Iterable]
        The training rows (a 2-D array, or a list of rows).
    val, test : Iterable[Iterable], optional
        The validation and test rows.
    cache : bool
        Keep processed examples (default True).
    named_columns : List[str], optional
        A name for each column, so ``transform`` can refer to columns by name.
    transform : Dict[str, Union[Field, Dict]], optional
        Ordered mapping of names to fields. An entry is a field, bound to
        the column at the entry's position, or ``{field: ..., columns: ...}``
        with a column position or name, or a list of them. Each field
        becomes an attribute of the dataset under its name
        (``!@ dataset.label.vocab_size``) and its ``setup`` is called with
        the column slices of every split.

    Raises
    ------
    DataError
        Ragged rows, splits with different column counts, column names
        that do not match the columns, a transform naming a column that
        does not exist, a field whose ``setup`` rejects the data.

    """

    def __init__(
        self,
        train: Iterable[Iterable],
        val: Iterable[Iterable] | None = None,
        test: Iterable[Iterable] | None = None,
        cache: bool = True,
        named_columns: list[str] | None = None,
        transform: dict[str, Field | dict] | None = None,
    ) -> None:
        super().__init__()
        self._train = _as_table(train, "train")
        if self._train is None:
            raise DataError("TabularDataset needs a train split", hint="give 'train' rows")
        self._val = _as_table(val, "val")
        self._test = _as_table(test, "test")
        width = self._train.shape[1]
        for name, table in (("val", self._val), ("test", self._test)):
            if table is not None and len(table) and len(self._train) and table.shape[1] != width:
                raise DataError(
                    f"the {name} split has {table.shape[1]} columns but train has {width}",
                    hint="every split needs the same columns",
                )
        if named_columns is not None:
            named_columns = [str(c) for c in named_columns]
            if len(named_columns) != width:
                raise DataError(
                    f"named_columns has {len(named_columns)} names for {width} "
                    f"columns: {named_columns!r}",
                    hint="give one name per column",
                )
        self.named_columns = named_columns
        self.cache = cache
        self.transform = transform
        self.transform_hooks: list[Hook] = []
        self._views: dict[str, DataView] = {}
        if transform:
            self._set_transforms(transform)

    # -- transforms -----------------------------------------------------------------
    def _resolve_column(self, name: str, column: Any) -> int:
        width = self._train.shape[1]  # type: ignore[union-attr]
        if isinstance(column, str):
            if self.named_columns is None:
                raise DataError(
                    f"transform {name!r} asks for column {column!r} by name, but the "
                    "dataset has no column names",
                    hint="give named_columns (or a header row), or use positions",
                )
            if column not in self.named_columns:
                raise DataError(
                    f"transform {name!r} asks for column {column!r}, which does not "
                    f"exist; the columns are {self.named_columns!r}"
                )
            return self.named_columns.index(column)
        if isinstance(column, int) and not isinstance(column, bool):
            if not -width <= column < width:
                raise DataError(
                    f"transform {name!r} asks for column {column}, which does not "
                    f"exist; the dataset has {width} columns",
                    hint=f"use a position from 0 to {width - 1}",
                )
            return column % width
        raise DataError(
            f"transform {name!r}: a column must be a position or a name, not {column!r}"
        )

    def _set_transforms(self, transform: dict[str, Field | dict]) -> None:
        """Bind each field to its column(s), make it an attribute and set it up."""
        reserved = set(dir(self))
        for position, (name, entry) in enumerate(transform.items()):
            if not isinstance(name, str) or not name.isidentifier() or name in reserved:
                raise DataError(
                    f"transform name {name!r} cannot be used",
                    hint="use an identifier that is not an attribute of "
                    "TabularDataset (such as 'text' or 'label')",
                )
            if isinstance(entry, Field):
                field, columns = entry, position
            elif isinstance(entry, dict):
                if "field" not in entry:
                    raise DataError(
                        f"transform {name!r} has no 'field'",
                        hint="write {field: !SomeField {...}, columns: ...}",
                    )
                unknown = set(entry) - {"field", "columns"}
                if unknown:
                    raise DataError(
                        f"transform {name!r} has unknown keys {sorted(unknown)!r}",
                        hint="an entry takes only 'field' and 'columns'",
                    )
                field, columns = entry["field"], entry.get("columns", position)
            else:
                raise DataError(
                    f"transform {name!r} is {type(entry).__name__}, not a Field",
                    hint="give a field, or {field: ..., columns: ...}",
                )
            if not isinstance(field, Field):
                raise DataError(
                    f"transform {name!r}: 'field' is {type(field).__name__}, not a Field"
                )
            cols: ColumnSpec
            if isinstance(columns, (list, tuple)):
                if not columns:
                    raise DataError(f"transform {name!r} has an empty list of columns")
                cols = [self._resolve_column(name, c) for c in columns]
            else:
                cols = self._resolve_column(name, columns)
            setattr(self, name, field)
            slices = [
                table[:, cols]
                for table in (self._train, self._val, self._test)
                if table is not None
            ]
            try:
                field.setup(*slices)
            except FlambeError as exc:
                raise type(exc)(
                    f"transform {name!r}: {exc.message}", exc.location, exc.hint
                ) from exc
            self.transform_hooks.append((name, field, cols))

    # -- splits ---------------------------------------------------------------------
    def _view(self, split: str) -> DataView:
        view = self._views.get(split)
        if view is None:
            view = DataView(
                getattr(self, "_" + split),
                self.transform_hooks,
                self.cache,
                name=split,
                owner=self._describe(),
            )
            self._views[split] = view
        return view

    def _describe(self) -> str:
        location = getattr(self._schema, "location", None) if self._schema else None
        return f"TabularDataset at {location}" if location else "TabularDataset"

    @property
    def train(self) -> DataView:  # type: ignore[override]  # a sequence, not a Sequence subclass
        """The training examples (a lazy view)."""
        return self._view("train")

    @property
    def val(self) -> DataView:  # type: ignore[override]  # a sequence, not a Sequence subclass
        """The validation examples (empty when not given)."""
        return self._view("val")

    @property
    def test(self) -> DataView:  # type: ignore[override]  # a sequence, not a Sequence subclass
        """The test examples (empty when not given)."""
        return self._view("test")

    @property
    def raw(self) -> np.ndarray:
        """The rows of every non-empty split, train then val then test."""
        tables = [t for t in (self._train, self._val, self._test) if t is not None and len(t)]
        return np.concatenate(tables) if tables else self._train  # type: ignore[return-value]

    @property
    def cols(self) -> int:
        """The number of values of a processed training example."""
        return self.train.cols()

    # -- sequence over all splits ---------------------------------------------------------
    def __len__(self) -> int:
        return len(self.train) + len(self.val) + len(self.test)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for split in _SPLITS:
            yield from self._view(split)

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"TabularDataset indices must be integers, not {type(index).__name__}")
        total = len(self)
        position = index + total if index < 0 else int(index)
        if not 0 <= position < total:
            raise IndexError(
                f"index {index} is out of range for a TabularDataset of {total} examples"
            )
        for split in _SPLITS:
            view = self._view(split)
            if position < len(view):
                return view[position]
            position -= len(view)
        raise IndexError(index)  # pragma: no cover - lengths checked above

    # -- loading ----------------------------------------------------------------------
    @registrable_factory
    @classmethod
    def from_path(
        cls,
        train_path: str,
        val_path: str | None = None,
        test_path: str | None = None,
        sep: str = "\t",
        header: Header = "infer",
        columns: Columns = None,
        encoding: str = "utf-8",
        transform: dict[str, Field | dict] | None = None,
        cache: bool = True,
    ) -> TabularDataset:
        r"""Load the splits from csv/tsv files (``!TabularDataset.from_path`` in YAML).

        Parameters
        ----------
        train_path : str
            A file, or a folder whose files are read in name order and concatenated.
        val_path, test_path : str, optional
            The same for the validation and test splits.
        sep : str
            The separator: ``'\t'`` (default) or ``','``.
        header : 'infer', int or None
            ``'infer'`` (default) or ``0``: the first row names the columns;
            ``None``: the files have no header row.
        columns : list of str or list of int, optional
            Load only these columns, in this order, by name or position.
        encoding : str
            The files' encoding (default ``utf-8``).
        transform : Dict[str, Union[Field, Dict]], optional
            As for the constructor.
        cache : bool
            As for the constructor (default True).

        Returns
        -------
        TabularDataset
            Values are strings; the column names are ``columns`` when given
            by name, else the header's, else None.

        Raises
        ------
        DataError
            Unreadable files (named), ragged rows (file and line named),
            unknown columns, no data.

        """
        train, names = cls._load_file(train_path, sep, header, columns, encoding)
        val = cls._load_file(val_path, sep, header, columns, encoding)[0] if val_path else None
        test = cls._load_file(test_path, sep, header, columns, encoding)[0] if test_path else None
        return cls(train, val, test, cache=cache, named_columns=names, transform=transform)

    @registrable_factory
    @classmethod
    def autogen(
        cls,
        data_path: str,
        test_path: str | None = None,
        seed: int | None = None,
        test_ratio: float = 0.2,
        val_ratio: float = 0.2,
        sep: str = "\t",
        header: Header = "infer",
        columns: Columns = None,
        encoding: str = "utf-8",
        transform: dict[str, Field | dict] | None = None,
        cache: bool = True,
    ) -> TabularDataset:
        """Load one file and split it into train, val and test (``!TabularDataset.autogen``).

        Without ``test_path``, ``test_ratio`` of the rows (rounded up) become
        the test split, then ``val_ratio`` of the rest (rounded up) the
        validation split. With ``test_path`` that file is the test split and
        only the validation split is drawn (``test_ratio`` is unused). Rows
        are shuffled first, by a generator seeded with ``seed``: the same
        seed gives the same splits.

        Other parameters are as for :meth:`from_path`.

        Raises
        ------
        DataError
            A ratio outside (0, 1), or too few rows to leave a training split.

        """
        for name, ratio in (("test_ratio", test_ratio), ("val_ratio", val_ratio)):
            if not 0 < ratio < 1:
                raise DataError(f"{name} must be between 0 and 1 (exclusive), not {ratio!r}")
        data, names = cls._load_file(data_path, sep, header, columns, encoding)
        rng = np.random.default_rng(seed)
        if test_path is not None:
            test = cls._load_file(test_path, sep, header, columns, encoding)[0]
            train, val = _split(data, val_ratio, rng)
        else:
            rest, test = _split(data, test_ratio, rng)
            train, val = _split(rest, val_ratio, rng)
        if not train:
            raise DataError(
                f"{data_path} has too few rows ({len(data)}) to split into train, val and test",
                hint="lower test_ratio and val_ratio",
            )
        return cls(train, val, test, cache=cache, named_columns=names, transform=transform)

    @classmethod
    def _load_file(
        cls,
        path: str,
        sep: str = "\t",
        header: Header = "infer",
        columns: Columns = None,
        encoding: str = "utf-8",
    ) -> tuple[list[list[str]], list[str] | None]:
        """Read a file or a folder of files: (rows, column names or None)."""
        return read_table(path, sep=sep, header=header, columns=columns, encoding=encoding)


def _split(rows: list[Any], ratio: float, rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    """Shuffle ``rows`` and cut off ``ceil(ratio * len)`` of them: (kept, cut)."""
    n_cut = math.ceil(round(ratio * len(rows), 9))
    order = rng.permutation(len(rows))
    kept = [rows[i] for i in order[: len(rows) - n_cut]]
    cut = [rows[i] for i in order[len(rows) - n_cut :]]
    return kept, cut


def _as_table(rows: Iterable[Iterable] | None, split: str) -> np.ndarray | None:
    """Rows as a 2-D array, checking every row has the same number of values."""
    if rows is None:
        return None
    if isinstance(rows, np.ndarray):
        if rows.ndim == 1:
            return rows.reshape(-1, 1)
        if rows.ndim != 2:
            raise DataError(f"the {split} split is a {rows.ndim}-D array; a table is 2-D")
        return rows
    if isinstance(rows, (str, bytes)):
        raise DataError(f"the {split} split is a string, not a list of rows")
    rows = list(rows)
    assert isinstance(rows, list)  # for mypy: a list from here on
    width: int | None = None
    for index, row in enumerate(rows):
        if type(row) not in (list, tuple) and (
            isinstance(row, (str, bytes)) or not isinstance(row, (Sequence, np.ndarray))
        ):
            raise DataError(
                f"row {index} of the {split} split is {type(row).__name__}, not a "
                "sequence of values",
                hint="give each row as a list or tuple",
            )
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise DataError(
                f"the {split} split contains examples with different amount of "
                f"columns: row 0 has {width} values, row {index} has {len(row)} "
                "(ragged rows)",
                hint="every row needs the same number of values",
            )
    if width is None:
        return np.empty((0, 0), dtype=object)
    table = np.empty((len(rows), width), dtype=object)
    try:
        filled = np.array(rows, dtype=object)
        if filled.shape != table.shape:
            raise ValueError
        table[...] = filled
    except ValueError:  # cells that are sequences themselves: fill cell by cell
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                table[i, j] = value
    return table
