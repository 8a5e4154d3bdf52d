"""NLP datasets: local folders (the shared data), the download path and its cache, errors."""

from __future__ import annotations

import logging
import os
import sys
import zipfile

import pytest

from flambe.compile import yaml
from flambe.errors import DataError
from flambe.field import LabelField
from flambe.nlp.classification import NewsGroupDataset, SSTDataset, TRECDataset
from flambe.nlp.download import cache_folder
from flambe.nlp.field import TextField
from flambe.nlp.language_modeling import Enwiki8, PTBDataset, Wiki103


# -- SST / TREC on the shared data ------------------------------------------------------
def test_sst_binary_and_fine_from_a_local_folder(shared_data):
    binary = SSTDataset(data_dir=str(shared_data / "sst"))
    assert (len(binary.train), len(binary.val), len(binary.test)) == (6920, 872, 1821)
    assert binary.named_columns == ["text", "label"]
    text, label = binary.train[0]
    assert label == "1" and text.startswith("a stirring , funny")
    fine = SSTDataset(binary=False, data_dir=str(shared_data / "sst"))
    assert (len(fine.train), len(fine.val), len(fine.test)) == (8544, 1101, 2210)
    assert {row[1] for row in fine.train} == {"0", "1", "2", "3", "4"}


def test_sst_line_format(tmp_path):
    for split in ("train", "dev", "test"):
        (tmp_path / f"stsa.binary.{split}").write_text("1 a great movie\n\n0 dull\n")
    dataset = SSTDataset(data_dir=str(tmp_path))
    assert dataset.train[0] == ("a great movie", "1")
    assert len(dataset.train) == 2
    (tmp_path / "stsa.binary.train").write_text("1 fine\n0\n")
    with pytest.raises(DataError, match="line 2"):
        SSTDataset(data_dir=str(tmp_path))


def test_sst_with_fields_from_yaml(shared_data):
    dataset = yaml.load(f"""
!SSTDataset
data_dir: {shared_data / "sst"}
transform:
  text: !TextField {{}}
  label: !LabelField {{}}
""")()
    assert dataset.label.vocab_size == 2
    tokens, label = dataset.test[0]
    assert tokens.dtype.is_floating_point is False and tokens.dim() == 1 and label.dim() == 0
    # the vocabulary covers every split: every test token has its own id
    assert 1 not in dataset.test[0][0].tolist()


def test_trec_has_no_validation_split_unless_asked(shared_data):
    trec = TRECDataset(data_dir=str(shared_data / "trec"))
    assert (len(trec.train), len(trec.val), len(trec.test)) == (5452, 0, 500)
    assert {row[1] for row in trec.train} == {str(i) for i in range(6)}
    carved = TRECDataset(data_dir=str(shared_data / "trec"), val_ratio=0.1, seed=3)
    assert (len(carved.train), len(carved.val)) == (4907, 545)
    again = TRECDataset(data_dir=str(shared_data / "trec"), val_ratio=0.1, seed=3)
    assert list(carved.val) == list(again.val)


def test_trec_reads_latin1(shared_data):
    trec = TRECDataset(data_dir=str(shared_data / "trec"))
    assert any("\u00f0" in row[0] or not row[0].isascii() for row in trec.train)


def test_bytes_outside_the_encoding_are_replaced_with_a_warning(tmp_path, caplog):
    for split in ("train", "dev", "test"):
        (tmp_path / f"stsa.binary.{split}").write_bytes(b"1 ok\n0 caf\xe9 bad\n")
    with caplog.at_level(logging.WARNING):
        dataset = SSTDataset(
            data_dir=str(tmp_path), transform={"text": TextField(), "label": LabelField()}
        )
    assert "line 2" in caplog.text and "U+FFFD" in caplog.text
    assert dataset.train[1][0].shape == (3,)  # caf, U+FFFD, bad: processed, no crash
    assert "\ufffd" in dataset.text.vocab


def test_label_missing_from_the_vocabulary_names_the_label():
    field = LabelField(labels=["0", "1"])
    with pytest.raises(DataError, match="'7'"):
        field.process("7")


# -- missing files and downloads --------------------------------------------------------
def test_a_missing_local_file_says_which_where_and_how(tmp_path):
    with pytest.raises(DataError) as info:
        SSTDataset(data_dir=str(tmp_path))
    message = str(info.value)
    assert "stsa.binary.train" in message and str(tmp_path) in message
    assert SSTDataset.URL in message and "data_dir" in message


def test_phrases_need_the_phrases_file(shared_data):
    with pytest.raises(DataError, match="stsa.binary.phrases.train"):
        SSTDataset(phrases=True, data_dir=str(shared_data / "sst"))


def test_download_goes_to_the_flambe_home_cache(shared_data, monkeypatch):
    # the download code path, fed by a file:// URL (no network in tests)
    monkeypatch.setattr(TRECDataset, "URL", (shared_data / "trec").as_uri() + "/")
    trec = TRECDataset()
    assert len(trec.train) == 5452
    cached = cache_folder("trec") / "TREC.train.all"
    assert cached.is_file() and str(cached).startswith(os.environ["FLAMBE_HOME"])
    monkeypatch.setattr(TRECDataset, "URL", "file:///nonexistent/")
    assert len(TRECDataset().test) == 500  # read from the cache now


def test_a_failed_download_says_which_file_from_where_and_how(monkeypatch):
    monkeypatch.setattr(SSTDataset, "URL", "http://127.0.0.1:9/data/")
    with pytest.raises(DataError) as info:
        SSTDataset(binary=False)
    message = str(info.value)
    assert "stsa.fine.train" in message and "http://127.0.0.1:9/data/stsa.fine.train" in message
    assert "data_dir" in message and str(cache_folder("sst")) in message
    assert not list(cache_folder("sst").glob("*.part"))


# -- 20 newsgroups ----------------------------------------------------------------------
def test_newsgroups_from_a_local_folder(tmp_path):
    for split, n in (("20news-bydate-train", 2), ("20news-bydate-test", 1)):
        for group in ("sci.space", "alt.atheism"):
            folder = tmp_path / split / group
            folder.mkdir(parents=True)
            for i in range(n):
                (folder / str(i)).write_bytes(b"From: x\n\n  hello   w\xf6rld \n")
    dataset = NewsGroupDataset(data_dir=str(tmp_path))
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (4, 0, 2)
    assert dataset.train[0] == ("From: x hello w\u00f6rld", "0")  # alt.atheism first
    assert dataset.train[3][1] == "1"


def test_newsgroups_without_scikit_learn_says_how_to_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        NewsGroupDataset()


def test_newsgroups_local_folder_must_hold_the_splits(tmp_path):
    with pytest.raises(DataError, match="20news-bydate-train"):
        NewsGroupDataset(data_dir=str(tmp_path))


# -- language modeling corpora ----------------------------------------------------------
def test_ptb_one_example_per_split_or_per_line(shared_data):
    folder = str(shared_data / "ptb")
    whole = PTBDataset(data_dir=folder, train_file="valid.txt", val_file="test.txt", test_file=None)
    assert (len(whole.train), len(whole.val), len(whole.test)) == (1, 1, 0)
    text = whole.train[0][0]
    assert "\n" not in text and text.count("<eol>") == 3370
    lines = PTBDataset(
        data_dir=folder,
        split_by_line=True,
        train_file="valid.txt",
        val_file=None,
        test_file="test.txt",
    )
    assert len(lines.train) == 3370 and len(lines.test) == 3761
    assert all(row[0].endswith(" <eol>") for row in lines.train)
    with pytest.raises(DataError, match="train.txt"):
        PTBDataset(data_dir=folder)


def test_ptb_with_an_lm_field(shared_data):
    dataset = yaml.load(f"""
!PTBDataset
data_dir: {shared_data / "ptb"}
train_file: valid.txt
val_file: test.txt
test_file: null
transform:
  text: !LMField {{tokenizer: !WhitespaceTokenizer {{}}}}
""")()
    source, target = dataset.train[0]
    assert source.numel() == target.numel() > 70000
    assert source[1:].tolist()[:50] == target[:-1].tolist()[:50]


def test_wiki103_from_extracted_files_or_the_zip(tmp_path):
    content = " = Title = \n\n text one \n = = Sub = = \n text two \n"
    folder = tmp_path / "extracted"
    folder.mkdir()
    for split in ("train", "valid", "test"):
        (folder / f"wiki.{split}.tokens").write_text(content)
    plain = Wiki103(data_dir=str(folder))
    assert len(plain.train) == 1 and plain.train[0][0].count("<eol>") == 5
    cleaned = Wiki103(data_dir=str(folder), remove_headers=True, split_by_line=True)
    assert [row[0] for row in cleaned.train] == ["text one <eol>", "text two <eol>"]
    zipped = tmp_path / "zipped"
    zipped.mkdir()
    with zipfile.ZipFile(zipped / "wikitext-103-v1.zip", "w") as bundle:
        for split in ("train", "valid", "test"):
            bundle.writestr(f"wikitext-103/wiki.{split}.tokens", content)
    assert Wiki103(data_dir=str(zipped)).test[0] == plain.test[0]
    with pytest.raises(DataError, match="wikitext-103-v1.zip"):
        Wiki103(data_dir=str(tmp_path / "nothing"))


def test_enwik8_splits_bytes(tmp_path):
    data = bytes(range(65, 91)) * 4 + b"\n" * 4  # 108 bytes
    (tmp_path / "enwik8").write_bytes(data)
    dataset = Enwiki8(num_eval_symbols=10, data_dir=str(tmp_path))
    val, test = dataset.val[0][0].split(" "), dataset.test[0][0].split(" ")
    assert len(val) == 10 and len(test) == 10 and test[-1] == "10"
    assert len(dataset.train[0][0].split(" ")) == 88
    stripped = Enwiki8(num_eval_symbols=10, remove_end_of_line=True, data_dir=str(tmp_path))
    assert "10" not in stripped.test[0][0].split(" ")
    with pytest.raises(DataError, match="num_eval_symbols"):
        Enwiki8(num_eval_symbols=60, data_dir=str(tmp_path))
