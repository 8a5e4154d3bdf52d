"""Reading tables from csv/tsv files (or folders of them) with the ``csv`` module.

Every value is read as a string, empty cells as ``''``; blank lines are
skipped. A header row gives the columns names. Problems are ``DataError``s
that name the file (and the line, for a row with the wrong number of values).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from flambe.errors import DataError

Header = str | int | None
Columns = Sequence[str | int] | None


def list_files(path: str | os.PathLike) -> list[Path]:
    """The files to read for ``path``: the file itself, or a folder's files sorted by name.

    Hidden files (names starting with ``.``) and sub-folders of a folder are
    left out.

    Raises
    ------
    DataError
        The path does not exist, or the folder holds no file.

    """
    target = Path(path)
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise DataError(f"No data found at {str(path)!r}: the folder holds no file")
        return files
    if not target.exists():
        raise DataError(
            f"No data found at {str(path)!r}: no such file or folder",
            hint="check the path (relative paths are relative to the working folder)",
        )
    return [target]


def _header_row(header: Header) -> int | None:
    if header is None:
        return None
    if header == "infer":
        return 0
    if isinstance(header, int) and not isinstance(header, bool) and header >= 0:
        return header
    raise DataError(
        f"header must be 'infer', a row number or None, not {header!r}",
        hint="use 'infer' (or 0) when the first row holds the column names, "
        "None when there is no header row",
    )


def _select(
    columns: Columns, names: list[str] | None, width: int, file: Path
) -> tuple[list[int] | None, list[str] | None]:
    """Positions to keep, and the names of the kept columns (or None)."""
    if columns is None:
        return None, names
    columns = list(columns)
    kinds = {isinstance(c, str) for c in columns}
    if len(kinds) > 1:
        raise DataError(
            f"columns mixes names and positions: {columns!r}",
            hint="give only column names or only positions",
        )
    if any(isinstance(c, bool) or not isinstance(c, (str, int)) for c in columns):
        raise DataError(f"columns must be names or positions, got {columns!r}")
    if kinds == {True}:
        if names is None:
            raise DataError(
                f"columns are given by name ({columns!r}) but {file} is read without a header row",
                hint="use header: 'infer' or positions",
            )
        wanted = [str(c) for c in columns]
        unknown = [c for c in wanted if c not in names]
        if unknown:
            raise DataError(f"{file}: no column named {unknown[0]!r}; the columns are {names!r}")
        return [names.index(c) for c in wanted], wanted
    numbers = [int(c) for c in columns]
    bad = [c for c in numbers if not -width <= c < width]
    if bad:
        raise DataError(f"{file}: no column at position {bad[0]}; the file has {width} columns")
    positions = [c % width for c in numbers]
    return positions, [names[p] for p in positions] if names is not None else None


def read_table(
    path: str | os.PathLike,
    sep: str = "\t",
    header: Header = "infer",
    columns: Columns = None,
    encoding: str = "utf-8",
) -> tuple[list[list[str]], list[str] | None]:
    r"""Read a csv/tsv file, or every file of a folder in name order, into rows of strings.

    Parameters
    ----------
    path : str
        A file, or a folder whose files (sorted by name) are concatenated.
    sep : str
        The one-character separator (``'\t'`` by default, ``','`` for csv).
    header : 'infer', int or None
        ``'infer'`` or ``0``: the first row names the columns; ``n``: row
        ``n`` does, the rows before it are skipped; ``None``: no header.
    columns : list of str or list of int, optional
        Keep only these columns, in this order, by name or by position.
    encoding : str
        The files' text encoding.

    Returns
    -------
    Tuple[List[List[str]], Optional[List[str]]]
        The rows, and the column names (None without a header).

    Raises
    ------
    DataError
        A file cannot be read or decoded, a row has a different number of
        values than the others (its file and line are named), a column does
        not exist, or there is no row at all.

    """
    if not isinstance(sep, str) or len(sep) != 1:
        raise DataError(
            f"sep must be a single character, not {sep!r}",
            hint="use '\\t' for tsv files and ',' for csv files",
        )
    header_at = _header_row(header)
    rows: list[list[str]] = []
    names: list[str] | None = None
    expected: tuple[int, Path] | None = None  # column count, file that set it
    for file in list_files(path):
        file_rows, file_names, width = _read_one(file, sep, header_at, encoding)
        if width is None:
            continue
        if expected is None:
            expected = (width, file)
            names = file_names
        elif width != expected[0]:
            raise DataError(
                f"{file} has {width} columns but {expected[1]} has {expected[0]}",
                hint="every file of a folder must have the same columns",
            )
        positions, kept_names = _select(columns, file_names, width, file)
        if positions is not None:
            file_rows = [[row[p] for p in positions] for row in file_rows]
        if file is expected[1]:
            names = kept_names
        rows.extend(file_rows)
    if not rows:
        raise DataError(f"No data found at {str(path)!r}", hint="the file(s) hold no data row")
    return rows, names


def _read_one(
    file: Path, sep: str, header_at: int | None, encoding: str
) -> tuple[list[list[str]], list[str] | None, int | None]:
    rows: list[list[str]] = []
    names: list[str] | None = None
    width: int | None = None
    width_line = 0
    try:
        with open(file, encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=sep)
            seen = 0
            for row in reader:
                if not row:
                    continue  # blank line
                index, seen = seen, seen + 1
                if header_at is not None and index < header_at:
                    continue
                if width is None:
                    width, width_line = len(row), reader.line_num
                elif len(row) != width:
                    raise DataError(
                        f"{file}:{reader.line_num}: a row with {len(row)} values, but line "
                        f"{width_line} has {width} (ragged rows)",
                        hint=f"every row needs the same number of values; check the separator "
                        f"(sep={sep!r}) and quoting",
                    )
                if header_at is not None and index == header_at:
                    names = row
                    continue
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"cannot decode {file} as {encoding}: {exc.reason} at byte {exc.start}",
            hint="set 'encoding' to the file's encoding",
        ) from exc
    except csv.Error as exc:
        raise DataError(f"cannot read {file}: {exc}") from exc
    except OSError as exc:
        raise DataError(f"cannot read {file}: {exc.strerror or exc}") from exc
    return rows, names, width
