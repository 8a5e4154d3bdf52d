"""Datasets: Dataset and TabularDataset (D1-D12), file loading, bad input."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import flambe
from flambe.compile import Component, yaml
from flambe.dataset import Dataset, DataView, TabularDataset
from flambe.errors import DataError, FlambeError
from flambe.field import Field, LabelField, NumericField


class Holder(Component):
    """Holds a dataset and a number linked from it (for YAML tests)."""

    def __init__(self, dataset, n_labels: int = 0):
        super().__init__()
        self.dataset, self.n_labels = dataset, n_labels


class Pair(Field):
    """Returns two tensors per example (a field with a tuple output)."""

    def process(self, a, b):
        return torch.tensor(len(a)), torch.tensor(len(b))


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def train_csv(tmp_path):
    rows = "\n".join(f"text {i},{i % 7}" for i in range(100))
    return write(tmp_path / "train.csv", "text,label\n" + rows + "\n")


# -- D1, D2, D3, D4, D11 ---------------------------------------------------------------------
def test_d1_ragged_rows_and_column_mismatches_raise():
    with pytest.raises(ValueError, match="different amount of columns"):
        TabularDataset([("a", 3, 4.5), ("b", 5.5)])
    with pytest.raises(DataError, match="val split has 2 columns but train has 3"):
        TabularDataset([("a", 3, 4.5)], [("b", 5.5)])
    with pytest.raises(DataError, match="named_columns has 1 names for 2 columns"):
        TabularDataset([("a", 1)], named_columns=["x"])
    assert TabularDataset([("a", 1)], named_columns=["c1", "c2"]).named_columns == ["c1", "c2"]


def test_ragged_error_names_the_split_and_row():
    with pytest.raises(DataError, match=r"test split .* row 2 has 1"):
        TabularDataset([("a", 1)], test=[("b", 2), ("c", 3), ("d",)])


def test_d2_missing_splits_are_empty_views():
    t = TabularDataset([("a", 1)])
    assert len(t.val) == 0 and len(t.test) == 0
    assert t.val.is_empty() and not t.train.is_empty()
    assert t.val.raw is None
    with pytest.raises(DataError, match="'val' split of TabularDataset is empty"):
        t.val.cols()


def test_d3_sequence_over_all_splits_and_index_past_the_end():
    t = TabularDataset([("a", 1), ("b", 2)], [("c", 3)], [("d", 4)])
    assert len(t) == 4
    assert t[0] == ("a", 1) and t[2] == ("c", 3) and t[3] == ("d", 4) and t[-1] == ("d", 4)
    assert list(t) == [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
    # regression: the original returned None past the end instead of raising
    with pytest.raises(IndexError):
        t[4]
    with pytest.raises(IndexError):
        t.train[2]
    with pytest.raises(TypeError):
        t["a"]
    assert t.raw.shape == (4, 2) and t.cols == 2


def test_d4_cache_keeps_processed_examples_only_when_asked():
    rows = [(f"x{i}", str(i % 2)) for i in range(5)]
    t = TabularDataset(rows, transform={"label": {"field": LabelField(), "columns": 1}})
    for i, _ in enumerate(t.train):
        assert len(t.train.cached_data) == i + 1
    assert t.train[3] is t.train[3]
    off = TabularDataset(
        rows, cache=False, transform={"label": {"field": LabelField(), "columns": 1}}
    )
    list(off.train)
    assert off.train.cached_data == {}


def test_cache_default_is_true_and_documented_so():
    # regression: the original docstring said the default was False
    assert inspect.signature(TabularDataset).parameters["cache"].default is True
    assert "default True" in TabularDataset.__doc__ or "default: True" in TabularDataset.__doc__


def test_views_are_singletons():
    t = TabularDataset([("a", 1)])
    assert t.train is t.train and isinstance(t.train, DataView)


def test_d11_datasets_and_views_are_immutable():
    t = TabularDataset([("a", 1)])
    for target in (t, t.train):
        with pytest.raises(ValueError, match="immutable"):
            target[0] = ("b", 2)
        with pytest.raises(ValueError, match="immutable"):
            del target[0]


def test_dataset_interface_is_abstract():
    with pytest.raises(TypeError):
        Dataset()


def test_numpy_tables():
    t = TabularDataset(np.random.random((100, 2)), np.random.random((10, 2)))
    assert len(t) == 110 and len(t.train[0]) == 2
    column = TabularDataset(np.arange(5))  # a 1-D array is one column
    assert column.cols == 1 and column[4] == (4,)


# -- D5, D6, D7: loading files ---------------------------------------------------------------
def test_d5_header_names_and_column_selection(train_csv):
    t = TabularDataset.from_path(train_csv, sep=",")
    assert t.named_columns == ["text", "label"]
    assert t[6] == ("text 6", "6")
    assert len(t) == 100
    no_header = TabularDataset.from_path(train_csv, sep=",", header=None)
    assert no_header.named_columns is None and no_header[0] == ("text", "label")
    swapped = TabularDataset.from_path(train_csv, sep=",", columns=["label", "text"])
    assert swapped.named_columns == ["label", "text"] and swapped[6] == ("6", "text 6")
    by_position = TabularDataset.from_path(train_csv, sep=",", columns=[1])
    assert by_position.named_columns == ["label"] and by_position[6] == ("6",)


def test_empty_cells_quotes_and_blank_lines(tmp_path):
    path = write(tmp_path / "d.tsv", 'a\tb\n"x\ty"\t\n\nz\t1\n')
    t = TabularDataset.from_path(path)
    assert list(t) == [("x\ty", ""), ("z", "1")]


def test_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("word,label\ncafé,1\n".encode("latin-1"))
    assert TabularDataset.from_path(str(path), sep=",", encoding="latin-1")[0] == ("café", "1")
    with pytest.raises(DataError, match=r"cannot decode .*latin.csv as utf-8"):
        TabularDataset.from_path(str(path), sep=",")


def test_d6_validation_file(tmp_path, train_csv):
    val = write(tmp_path / "val.csv", "text,label\nfirst val,1\nsecond val,2\n")
    t = TabularDataset.from_path(train_csv, val, sep=",")
    assert t.val[0] == ("first val", "1") and t[100] == ("first val", "1")
    assert len(t.val) == 2 and len(t.test) == 0


def test_d7_a_folder_is_read_in_file_name_order(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder / "val.csv", "t,l\nv,3\n")
    write(folder / "train.csv", "t,l\ntr,2\n")
    write(folder / "test.csv", "t,l\nte,1\n")
    write(folder / ".hidden", "junk")
    t = TabularDataset.from_path(str(folder), sep=",")
    assert list(t) == [("te", "1"), ("tr", "2"), ("v", "3")]
    assert t.named_columns == ["t", "l"]


def test_unreadable_file_in_a_folder_is_an_error_naming_it(tmp_path):
    # regression: the original skipped such files with only a print
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder / "a.csv", "t,l\nx,1\n")
    (folder / "b.csv").write_bytes(b"t,l\n\xff\xfe,2\n")
    with pytest.raises(DataError, match=r"cannot decode .*b\.csv"):
        TabularDataset.from_path(str(folder), sep=",")


def test_files_of_a_folder_must_have_the_same_columns(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder / "a.csv", "t,l\nx,1\n")
    write(folder / "b.csv", "t,l,extra\ny,2,3\n")
    with pytest.raises(DataError, match=r"b\.csv has 3 columns but .*a\.csv has 2"):
        TabularDataset.from_path(str(folder), sep=",")


def test_loading_errors(tmp_path, train_csv):
    with pytest.raises(DataError, match="No data found"):
        TabularDataset.from_path(str(tmp_path / "nope.csv"))
    empty = write(tmp_path / "empty.csv", "text,label\n")
    with pytest.raises(DataError, match="No data found"):
        TabularDataset.from_path(empty, sep=",")
    with pytest.raises(DataError, match="mixes names and positions"):
        TabularDataset.from_path(train_csv, sep=",", columns=["text", 1])
    with pytest.raises(DataError, match=r"no column named 'nope'.*\['text', 'label'\]"):
        TabularDataset.from_path(train_csv, sep=",", columns=["nope"])
    with pytest.raises(DataError, match="without a header row"):
        TabularDataset.from_path(train_csv, sep=",", header=None, columns=["text"])
    with pytest.raises(DataError, match="no column at position 5"):
        TabularDataset.from_path(train_csv, sep=",", columns=[5])
    with pytest.raises(DataError, match="single character"):
        TabularDataset.from_path(train_csv, sep=",,")
    with pytest.raises(DataError, match="header must be"):
        TabularDataset.from_path(train_csv, sep=",", header="yes")


def test_ragged_file_names_the_file_and_line(tmp_path):
    path = write(tmp_path / "bad.csv", "a,b\n1,2\n3,4,5\n")
    with pytest.raises(DataError, match=r"bad\.csv:3: a row with 3 values, but line 1 has 2"):
        TabularDataset.from_path(path, sep=",")


def test_trec_from_path(shared_data, tmp_path):
    # TREC lines are "label question": split on the first space, as a tsv file
    source = shared_data / "trec" / "TREC.train.all"
    lines = source.read_text(encoding="latin-1").splitlines()
    tsv = tmp_path / "trec.tsv"
    tsv.write_text(
        "label\tquestion\n" + "\n".join("\t".join(line.split(" ", 1)) for line in lines) + "\n",
        encoding="utf-8",
    )
    t = TabularDataset.from_path(
        str(tsv),
        columns=["question", "label"],
        transform={"label": {"field": LabelField(), "columns": "label"}},
    )
    assert len(t) == len(lines) == 5452
    assert t.named_columns == ["question", "label"]
    assert sorted(t.label.vocab_list) == ["0", "1", "2", "3", "4", "5"]
    assert int(t.label.label_count.sum()) == 5452
    first_label = lines[0].split(" ", 1)[0]
    assert t.train[0][0].item() == t.label.vocab[first_label]
    # read as space-separated, the questions have different numbers of words: ragged rows
    with pytest.raises(DataError, match=r"TREC\.train\.all:\d+: a row with"):
        TabularDataset.from_path(str(source), sep=" ", header=None, encoding="latin-1")


# -- D8: autogen ---------------------------------------------------------------------------------
def test_d8_autogen_split_sizes_and_seed(tmp_path, train_csv):
    t = TabularDataset.autogen(train_csv, seed=42, sep=",")
    assert (len(t.train), len(t.val), len(t.test)) == (64, 16, 20)
    half = TabularDataset.autogen(train_csv, seed=42, sep=",", test_ratio=0.5, val_ratio=0.5)
    assert (len(half.train), len(half.val), len(half.test)) == (25, 25, 50)
    test = write(
        tmp_path / "test.csv", "text,label\n" + "\n".join(f"t{i},1" for i in range(50)) + "\n"
    )
    with_test = TabularDataset.autogen(train_csv, test_path=test, seed=1, sep=",")
    assert (len(with_test.train), len(with_test.val), len(with_test.test)) == (80, 20, 50)
    with_test = TabularDataset.autogen(train_csv, test_path=test, seed=1, sep=",", val_ratio=0.5)
    assert (len(with_test.train), len(with_test.val), len(with_test.test)) == (50, 50, 50)
    again = TabularDataset.autogen(train_csv, seed=42, sep=",")
    assert list(again.train) == list(t.train) and list(again.test) == list(t.test)
    other = TabularDataset.autogen(train_csv, seed=7, sep=",")
    assert list(other.train) != list(t.train)
    assert sorted(t) == sorted(TabularDataset.from_path(train_csv, sep=","))  # a partition
    with pytest.raises(DataError, match="test_ratio"):
        TabularDataset.autogen(train_csv, sep=",", test_ratio=1.0)


# -- D9, D10: transforms -----------------------------------------------------------------------
def test_d9_transform_by_position_name_and_several_columns():
    field = LabelField()
    calls = []
    original = field.setup
    field.setup = lambda *data: (calls.append([len(d) for d in data]), original(*data))
    t = TabularDataset(
        [("x1", "a"), ("x2", "b")],
        [("x3", "a")],
        [("x4", "c")],
        named_columns=["text", "label"],
        transform={"lbl": {"field": field, "columns": "label"}},
    )
    assert t.lbl is field and calls == [[2, 1, 1]]
    assert t.train[0] == (torch.tensor(0),) and t.test[0][0].item() == 2
    by_position = TabularDataset(
        [("a", "x"), ("b", "y")], transform={"first": LabelField(), "second": LabelField()}
    )
    assert by_position.first.vocab_list == ["a", "b"]
    assert by_position.second.vocab_list == ["x", "y"]
    assert [v.item() for v in by_position.train[1]] == [1, 1]
    pair = TabularDataset([("abc", "de")], transform={"p": {"field": Pair(), "columns": [0, 1]}})
    assert [v.item() for v in pair.train[0]] == [3, 2]  # a tuple output adds two values


def test_d10_columns_that_do_not_exist():
    with pytest.raises(DataError, match="no column names"):
        TabularDataset([("a", "b")], transform={"l": {"field": LabelField(), "columns": "label"}})
    with pytest.raises(DataError, match=r"'nope', which does not exist.*\['text', 'label'\]"):
        TabularDataset(
            [("a", "b")],
            named_columns=["text", "label"],
            transform={"l": {"field": LabelField(), "columns": "nope"}},
        )
    with pytest.raises(DataError, match="column 2, which does not exist; the dataset has 2"):
        TabularDataset([("a", "b")], transform={"l": {"field": LabelField(), "columns": 2}})
    with pytest.raises(DataError, match="column 2, which does not exist"):
        TabularDataset(
            [("a", "b")], transform={"a": LabelField(), "b": LabelField(), "c": LabelField()}
        )


def test_bad_transform_entries():
    with pytest.raises(DataError, match="has no 'field'"):
        TabularDataset([("a",)], transform={"l": {"columns": 0}})
    with pytest.raises(DataError, match="not a Field"):
        TabularDataset([("a",)], transform={"l": 3})
    with pytest.raises(DataError, match="cannot be used"):
        TabularDataset([("a",)], transform={"train": LabelField()})
    with pytest.raises(DataError, match="unknown keys"):
        TabularDataset([("a",)], transform={"l": {"field": LabelField(), "column": 0}})


def test_unseen_label_at_setup_names_the_transform_and_label():
    with pytest.raises(DataError, match=r"transform 'label': LabelField: label 'c' is not"):
        TabularDataset(
            [("x", "a")],
            [("y", "c")],
            transform={"label": {"field": LabelField(labels=["a", "b"]), "columns": 1}},
        )


def test_processing_errors_name_the_split_example_and_field():
    t = TabularDataset(
        [("1", "2")], [("x", "2")], transform={"n": {"field": NumericField(), "columns": [0, 1]}}
    )
    assert t.train[0][0].tolist() == [1.0, 2.0]
    with pytest.raises(DataError, match=r"example 0 of the 'val' split .*NumericField 'n'"):
        t.val[0]


# -- D12 and YAML -----------------------------------------------------------------------------
D12 = """
!Holder
dataset: !TabularDataset.from_path
  train_path: {path}
  sep: ','
  transform:
    label: {{field: !LabelField {{}}, columns: label}}
n_labels: !@ dataset.label.vocab_size
"""


def test_d12_from_path_in_yaml_and_a_link_to_a_field(train_csv):
    holder = yaml.load(D12.format(path=train_csv))()
    assert isinstance(holder.dataset, TabularDataset)
    assert holder.n_labels == 7 == holder.dataset.label.vocab_size
    assert holder.dataset.train[0] == (torch.tensor(0),)


def test_dataset_saved_and_loaded_keeps_the_field_vocab(train_csv, tmp_path):
    dataset = yaml.load(D12.format(path=train_csv))().dataset
    flambe.save(dataset, str(tmp_path / "saved"))
    again = flambe.load(str(tmp_path / "saved"))
    assert again.label.vocab == dataset.label.vocab
    assert again.get_state()["label.vocab"] == dataset.label.vocab


def test_bad_column_from_yaml_carries_the_location(tmp_path):
    config = tmp_path / "data.yaml"
    config.write_text(
        "!TabularDataset\ntrain: [[a, b], [c, d]]\n"
        "transform:\n  label: {field: !LabelField {}, columns: 3}\n"
    )
    with pytest.raises(FlambeError) as info:
        yaml.load(config.read_text(), file=str(config))()
    assert isinstance(info.value, DataError)
    assert f"{config}:1:1" in str(info.value) and "column 3, which does not exist" in str(
        info.value
    )


def test_ragged_rows_and_unseen_label_from_yaml_carry_the_location():
    with pytest.raises(DataError, match=r"<string>:2:\d+: .*different amount of columns"):
        yaml.load("\n!TabularDataset\ntrain: [[a, b], [c]]\n")()
    with pytest.raises(DataError, match=r"<string>:1:\d+: transform 'l': .*label 'z'"):
        yaml.load("!TabularDataset\ntrain: [[z]]\ntransform: {l: !LabelField {labels: [a]}}\n")()


def test_factories_are_registered_only_on_tabular_dataset():
    with pytest.raises(FlambeError):
        yaml.load("!Holder.from_path {train_path: x}")


# -- docs/data.md -----------------------------------------------------------------------------
def test_data_doc_examples_run_and_every_yaml_example_compiles(tmp_path, monkeypatch):
    from tests.core.test_docs_examples import blocks

    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    ran = compiled = 0
    for note, lang, body in blocks("data.md"):
        if note.startswith("file:"):
            (tmp_path / note.split(":", 1)[1].strip()).write_text(body)
            if lang == "yaml":
                loaded = yaml.load(body)
                built = [loaded()] if callable(loaded) else [v() for v in loaded.values()]
                assert built and all(b is not None for b in built)
                compiled += 1
        elif lang == "python":
            exec(compile(body, f"data.md example {ran + 1}", "exec"), namespace)
            ran += 1
    assert ran >= 4 and compiled >= 4
