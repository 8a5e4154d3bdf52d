"""Fields: the Field contract, LabelField (F7-F11, F13) and NumericField."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import flambe
from flambe.compile import yaml
from flambe.errors import DataError, FlambeError
from flambe.field import Field, LabelField, NumericField


# -- the Field contract ------------------------------------------------------------------------
def test_field_is_abstract_and_setup_defaults_to_nothing():
    with pytest.raises(TypeError):
        Field()

    class Upper(Field):
        def process(self, example):
            return torch.tensor([ord(c) for c in example.upper()])

    field = Upper()
    assert field.setup(np.array(["a"]), np.array(["b"])) is None
    assert field.process("ab").tolist() == [65, 66]


def test_abstract_field_in_yaml_is_a_clear_error():
    with pytest.raises(FlambeError, match="abstract"):
        yaml.load("!Field {}")


# -- LabelField ------------------------------------------------------------------------------
def test_f7_ids_in_first_seen_order_and_0d_tensor():
    field = LabelField()
    field.setup(np.array(["LABEL1", "LABEL3", "LABEL2"]))
    assert dict(field.vocab) == {"LABEL1": 0, "LABEL3": 1, "LABEL2": 2}
    out = field.process("LABEL2")
    assert out.dim() == 0 and out.dtype == torch.long and out.item() == 2


MULTI = np.array(["LABEL1,LABEL2", "LABEL3", "LABEL2,LABEL1", "LABEL2"])


def test_f8_multilabel_separator():
    whole = LabelField()
    whole.setup(MULTI)
    assert whole.vocab_size == 4
    field = LabelField(multilabel_sep=",")
    field.setup(MULTI)
    assert field.vocab_size == 3
    assert field.process("LABEL1,LABEL2").tolist() == [0, 1]
    assert field.process("LABEL2,LABEL1").tolist() == [1, 0]
    assert field.process("LABEL3").item() == 2


def test_f9_one_hot():
    field = LabelField(one_hot=True, multilabel_sep=",")
    field.setup(MULTI)
    assert field.process("LABEL2,LABEL1").tolist() == [1, 1, 0]
    assert field.process("LABEL3").tolist() == [0, 0, 1]
    single = LabelField(one_hot=True)
    single.setup(np.array(["LABEL1", "LABEL3", "LABEL2"]))
    assert single.process("LABEL2").tolist() == [0, 0, 1]


def test_f10_label_counts_and_frequencies():
    field = LabelField()
    field.setup(np.array(["A"] * 80 + ["B"] * 20))
    assert field.label_count.tolist() == [80.0, 20.0]
    assert torch.allclose(field.label_freq, torch.tensor([0.8, 0.2]))
    assert torch.allclose(field.label_inv_freq, torch.tensor([1.25, 5.0]))


def test_setup_is_cumulative_and_never_renumbers():
    field = LabelField()
    field.setup(np.array(["b", "a"]))
    field.setup(np.array(["c", "a"]), np.array(["d"]))
    assert dict(field.vocab) == {"b": 0, "a": 1, "c": 2, "d": 3}
    assert dict(field.label_count_dict) == {"b": 1, "a": 2, "c": 1, "d": 1}


def test_setup_accepts_2d_single_column_and_non_string_labels():
    field = LabelField()
    field.setup(np.array([[1], [0], [1]], dtype=object))
    assert field.vocab_list == ["1", "0"]
    assert field.process(0).item() == 1 and field.process("1").item() == 0


def test_f11_fixed_labels_reject_an_unseen_label_at_setup():
    field = LabelField(labels=["a", "b"])
    with pytest.raises(ValueError) as info:
        field.setup(np.array(["a", "c"]))
    assert isinstance(info.value, DataError)
    assert "'c'" in str(info.value) and "['a', 'b']" in str(info.value)
    assert dict(field.vocab) == {"a": 0, "b": 1}  # nothing added by the failed setup


def test_fixed_labels_keep_their_order_even_with_zero_counts():
    field = LabelField(labels=["z", "y", "x"])
    field.setup(np.array(["x", "x", "z"]))
    assert field.vocab_list == ["z", "y", "x"]
    assert field.label_count.tolist() == [1.0, 0.0, 2.0]
    assert field.process("y").item() == 1


def test_labels_from_a_file(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("neg\npos\n\nneutral\n", encoding="utf-8")
    field = LabelField(labels=str(path))
    assert field.vocab_list == ["neg", "pos", "neutral"]
    with pytest.raises(DataError, match="labels file"):
        LabelField(labels=str(tmp_path / "missing.txt"))


def test_bad_labels_arguments():
    with pytest.raises(DataError, match="twice"):
        LabelField(labels=["a", "a"])
    with pytest.raises(DataError, match="empty"):
        LabelField(labels=[])
    with pytest.raises(DataError, match="multilabel_sep"):
        LabelField(multilabel_sep="")


def test_unknown_label_at_process_names_the_label():
    field = LabelField()
    field.setup(np.array(["pos", "neg"]))
    with pytest.raises(DataError, match=r"unknown label 'meh'.*\['pos', 'neg'\]"):
        field.process("meh")


def test_f13_vocab_survives_get_state_and_load_state():
    field = LabelField()
    field.setup(np.array(["x", "y", "x"]))
    state = field.get_state()
    assert state["vocab"] == {"x": 0, "y": 1}
    fresh = LabelField()
    fresh.load_state(state)
    assert dict(fresh.vocab) == {"x": 0, "y": 1}
    assert fresh.label_count.tolist() == [2.0, 1.0]
    assert fresh.process("y").item() == 1


def test_label_field_saved_and_loaded_with_flambe_save(tmp_path):
    field = yaml.load("!LabelField {multilabel_sep: '|'}")()
    field.setup(np.array(["a|b", "c"]))
    flambe.save(field, str(tmp_path / "field"))
    again = flambe.load(str(tmp_path / "field"))
    assert isinstance(again, LabelField) and again.multilabel_sep == "|"
    assert again.vocab_list == ["a", "b", "c"]
    assert again.process("c|a").tolist() == [2, 0]


# -- NumericField ----------------------------------------------------------------------------
def test_numeric_field_turns_columns_into_a_float_vector():
    field = NumericField()
    out = field.process("1.5", 2, "-3")
    assert out.dtype == torch.float32 and out.tolist() == [1.5, 2.0, -3.0]
    with pytest.raises(DataError, match="not a number"):
        field.process("abc")
    with pytest.raises(DataError, match="dtype"):
        NumericField(dtype="nope")


def test_numeric_field_standardizes_with_statistics_of_every_split():
    field = NumericField(standardize=True)
    field.setup(np.array([["1", "10"], ["3", "10"]], dtype=object), np.array([["2", "10"]]))
    assert field.mean == [2.0, 10.0]
    assert field.process("3", "10").tolist() == pytest.approx([1.0 / (2 / 3) ** 0.5, 0.0])
    state = field.get_state()
    other = NumericField(standardize=True)
    other.load_state(state)
    assert torch.equal(other.process("1", "10"), field.process("1", "10"))
