"""Reading pretrained word vectors: GloVe text, word2vec text and binary, fastText text.

Read by Flambé itself (no gensim). Only the vectors of the words asked for
are parsed, but every line is checked, so a file with a bad header or
vectors of different sizes is an error that names the line.
"""

from __future__ import annotations

import mmap
import os
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np

from flambe.errors import DataError

FORMATS = ("glove", "word2vec", "fasttext")
Vectors = dict[str, np.ndarray]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_embeddings(
    path: str,
    embeddings_format: str = "glove",
    binary: bool = False,
    wanted: set[str] | None = None,
    encoding: str = "utf-8",
) -> tuple[Vectors, int]:
    """Read word vectors from ``path``.

    Parameters
    ----------
    path : str
        The vectors file.
    embeddings_format : str
        ``'glove'`` (text, no header line), ``'word2vec'`` (a header line
        ``<count> <dim>``, then text or, with ``binary``, binary vectors) or
        ``'fasttext'`` (the ``.vec`` text format: like word2vec text).
    binary : bool
        The file holds word2vec binary vectors (``.bin`` of word2vec).
    wanted : Set[str], optional
        Keep only these words (all words when None).
    encoding : str
        The encoding of the words; undecodable bytes become U+FFFD.

    Returns
    -------
    (Dict[str, np.ndarray], int)
        Word to float32 vector, in file order (the first of repeated words
        wins), and the dimension.

    Raises
    ------
    DataError
        The file cannot be read, an unknown format, a header that is not
        ``<count> <dim>``, a line whose vector size differs from the
        header's or from the first vector's, a value that is not a number,
        a truncated binary file. Lines are numbered from 1.

    """
    if embeddings_format not in FORMATS:
        hint = (
            "download the vectors and give the file's path with embeddings_format "
            "glove, word2vec or fasttext"
            if embeddings_format == "gensim"
            else f"use one of {', '.join(FORMATS)}"
        )
        raise DataError(f"unknown embeddings_format {embeddings_format!r}", hint=hint)
    if not os.path.isfile(path):
        raise DataError(
            f"embeddings file {path!r} does not exist",
            hint="give the path of a GloVe, word2vec or fastText vectors file",
        )
    if binary:
        if embeddings_format != "word2vec":
            raise DataError(
                f"binary {embeddings_format} files are not supported ({path})",
                hint="use the text vectors (.vec for fastText, .txt for GloVe), "
                "or word2vec binary with embeddings_format: word2vec",
            )
        return _read_word2vec_binary(path, wanted, encoding)
    return _read_text(path, embeddings_format != "glove", wanted, encoding)


def _header(line: str, path: str) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[1]) < 1:
        raise DataError(
            f"{path}, line 1: expected the header '<count> <dim>', got {line.strip()[:60]!r}",
            hint="files without a header line are GloVe: use embeddings_format: glove",
        )
    return int(parts[0]), int(parts[1])


def _read_text(
    path: str, has_header: bool, wanted: set[str] | None, encoding: str
) -> tuple[Vectors, int]:
    vectors: Vectors = OrderedDict()
    dim: int | None = None
    dim_from = ""
    with open(path, encoding=encoding, errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if number == 1 and has_header:
                _, dim = _header(line, path)
                dim_from = "the header (line 1)"
                continue
            parts = line.rstrip().split(" ")
            if len(parts) == 1 and not parts[0]:
                continue  # blank line
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise DataError(
                        f"{path}, line {number}: a word without a vector",
                        hint="each line is a word followed by its values",
                    )
                dim_from = f"line {number}"
            found = len(parts) - 1
            if found != dim:
                # GloVe 840B has words with spaces: more fields, the extra ones not numbers
                if found < dim or all(_is_number(p) for p in parts[1 : found - dim + 1]):
                    raise DataError(
                        f"{path}, line {number}: a vector of {found} values, but "
                        f"{dim_from} gives dimension {dim}",
                        hint="every vector needs the same number of values",
                    )
                word = " ".join(parts[: found - dim + 1])
            else:
                word = parts[0]
            if (wanted is None or word in wanted) and word not in vectors:
                try:
                    vectors[word] = np.asarray(parts[-dim:], dtype=np.float32)
                except ValueError as exc:
                    raise DataError(
                        f"{path}, line {number}: a value of {word!r} is not a number ({exc})"
                    ) from exc
    if dim is None:
        raise DataError(f"embeddings file {path!r} holds no vector")
    return vectors, dim


def _read_word2vec_binary(path: str, wanted: set[str] | None, encoding: str) -> tuple[Vectors, int]:
    vectors: Vectors = OrderedDict()
    with open(path, "rb") as handle:
        first = handle.readline().decode("ascii", errors="replace")
        count, dim = _header(first, path)
        if os.fstat(handle.fileno()).st_size == handle.tell():
            return vectors, dim
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            position = len(first.encode("ascii", errors="replace"))
            width = 4 * dim
            for entry in range(1, count + 1):
                while position < len(data) and data[position : position + 1] in (b"\n", b"\r"):
                    position += 1
                space = data.find(b" ", position)
                if space < 0 or space + 1 + width > len(data):
                    raise DataError(
                        f"{path}: truncated binary file at vector {entry} of "
                        f"{count} (the header, line 1, announces {count} vectors "
                        f"of dimension {dim})",
                        hint="check the header line and the download",
                    )
                word = data[position:space].decode(encoding, errors="replace")
                if (wanted is None or word in wanted) and word not in vectors:
                    vectors[word] = np.frombuffer(
                        data[space + 1 : space + 1 + width], dtype="<f4"
                    ).astype(np.float32)
                position = space + 1 + width
    return vectors, dim


def write_word2vec_binary(path: str, vectors: Iterable[tuple[str, Iterable[float]]]) -> None:
    """Write ``(word, vector)`` pairs in the word2vec binary format (for tests and tools)."""
    items = [(w, np.asarray(v, dtype="<f4")) for w, v in vectors]
    dim = len(items[0][1]) if items else 0
    with open(path, "wb") as handle:
        handle.write(f"{len(items)} {dim}\n".encode("ascii"))
        for word, vector in items:
            handle.write(word.encode("utf-8") + b" " + vector.tobytes() + b"\n")
