"""TextField and BoWField: vocabularies, specials, limits, pretrained vectors, saving."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import flambe
from flambe.compile import yaml
from flambe.dataset import TabularDataset
from flambe.errors import DataError
from flambe.nlp.field import BoWField, TextField, read_embeddings
from flambe.nlp.field.embeddings import write_word2vec_binary
from flambe.nlp.tokenizer import WhitespaceTokenizer

DATA = ["justo Praesent luctus", "luctus praesent"]


def ids(tensor):
    return tensor.tolist()


# -- vocabulary -------------------------------------------------------------------------
def test_vocabulary_in_first_seen_order_after_the_specials():
    field = TextField()
    assert field.vocab == {"<pad>": 0, "<unk>": 1}
    field.setup(DATA)
    assert field.vocab == {
        "<pad>": 0,
        "<unk>": 1,
        "justo": 2,
        "Praesent": 3,
        "luctus": 4,
        "praesent": 5,
    }
    assert field.vocab_size == 6
    assert field.vocab_list[2:] == ["justo", "Praesent", "luctus", "praesent"]


def test_lower_and_no_specials():
    field = TextField(lower=True, pad_token=None, unk_token=None)
    field.setup(DATA)
    assert field.vocab == {"justo": 0, "praesent": 1, "luctus": 2}
    field = TextField(pad_token=None, unk_token=None)
    field.setup(DATA)
    assert field.vocab == {"justo": 0, "Praesent": 1, "luctus": 2, "praesent": 3}


def test_specials_order_and_bracketing():
    field = TextField(sos_token="<sos>", eos_token="<eos>", additional_special_tokens=["<mask>"])
    assert field.vocab_list == ["<pad>", "<unk>", "<sos>", "<eos>", "<mask>"]
    field.setup(DATA)
    assert ids(field.process("justo luctus")) == [2, 5, 7, 3]
    only = TextField(pad_token=None, unk_token=None, sos_token="<sos>", eos_token="<eos>")
    assert only.vocab_list == ["<sos>", "<eos>"]


def test_process_before_and_after_setup():
    text = "justo Praesent luctus justo praesent"
    field = TextField()
    assert ids(field.process(text)) == [1, 1, 1, 1, 1]
    field.setup([text])
    assert ids(field.process(text)) == [2, 3, 4, 2, 5]
    lower = TextField(lower=True)
    lower.setup([text])
    assert ids(lower.process(text)) == [2, 3, 4, 2, 3]


def test_docs_example():
    field = TextField()
    field.setup(np.array(["Flambe is awesome", "This framework rocks!"]))
    assert field.vocab_size == 9  # pad, unk, 6 words and '!'
    assert ids(field.process("Flambe rocks")) == [2, 7]


def test_unknown_token_without_unk_is_an_error_naming_it():
    field = TextField(unk_token=None)
    field.setup(["a b"])
    with pytest.raises(DataError, match="'zzz'"):
        field.process("a zzz")
    dropping = TextField(unk_token=None, drop_unknown=True)
    dropping.setup(["a b"])
    assert ids(dropping.process("a zzz b")) == [1, 2]


def test_ids_are_stable_across_setup_calls():
    field = TextField()
    field.setup(["a b"])
    before = dict(field.vocab)
    first = ids(field.process("a b"))
    field.setup(["c a", "d"])
    assert {k: field.vocab[k] for k in before} == before
    assert ids(field.process("a b")) == first
    assert field.vocab["c"] == 4 and field.vocab["d"] == 5


def test_a_token_only_in_the_test_split_gets_an_id():
    field = TextField()
    TabularDataset([["a b"]], [["c"]], [["onlytest"]], transform={"text": field})
    assert "onlytest" in field.vocab


def test_min_freq_counts_add_up_across_calls_and_max_size_keeps_the_frequent():
    field = TextField(min_freq=2)
    field.setup(["a b a c"])
    assert field.vocab_list[2:] == ["a"]
    field.setup(["b"])
    assert field.vocab_list[2:] == ["a", "b"]
    capped = TextField(max_size=4)
    capped.setup(["x y y z z z"])
    assert capped.vocab_list == ["<pad>", "<unk>", "y", "z"]  # seen order kept
    assert ids(capped.process("x z")) == [1, 3]
    with pytest.raises(DataError, match="max_size"):
        TextField(max_size=1)
    with pytest.raises(DataError, match="min_freq"):
        TextField(min_freq=0)


def test_max_seq_len_keeps_start_or_end_and_the_brackets():
    field = TextField(max_seq_len=3)
    field.setup(["a b c d e"])
    assert ids(field.process("a b c d e")) == [2, 3, 4]
    assert ids(
        TextField(max_seq_len=3, truncate_end=True, vocabulary=list("abcde")).process("a b c d e")
    ) == [4, 5, 6]
    bracketed = TextField(max_seq_len=4, sos_token="<s>", eos_token="</s>")
    bracketed.setup(["a b c d e"])
    assert ids(bracketed.process("a b c d e")) == [2, 4, 5, 3]
    with pytest.raises(DataError, match="max_seq_len"):
        TextField(max_seq_len=2, sos_token="<s>", eos_token="</s>")


def test_fixed_vocabulary_from_a_list_or_a_file(tmp_path):
    field = TextField(vocabulary=["hello", "world"])
    field.setup(["hello there"])
    assert field.vocab_list == ["<pad>", "<unk>", "hello", "world"]
    assert ids(field.process("hello there world")) == [2, 1, 3]
    path = tmp_path / "vocab.txt"
    path.write_text("hello\nworld\n\n", encoding="utf-8")
    assert TextField(vocabulary=str(path)).vocab_list == field.vocab_list
    path.write_text("a\na\n", encoding="utf-8")
    with pytest.raises(DataError, match="twice"):
        TextField(vocabulary=str(path))
    with pytest.raises(DataError, match="cannot read"):
        TextField(vocabulary=str(tmp_path / "missing.txt"))
    with pytest.raises(DataError, match="fixed"):
        TextField(vocabulary=["a"], min_freq=2)


def test_nested_values_and_containers():
    field = TextField()
    field.setup([[["a b", "c"]], [{"x": "d"}]])
    assert field.vocab_list[2:] == ["a", "b", "c", "d"]
    assert [ids(t) for t in field.process(["a", "d c"])] == [[2], [5, 4]]
    assert {k: ids(v) for k, v in field.process({"q": "b"}).items()} == {"q": [3]}
    with pytest.raises(DataError, match="None"):
        field.setup([None])


def test_characters_outside_ascii_are_ordinary_tokens():
    field = TextField()
    field.setup(["naïve café \ufffd 東京"])
    assert ids(field.process("café \ufffd")) == [3, 4]


# -- pretrained vectors -----------------------------------------------------------------
GLOVE = "justo 0.1 0.2 0.3\nluctus 1.0 2.0 3.0\n<unk> 9 9 9\n"


def test_glove_vectors_unknown_words_map_to_unk(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text(GLOVE, encoding="utf-8")
    field = TextField(embeddings=str(path))
    field.setup(["justo Praesent luctus"])
    assert "Praesent" not in field.vocab and field.vocab_size == 4
    assert ids(field.process("justo Praesent luctus")) == [2, 1, 3]
    matrix = field.embedding_matrix
    assert matrix.shape == (4, 3)
    assert torch.allclose(matrix[2], torch.tensor([0.1, 0.2, 0.3]))
    assert torch.allclose(matrix[3], torch.tensor([1.0, 2.0, 3.0]))
    assert torch.allclose(matrix[1], torch.tensor([9.0, 9.0, 9.0]))  # unk has a vector
    assert torch.equal(matrix[0], torch.zeros(3))  # pad


def test_unk_init_all_gives_every_word_an_id_and_a_row(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text(GLOVE, encoding="utf-8")
    field = TextField(embeddings=str(path), unk_init_all=True)
    field.setup(["justo Praesent luctus"])
    assert field.vocab_list == ["<pad>", "<unk>", "justo", "Praesent", "luctus"]
    assert field.embedding_matrix.shape == (5, 3)
    assert torch.allclose(field.embedding_matrix[4], torch.tensor([1.0, 2.0, 3.0]))
    # a second setup keeps ids and rows, and appends
    field.setup(["luctus novum"])
    assert field.vocab["novum"] == 5 and field.embedding_matrix.shape == (6, 3)
    assert torch.allclose(field.embedding_matrix[2], torch.tensor([0.1, 0.2, 0.3]))


def test_setup_all_embeddings_and_the_factory(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text(GLOVE, encoding="utf-8")
    field = yaml.load(
        f"!TextField.from_embeddings {{embeddings: '{path}', build_vocab_from_embeddings: true}}"
    )()
    field.setup(["luctus"])
    assert field.vocab_list == ["<pad>", "<unk>", "luctus", "justo"]
    assert torch.allclose(field.embedding_matrix[3], torch.tensor([0.1, 0.2, 0.3]))


@pytest.mark.parametrize("fmt", ["word2vec", "fasttext"])
def test_word2vec_and_fasttext_text_formats(tmp_path, fmt):
    path = tmp_path / "vectors.vec"
    path.write_text("2 3\njusto 0.1 0.2 0.3 \nluctus 1 2 3\n", encoding="utf-8")
    field = TextField(embeddings=str(path), embeddings_format=fmt)
    field.setup(["justo luctus"])
    assert torch.allclose(
        field.embedding_matrix[2:], torch.tensor([[0.1, 0.2, 0.3], [1.0, 2.0, 3.0]])
    )


def test_word2vec_binary(tmp_path):
    path = tmp_path / "vectors.bin"
    write_word2vec_binary(str(path), [("justo", [0.5, -1.0]), ("café", [2.0, 3.0])])
    vectors, dim = read_embeddings(str(path), "word2vec", binary=True)
    assert dim == 2 and list(vectors) == ["justo", "café"]
    field = TextField(embeddings=str(path), embeddings_format="word2vec", embeddings_binary=True)
    field.setup(["café justo"])
    assert field.vocab_list[2:] == ["café", "justo"]
    assert torch.allclose(field.embedding_matrix[2], torch.tensor([2.0, 3.0]))
    path.write_bytes(path.read_bytes()[:-6])
    with pytest.raises(DataError, match="truncated"):
        read_embeddings(str(path), "word2vec", binary=True)


def test_glove_words_with_spaces(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("a 1 2\n. . . 3 4\n", encoding="utf-8")
    vectors, dim = read_embeddings(str(path))
    assert dim == 2 and vectors[". . ."].tolist() == [3.0, 4.0]


@pytest.mark.parametrize(
    "content, fmt, line",
    [
        ("a 1 2 3\nb 1 2\n", "glove", "line 2"),  # mixed dimensions
        ("a 1 2\nb 1 2\nc 1 2 3\n", "glove", "line 3"),
        ("2 3\na 1 2\nb 1 2\n", "word2vec", "line 2"),  # wrong dimension in the header
        ("a 1 2\nb 1 2\n", "word2vec", "line 1"),  # no header
        ("2 x\na 1 2\n", "fasttext", "line 1"),
        ("a 1 2\nb 1 oops\n", "glove", "line 2"),  # not a number
    ],
)
def test_bad_embeddings_files_name_the_line(tmp_path, content, fmt, line):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    field = TextField(embeddings=str(path), embeddings_format=fmt)
    with pytest.raises(DataError, match=line):
        field.setup(["a b"])


def test_bad_embeddings_options(tmp_path):
    with pytest.raises(DataError, match="embeddings_format"):
        TextField(embeddings="x.txt", embeddings_format="gensim")
    with pytest.raises(DataError, match="does not exist"):
        TextField(embeddings=str(tmp_path / "none.txt")).setup(["a"])
    path = tmp_path / "v.bin"
    path.write_text("1 2\na 1 2\n")
    with pytest.raises(DataError, match="binary fasttext"):
        read_embeddings(str(path), "fasttext", binary=True)


# -- BoWField ---------------------------------------------------------------------------
def test_bow_vocabulary_and_counts():
    field = BoWField(min_freq=2)
    field.setup(["justo luctus Praesent luctus", "luctus praesent"])
    assert field.vocab == {"<unk>": 0, "luctus": 1}
    field = BoWField(min_freq=2)
    field.setup(["justo praesent luctus justo praesent"])
    assert field.vocab == {"<unk>": 0, "justo": 1, "praesent": 2}
    # 'luctus' was seen once (below min_freq): it counts as unk, like unseen tokens
    assert field.process("justo praesent luctus justo praesent").tolist() == [1, 2, 2]
    assert field.process("justo never").tolist() == [1, 1, 0]


def test_bow_normalize_and_scale():
    text = "justo praesent justo praesent"
    field = BoWField(min_freq=2, normalize=True)
    field.setup([text])
    assert field.process(text).tolist() == [0, 0.5, 0.5]
    scaled = BoWField(min_freq=2, normalize=True, scale_factor=10)
    scaled.setup([text])
    assert scaled.process(text).tolist() == [0, 5, 5]
    assert field.process("").tolist() == [0, 0, 0]
    with pytest.raises(DataError, match="normalize"):
        BoWField(scale_factor=10)


def test_bow_without_unk_refuses_unknown_tokens():
    field = BoWField(unk_token=None, min_freq=1)
    field.setup(["a b"])
    assert field.process("b b a").tolist() == [1, 2]
    with pytest.raises(DataError, match="'c'"):
        field.process("a c")


# -- saving -----------------------------------------------------------------------------
def test_fields_save_and_load_with_their_vocabularies(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text(GLOVE, encoding="utf-8")
    config = f"""
text: !TextField {{lower: true, embeddings: '{path}', unk_init_all: true,
                   tokenizer: !WhitespaceTokenizer {{}}}}
bow: !BoWField {{min_freq: 1, normalize: true}}
"""
    schemas = yaml.load(config)
    text, bow = schemas["text"](), schemas["bow"]()
    text.setup(["Justo novum luctus"])
    bow.setup(["a b b"])
    flambe.save(text, str(tmp_path / "text"))
    flambe.save(bow, str(tmp_path / "bow"))
    text2, bow2 = flambe.load(str(tmp_path / "text")), flambe.load(str(tmp_path / "bow"))
    assert isinstance(text2.tokenizer, WhitespaceTokenizer)
    assert text2.vocab == text.vocab and torch.equal(text2.embedding_matrix, text.embedding_matrix)
    assert torch.equal(text2.process("justo luctus zzz"), text.process("justo luctus zzz"))
    assert bow2.vocab == bow.vocab and torch.equal(bow2.process("b a"), bow.process("b a"))
    # the state alone restores a fresh field too
    fresh = TextField(lower=True, tokenizer=WhitespaceTokenizer())
    fresh.load_state(text.get_state())
    assert fresh.vocab == text.vocab
