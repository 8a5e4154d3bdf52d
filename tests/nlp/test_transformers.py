"""flambe.nlp.transformers: fields and embedders on the Auto classes, offline (SPEC §2 75-76)."""

from __future__ import annotations

import pytest
import torch

import flambe
from flambe.compile import yaml
from flambe.nlp.transformers import (
    BertEmbedder,
    BertTextField,
    GPT2Embedder,
    GPT2TextField,
    PretrainedArgumentError,
    PretrainedNotFoundError,
    PretrainedTransformerEmbedder,
    PretrainedTransformerField,
    TransfoXLEmbedder,
    TransfoXLTextField,
)
from flambe.nn import Module
from tests.nlp.transformer_helpers import WORDS, minilm_path, save_tiny_bert, save_tiny_gpt2


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    return save_tiny_gpt2(tmp_path_factory.mktemp("tiny-decoder"))


def ids(*words):
    return [WORDS.index(word) for word in words]


# -- field -------------------------------------------------------------------------------------


def test_field_encodes_text_between_special_tokens(bert_dir):
    field = PretrainedTransformerField(str(bert_dir))
    out = field.process("The movie was great !")
    assert out.dtype == torch.long and out.dim() == 1
    assert out.tolist() == ids("[CLS]", "the", "movie", "was", "great", "!", "[SEP]")
    assert field.vocab_size == len(field.tokenizer) == len(WORDS)
    assert field.padding_idx == WORDS.index("[PAD]")
    without = PretrainedTransformerField(str(bert_dir), add_special_tokens=False)
    assert without.process("the movie").tolist() == ids("the", "movie")


def test_field_truncates_keeping_the_closing_token(bert_dir):
    field = PretrainedTransformerField(str(bert_dir), max_len_truncate=4)
    out = field.process("the movie was very very boring")
    assert out.tolist() == ids("[CLS]", "the", "movie", "[SEP]")
    assert (
        len(
            PretrainedTransformerField(str(bert_dir), max_len_truncate=None).process(
                "the movie was very very boring"
            )
        )
        == 8
    )


def test_field_processes_lists_and_dicts_and_unknown_characters(bert_dir):
    field = PretrainedTransformerField(str(bert_dir))
    listed = field.process(["the film", "a plot"])
    assert [t.tolist() for t in listed] == [
        ids("[CLS]", "the", "film", "[SEP]"),
        ids("[CLS]", "a", "plot", "[SEP]"),
    ]
    mapped = field.process({"q": "bad", "a": "good"})
    assert mapped["q"].tolist() == ids("[CLS]", "bad", "[SEP]")
    assert mapped["a"].tolist() == ids("[CLS]", "good", "[SEP]")
    # words and characters outside the vocabulary become [UNK], never an error
    assert field.process("zebra 漢 \udcff").tolist()[1:-1] == [WORDS.index("[UNK]")] * 3


def test_field_setup_keeps_the_vocabulary(bert_dir):
    field = PretrainedTransformerField(str(bert_dir))
    before = field.process("the unknownword")
    field.setup(["unknownword unknownword"], ["other words"])
    assert field.vocab_size == len(WORDS)
    assert torch.equal(field.process("the unknownword"), before)


def test_from_alias_factory_in_yaml_with_lower(bert_dir):
    field = yaml.load(f"""
!BERTTextField.from_alias
alias: {bert_dir}
lower: false
""")()
    assert isinstance(field, BertTextField)
    assert field.process("The").tolist()[1] == WORDS.index("[UNK]")  # case kept: not in vocab
    lowered = yaml.load(f"!BertTextField.from_alias {{alias: {bert_dir}, lower: true}}")()
    assert lowered.process("The").tolist()[1] == WORDS.index("the")


def test_gpt2_field_has_no_padding_index(gpt2_dir):
    field = GPT2TextField(str(gpt2_dir))
    assert field.padding_idx is None
    assert field.process("ab c").dim() == 1


# -- embedder ----------------------------------------------------------------------------------


def test_embedder_outputs_per_token_or_pooled(bert_dir):
    data = torch.tensor(
        [
            ids("[CLS]", "the", "movie", "[SEP]", "[PAD]"),
            ids("[CLS]", "bad", "[SEP]", "[PAD]", "[PAD]"),
        ]
    )
    tokens = PretrainedTransformerEmbedder(str(bert_dir)).eval()
    assert tokens(data).shape == (2, 5, 16)
    for pool in (True, "pooler", "first", "mean"):
        pooled = PretrainedTransformerEmbedder(str(bert_dir), pool=pool).eval()
        assert pooled(data).shape == (2, 16), pool
    first = PretrainedTransformerEmbedder(str(bert_dir), pool="first").eval()
    assert torch.allclose(first(data), tokens(data)[:, 0])
    mean = PretrainedTransformerEmbedder(str(bert_dir), pool="mean").eval()
    assert torch.allclose(mean(data)[1], tokens(data)[1, :3].mean(0), atol=1e-6)


def test_padding_is_masked_out_of_the_attention(bert_dir):
    embedder = PretrainedTransformerEmbedder(str(bert_dir)).eval()
    assert embedder.padding_idx == 0  # from the model's configuration
    short = torch.tensor([ids("[CLS]", "great", "film", "[SEP]")])
    padded = torch.tensor([ids("[CLS]", "great", "film", "[SEP]", "[PAD]", "[PAD]")])
    with torch.no_grad():
        assert torch.allclose(embedder(short)[0], embedder(padded)[0, :4], atol=1e-5)
    # another padding id: positions holding it are masked, the others attend to everything
    other = PretrainedTransformerEmbedder(str(bert_dir), padding_idx=WORDS.index("!")).eval()
    with torch.no_grad():
        bang = torch.tensor([ids("[CLS]", "great", "film", "[SEP]", "!", "!")])
        assert torch.allclose(other(bang)[0, :4], other(short)[0], atol=1e-5)
        assert not torch.allclose(other(padded)[0, :4], other(short)[0], atol=1e-5)
        explicit = torch.tensor([[1, 1, 1, 1, 1, 1]])
        assert torch.allclose(
            other(bang, attention_mask=explicit), embedder(bang, attention_mask=explicit), atol=1e-6
        )


def test_config_attributes_read_through_the_embedder(bert_dir):
    embedder = PretrainedTransformerEmbedder(str(bert_dir))
    assert embedder.hidden_size == embedder.output_size == 16
    assert embedder.num_hidden_layers == 2
    assert embedder.config.vocab_size == len(WORDS)
    with pytest.raises(AttributeError, match="not_a_config_attribute"):
        embedder.not_a_config_attribute


def test_head_mask_is_refused(bert_dir):
    embedder = PretrainedTransformerEmbedder(str(bert_dir))
    data = torch.tensor([ids("[CLS]", "a", "[SEP]")])
    with pytest.raises(ValueError, match="head_mask"):
        embedder(data, head_mask=torch.ones(2, 2))


def test_pooling_a_model_without_pooler_is_refused(gpt2_dir, bert_dir):
    with pytest.raises(ValueError, match="GPT-2"):
        PretrainedTransformerEmbedder("openai-community/gpt2", pool=True)
    with pytest.raises(ValueError, match="no pooler"):
        GPT2Embedder(str(gpt2_dir), pool=True)
    with pytest.raises(ValueError, match="pool must be"):
        PretrainedTransformerEmbedder(str(bert_dir), pool="max")
    embedder = GPT2Embedder(str(gpt2_dir), pool="mean")
    assert embedder.padding_idx is None
    field = GPT2TextField(str(gpt2_dir))
    assert embedder(field.process("abc de")[None]).shape == (1, 16)


class Head(Module):
    """An embedder followed by a linear layer, as a text classifier has them."""

    def __init__(self, embedder: torch.nn.Module, output_layer: torch.nn.Module) -> None:
        super().__init__()
        self.embedder, self.output_layer = embedder, output_layer

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        return self.output_layer(self.embedder(data))


def test_yaml_links_to_the_model_configuration(bert_dir):
    experiment = yaml.load(f"""
!Exporter
text: !BertTextField
  alias: {bert_dir}
teacher: !Head
  embedder: !BertEmbedder
    alias: {bert_dir}
    pool: true
  output_layer: !torch.Linear
    in_features: !@ teacher[embedder].hidden_size
    out_features: 3
""")()
    teacher = experiment.teacher
    assert isinstance(teacher.embedder, BertEmbedder)
    assert teacher.output_layer.in_features == 16
    data = experiment.text.process("the movie was good")[None]
    assert teacher(data).shape == (1, 3)


def test_save_and_load_keep_the_fine_tuned_weights(bert_dir, tmp_path):
    embedder = yaml.load(f"!BertEmbedder {{alias: {bert_dir}, pool: mean}}")()
    with torch.no_grad():
        for p in embedder.parameters():
            p.add_(0.01)
    flambe.save(embedder, str(tmp_path / "saved"))
    loaded = flambe.load(str(tmp_path / "saved")).eval()
    data = torch.tensor([ids("[CLS]", "not", "good", "[SEP]")])
    assert isinstance(loaded, BertEmbedder) and loaded.pool == "mean"
    assert torch.allclose(loaded(data), embedder.eval()(data))


# -- offline errors and families ---------------------------------------------------------------


def test_unknown_name_offline_says_how_to_use_a_folder():
    with pytest.raises(PretrainedNotFoundError) as caught:
        PretrainedTransformerEmbedder("no-such-org/no-such-model")
    text = str(caught.value)
    assert "could not be found locally" in text and "no-such-org/no-such-model" in text
    assert "local folder" in caught.value.hint
    with pytest.raises(PretrainedNotFoundError, match="could not be found locally"):
        PretrainedTransformerField("no-such-org/no-such-model")
    # the family default is a Hub name too, unavailable offline
    with pytest.raises(PretrainedNotFoundError, match="google-bert/bert-base-uncased"):
        BertEmbedder()
    assert isinstance(caught.value, OSError)


def test_folder_without_weights_or_missing_folder(bert_dir, tmp_path):
    config_only = tmp_path / "config-only"
    config_only.mkdir()
    (config_only / "config.json").write_text((bert_dir / "config.json").read_text())
    with pytest.raises(PretrainedNotFoundError, match="model.safetensors") as caught:
        PretrainedTransformerEmbedder(str(config_only))
    assert "save_pretrained" in caught.value.hint
    with pytest.raises(PretrainedNotFoundError, match="does not exist"):
        PretrainedTransformerEmbedder(str(tmp_path / "missing"))
    with pytest.raises(PretrainedNotFoundError):
        PretrainedTransformerField(str(tmp_path / "empty-dir-missing"))


def test_transformer_xl_names_say_it_was_removed():
    for cls in (TransfoXLTextField, TransfoXLEmbedder):
        with pytest.raises(PretrainedArgumentError, match="Transformer-XL was removed"):
            cls("transfo-xl/transfo-xl-wt103")


# -- real weights ------------------------------------------------------------------------------


def test_minilm_weights_load_offline_and_embed_meaning():
    path = minilm_path()
    field = BertTextField(path)
    assert field.process("hello world").tolist() == [101, 7592, 2088, 102]
    embedder = BertEmbedder(path, pool="mean").eval()
    assert embedder.hidden_size == 384 and embedder.num_hidden_layers == 6
    sentences = [
        "a cat sits on the mat",
        "a kitten rests on a rug",
        "stock markets fell sharply today",
    ]
    batch = torch.nn.utils.rnn.pad_sequence(
        [field.process(s) for s in sentences], batch_first=True, padding_value=field.padding_idx
    )
    with torch.no_grad():
        vectors = torch.nn.functional.normalize(embedder(batch), dim=-1)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > unrelated + 0.3, (similar, unrelated)


def test_field_and_embedder_pickle_and_copy(bert_dir):
    import copy
    import pickle

    field = BertTextField(str(bert_dir))
    embedder = BertEmbedder(str(bert_dir), pool="mean").eval()
    data = field.process("the plot was boring")[None]
    assert torch.equal(pickle.loads(pickle.dumps(field)).process("the plot was boring"), data[0])
    for clone in (pickle.loads(pickle.dumps(embedder)), copy.deepcopy(embedder)):
        assert clone.hidden_size == 16
        assert torch.allclose(clone.eval()(data), embedder(data))
