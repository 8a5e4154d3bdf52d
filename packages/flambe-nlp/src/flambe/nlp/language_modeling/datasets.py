"""Language modeling corpora: Penn Treebank, WikiText-103 and enwik8.

Each reads its files from ``data_dir`` when given, else downloads them once
from the original location into the Flambé home folder's cache (see
:mod:`flambe.nlp.download`). A split is one example holding the whole text
(for ``CorpusSampler``), or with ``split_by_line`` one example a line.
Examples have the single column ``text``.
"""

from __future__ import annotations

from flambe.dataset import TabularDataset
from flambe.errors import DataError
from flambe.field.field import Field
from flambe.nlp.download import fetch_file, fetch_from_zip, read_lines

Transform = dict[str, Field | dict] | None


def corpus_rows(lines: list[str], split_by_line: bool, eol: str | None) -> list[list[str]]:
    """One row holding every line (each followed by ``eol``), or one row a line."""
    if split_by_line:
        return [[line.strip() + (f" {eol}" if eol else "")] for line in lines]
    if eol:
        return [[" ".join(f"{line.strip()} {eol}" for line in lines)]]
    return [[" ".join(line.strip() for line in lines)]]


class PTBDataset(TabularDataset):
    """The Penn Treebank language modeling corpus (Mikolov's version, 10k words, ``<unk>``).

    Files ``train.txt``, ``valid.txt`` and ``test.txt``, one sentence a
    line. By default each split is one example: the whole text, every line
    end written as ``end_of_line_token``.

    Parameters
    ----------
    split_by_line : bool
        One example a line (each ending in ``end_of_line_token``).
    end_of_line_token : str, optional
        The token that marks line ends (None: no token).
    cache : bool
        Keep processed examples.
    transform : Dict[str, Union[Field, Dict]], optional
        The field of the ``text`` column (an ``LMField``).
    data_dir : str, optional
        A local folder with the files (else downloaded from :attr:`PTB_URL`
        into ``<Flambé home>/cache/datasets/ptb``).
    train_file, val_file, test_file : str, optional
        The file of each split, in ``data_dir`` or at the URL; None leaves
        the split out (e.g. train on ``valid.txt`` when ``train.txt`` is
        not at hand).

    """

    PTB_URL = "https://raw.githubusercontent.com/yoonkim/lstm-char-cnn/master/data/ptb/"

    def __init__(
        self,
        split_by_line: bool = False,
        end_of_line_token: str | None = "<eol>",
        cache: bool = False,
        transform: Transform = None,
        data_dir: str | None = None,
        train_file: str | None = "train.txt",
        val_file: str | None = "valid.txt",
        test_file: str | None = "test.txt",
    ) -> None:
        if train_file is None:
            raise DataError("PTBDataset needs a train_file")
        self.split_by_line, self.end_of_line_token = split_by_line, end_of_line_token
        self.data_dir = data_dir
        splits: list[list[list[str]] | None] = []
        for file in (train_file, val_file, test_file):
            if file is None:
                splits.append(None)
                continue
            path = fetch_file("PTBDataset", "ptb", file, self.PTB_URL + file, data_dir)
            splits.append(
                corpus_rows(
                    read_lines(path, "utf-8", "PTBDataset"), split_by_line, end_of_line_token
                )
            )
        train, val, test = splits
        assert train is not None  # train_file is required (checked above)
        super().__init__(train, val, test, cache=cache, named_columns=["text"], transform=transform)


class Wiki103(TabularDataset):
    """WikiText-103 (word level): ``wiki.{train,valid,test}.tokens`` of ``wikitext-103-v1.zip``.

    Parameters
    ----------
    split_by_line : bool
        One example a line instead of one a split.
    end_of_line_token : str, optional
        The token that marks line ends.
    remove_headers : bool
        Drop blank lines and section headers (lines starting or ending with ``=``).
    cache : bool
        Keep processed examples.
    transform : Dict[str, Union[Field, Dict]], optional
        The field of the ``text`` column.
    data_dir : str, optional
        A local folder holding the three ``.tokens`` files, or the zip
        (else the zip is downloaded from :attr:`WIKI_URL`).

    """

    WIKI_URL = "https://wikitext.smerity.com/wikitext-103-v1.zip"
    ARCHIVE = "wikitext-103-v1.zip"

    def __init__(
        self,
        split_by_line: bool = False,
        end_of_line_token: str | None = "<eol>",
        remove_headers: bool = False,
        cache: bool = False,
        transform: Transform = None,
        data_dir: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        splits = []
        for split in ("train", "valid", "test"):
            member = f"wikitext-103/wiki.{split}.tokens"
            path = fetch_from_zip(
                "Wiki103", "wikitext-103", self.ARCHIVE, self.WIKI_URL, member, data_dir
            )
            lines = read_lines(path, "utf-8", "Wiki103")
            if remove_headers:
                lines = [
                    line
                    for line in lines
                    if line.strip()
                    and not line.strip().startswith("=")
                    and not line.strip().endswith("=")
                ]
            splits.append(corpus_rows(lines, split_by_line, end_of_line_token))
        train, val, test = splits
        super().__init__(train, val, test, cache=cache, named_columns=["text"], transform=transform)


class Enwiki8(TabularDataset):
    """enwik8: the first 10^8 bytes of an English Wikipedia dump, as byte values.

    The last ``2 * num_eval_symbols`` bytes are the validation (first
    half) and test (second half) splits, the rest is the training split.
    Each split is one example: its bytes as decimal numbers separated by
    spaces (``"60 109 ..."``), for a whitespace-tokenized ``LMField``.

    Parameters
    ----------
    num_eval_symbols : int
        Bytes in each of the validation and test splits.
    remove_end_of_line : bool
        Drop the newline bytes (10).
    cache : bool
        Keep processed examples.
    transform : Dict[str, Union[Field, Dict]], optional
        The field of the ``text`` column.
    data_dir : str, optional
        A local folder holding ``enwik8`` or ``enwik8.zip`` (else the zip
        is downloaded from :attr:`ENWIKI_URL`).

    """

    ENWIKI_URL = "http://mattmahoney.net/dc/enwik8.zip"

    def __init__(
        self,
        num_eval_symbols: int = 5_000_000,
        remove_end_of_line: bool = False,
        cache: bool = False,
        transform: Transform = None,
        data_dir: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        path = fetch_from_zip(
            "Enwiki8", "enwik8", "enwik8.zip", self.ENWIKI_URL, "enwik8", data_dir
        )
        data = path.read_bytes()
        if remove_end_of_line:
            data = data.replace(b"\n", b"")
        n = int(num_eval_symbols)
        if n < 1 or 2 * n >= len(data):
            raise DataError(
                f"Enwiki8: num_eval_symbols={num_eval_symbols} leaves no training "
                f"data in {len(data)} bytes"
            )
        parts = (data[: -2 * n], data[-2 * n : -n], data[-n:])
        train, val, test = ([[" ".join(map(str, part))]] for part in parts)
        super().__init__(train, val, test, cache=cache, named_columns=["text"], transform=transform)
