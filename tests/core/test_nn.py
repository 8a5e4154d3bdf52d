"""nn modules: shapes, masks, gradients, the original's defects, YAML and save/load."""

from __future__ import annotations

import importlib.util
import math
import warnings

import pytest
import torch
from torch import nn

import flambe
from flambe.compile import yaml
from flambe.model import LogisticRegression
from flambe.nn import (
    AvgPooling,
    CNNEncoder,
    Embedder,
    Embeddings,
    FirstPooling,
    GeneralizedPooling,
    LastPooling,
    MixtureOfSoftmax,
    MLPEncoder,
    Module,
    PooledRNNEncoder,
    RNNEncoder,
    Sequential,
    SoftmaxLayer,
    StructuredSelfAttentivePooling,
    SumPooling,
    Transformer,
    TransformerDecoder,
    TransformerEncoder,
)
from flambe.nn.distance import (
    CosineDistance,
    CosineMean,
    EuclideanDistance,
    EuclideanMean,
    HyperbolicDistance,
    HyperbolicMean,
    get_distance_module,
    get_mean_module,
)
from flambe.nn.transformer import generate_square_subsequent_mask

HAS_SRU = importlib.util.find_spec("sru") is not None

RNN_TYPES = ["rnn", "lstm", "gru"] + (["sru"] if HAS_SRU else [])


def right_padded_mask(lengths, seq_len):
    return torch.arange(seq_len).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)


# -- Module -----------------------------------------------------------------------------


class TwoLayers(Module):
    def __init__(self):
        super().__init__()
        self.frozen = nn.Linear(3, 4)
        self.frozen.requires_grad_(False)
        self.free = nn.Linear(4, 2)

    def forward(self, data):
        return self.free(self.frozen(data))


def test_module_trainable_params_and_counts():
    model = TwoLayers()
    assert model.num_parameters() == 16 + 10
    assert model.num_parameters(trainable=True) == 10
    assert [name for name, _ in model.named_trainable_params] == ["free.weight", "free.bias"]
    assert all(p.requires_grad for p in model.trainable_params)


def test_module_norms_and_clipping():
    torch.manual_seed(0)
    model = TwoLayers()
    assert model.gradient_norm == 0.0
    model(torch.randn(5, 3)).pow(2).sum().backward()
    grads = [p.grad for p in model.trainable_params]
    expected = math.sqrt(sum(float(g.pow(2).sum()) for g in grads))
    assert model.gradient_norm == pytest.approx(expected)
    params = [p.detach() for p in model.trainable_params]
    assert model.parameter_norm == pytest.approx(
        math.sqrt(sum(float(p.pow(2).sum()) for p in params))
    )
    model.clip_gradient_norm(1e-3)
    assert model.gradient_norm == pytest.approx(1e-3, rel=1e-3)
    model.clip_params(0.01)
    assert all(float(p.abs().max()) <= 0.01 for p in model.trainable_params)
    assert float(model.frozen.weight.abs().max()) > 0.01  # frozen parameters untouched


# -- MLP / softmax / mixture of softmax ---------------------------------------------------


def test_mlp_shapes_and_layers():
    assert MLPEncoder(128, 64)(torch.randn(32, 128)).shape == (32, 64)
    mlp = MLPEncoder(256, 64, n_layers=3, hidden_size=128)
    assert mlp(torch.randn(32, 256)).shape == (32, 64)
    assert sum(isinstance(m, nn.Linear) for m in mlp.modules()) == 3
    assert not any(isinstance(m, nn.Dropout) for m in mlp.modules())
    two_layers = MLPEncoder(4, 2, n_layers=2, dropout=0.5)
    assert any(isinstance(m, nn.Dropout) for m in two_layers.modules())
    assert not any(isinstance(m, nn.Dropout) for m in MLPEncoder(4, 2, dropout=0.5).modules())


@pytest.mark.parametrize("shape", [(5, 8), (2, 3, 8)])
def test_softmax_layer_rows_are_distributions(shape):
    data = torch.randn(*shape)
    log_probs = SoftmaxLayer(8, 6, take_log=True)(data)
    assert log_probs.shape == shape[:-1] + (6,)
    assert torch.allclose(torch.logsumexp(log_probs, dim=-1), torch.zeros(shape[:-1]), atol=1e-5)
    probs = SoftmaxLayer(8, 6, mlp_layers=2, take_log=False)(data)
    assert torch.allclose(probs.sum(dim=-1), torch.ones(shape[:-1]), atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 8), (3, 4, 8)])
def test_mixture_of_softmax_is_a_distribution_and_trains(shape):
    # the original kept its components in a list (untrained) and mixed the wrong axes
    torch.manual_seed(0)
    mos = MixtureOfSoftmax(8, 11, k=3)
    assert len(mos.layers) == 3
    names = {name for name, _ in mos.named_parameters()}
    assert any(name.startswith("layers.2.") for name in names) and "pi_w.weight" in names
    out = mos(torch.randn(*shape))
    assert out.shape == shape[:-1] + (11,)
    assert torch.allclose(out.exp().sum(dim=-1), torch.ones(shape[:-1]), atol=1e-5)
    probs = MixtureOfSoftmax(8, 11, k=3, take_log=False)(torch.randn(*shape))
    assert torch.allclose(probs.sum(dim=-1), torch.ones(shape[:-1]), atol=1e-5)
    out.sum().backward()
    assert all(p.grad is not None for p in mos.parameters())


def test_mixture_of_one_softmax_is_a_softmax():
    mos = MixtureOfSoftmax(4, 5, k=1)
    data = torch.randn(3, 4)
    assert torch.allclose(mos(data), torch.log_softmax(mos.layers[0](data), dim=-1), atol=1e-6)


# -- CNN --------------------------------------------------------------------------------


def test_cnn_argument_errors():
    for conv_dim in (0, 4):
        with pytest.raises(ValueError, match="conv_dim"):
            CNNEncoder(3, [8], conv_dim=conv_dim)
    with pytest.raises(ValueError, match="kernel"):
        CNNEncoder(3, [8, 16], kernel_size=[3])
    with pytest.raises(ValueError, match="kernel"):
        CNNEncoder(3, [8], conv_dim=2, kernel_size=[(3, 3, 3)])


def test_cnn_blocks():
    channels = [8, 16, 32]
    cnn = CNNEncoder(3, channels)
    assert len(cnn.cnn) == len(channels)
    for i, block in enumerate(cnn.cnn):
        assert block[0].in_channels == ([3] + channels)[i] and block[0].out_channels == channels[i]
    assert CNNEncoder(3, [4], conv_dim=3, kernel_size=2).cnn[0][0].kernel_size == (2, 2, 2)
    per_block = CNNEncoder(3, [4, 5], conv_dim=2, kernel_size=[3, (1, 2)])
    assert [b[0].kernel_size for b in per_block.cnn] == [(3, 3), (1, 2)]


def test_cnn_output_shapes():
    data = torch.randn(32, 3, 32, 32)
    pooled = CNNEncoder(3, [8, 16, 32], kernel_size=3, padding=1, pooling=nn.MaxPool2d(2))
    assert pooled(data).shape == (32, 32, 4, 4)
    assert CNNEncoder(3, [8, 16, 32], kernel_size=3, padding=1)(data).shape == (32, 32, 32, 32)
    assert CNNEncoder(2, [4], conv_dim=1)(torch.randn(5, 2, 10)).shape == (5, 4, 8)


def test_cnn_batch_norm_is_added_when_asked():
    # the original never inserted BatchNorm (inverted condition)
    with_norm = CNNEncoder(3, [4, 5], conv_dim=2)
    assert all(any(isinstance(m, nn.BatchNorm2d) for m in block) for block in with_norm.cnn)
    without = CNNEncoder(3, [4, 5], conv_dim=1, batch_norm=False)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in without.modules())
    assert isinstance(CNNEncoder(1, [2], conv_dim=3).cnn[0][1], nn.BatchNorm3d)


# -- RNN --------------------------------------------------------------------------------


@pytest.mark.parametrize("rnn_type", ["LSTM", "random", ""])
def test_rnn_type_must_be_known(rnn_type):
    with pytest.raises(ValueError, match="rnn_type"):
        RNNEncoder(4, 4, rnn_type=rnn_type)


@pytest.mark.parametrize("rnn_type", RNN_TYPES)
def test_rnn_shapes(rnn_type):
    encoder = RNNEncoder(300, 10, n_layers=4, rnn_type=rnn_type)
    output, _ = encoder(torch.randn(32, 20, 300))
    assert output.shape == (32, 20, 10)
    bidirectional = RNNEncoder(6, 5, rnn_type=rnn_type, bidirectional=True)
    assert bidirectional.output_size == 10
    assert bidirectional(torch.randn(3, 7, 6))[0].shape == (3, 7, 10)


@pytest.mark.parametrize("rnn_type", RNN_TYPES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_rnn_padding(rnn_type, bidirectional):
    # the original returned outputs shorter than S and needed lengths on the data's device
    torch.manual_seed(0)
    encoder = RNNEncoder(4, 3, n_layers=2, rnn_type=rnn_type, bidirectional=bidirectional).eval()
    data = torch.randn(3, 6, 4)
    mask = right_padded_mask([4, 2, 3], 6)  # no row uses the full length
    output, _ = encoder(data, padding_mask=mask)
    assert output.shape == (3, 6, encoder.output_size)
    assert torch.all(output[~mask] == 0)
    noisy = data.clone()
    noisy[~mask] = torch.randn(int((~mask).sum()), 4) * 100
    assert torch.allclose(encoder(noisy, padding_mask=mask)[0], output, atol=1e-5)
    # a sequence alone gives the same outputs as inside a padded batch
    alone, _ = encoder(data[1:2, :2])
    assert torch.allclose(alone[0], output[1, :2], atol=1e-5)


@pytest.mark.skipif(not HAS_SRU, reason="the optional sru package is not installed")
def test_sru_kwargs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sru deprecates use_tanh itself
        with_tanh = RNNEncoder(4, 4, rnn_type="sru", use_tanh=True)
    assert with_tanh.rnn.rnn_lst[0].activation_type == 1  # tanh
    assert RNNEncoder(4, 4, rnn_type="sru").rnn.rnn_lst[0].activation_type == 0
    with pytest.raises(ValueError, match="unknown SRU"):
        RNNEncoder(4, 4, rnn_type="sru", not_an_option=1)


def test_sru_missing_gives_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sru(name, *args, **kwargs):
        if name == "sru":
            raise ImportError("No module named 'sru'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sru)
    with pytest.raises(ImportError, match="pip install sru"):
        RNNEncoder(4, 4, rnn_type="sru")


def test_torch_rnns_warn_about_ignored_kwargs():
    with pytest.warns(UserWarning, match="use_tanh"):
        RNNEncoder(4, 4, rnn_type="gru", use_tanh=True)


@pytest.mark.parametrize("pooling", ["first", "last", "sum", "average"])
def test_pooled_rnn_encoder(pooling):
    # the original broke for 'average' and for every pooling without a mask
    with pytest.warns(DeprecationWarning):
        encoder = PooledRNNEncoder(4, 3, pooling=pooling).eval()
    data, mask = torch.randn(2, 5, 4), right_padded_mask([5, 3], 5)
    assert encoder(data).shape == (2, 3)
    pooled = encoder(data, padding_mask=mask)
    reference = {
        "first": FirstPooling,
        "last": LastPooling,
        "sum": SumPooling,
        "average": AvgPooling,
    }[pooling]()
    assert torch.allclose(pooled, reference(encoder.rnn(data, padding_mask=mask)[0], mask))


def test_pooled_rnn_encoder_rejects_unknown_pooling():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match="pooling"):
            PooledRNNEncoder(4, 3, pooling="max")


# -- poolings ---------------------------------------------------------------------------


@pytest.mark.parametrize("pooling", [FirstPooling, LastPooling, SumPooling, AvgPooling])
@pytest.mark.parametrize("size", [(10, 20, 30), (1, 1, 1), (20, 1, 30), (0, 10, 1)])
def test_pooling_shapes(pooling, size):
    data = torch.randn(*size)
    assert pooling()(data).shape == (size[0], size[2])
    assert pooling()(data, torch.ones(size[:2], dtype=torch.bool)).shape == (size[0], size[2])


def test_pooling_values_with_mask():
    data = torch.arange(1, 17, dtype=torch.float).reshape(4, 4).unsqueeze(0).repeat(2, 1, 1)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0]])
    assert LastPooling()(data, mask).tolist() == [[5, 6, 7, 8], [9, 10, 11, 12]]
    assert FirstPooling()(data, mask).tolist() == [[1, 2, 3, 4], [1, 2, 3, 4]]
    assert SumPooling()(data, mask).tolist() == [[6, 8, 10, 12], [15, 18, 21, 24]]
    assert AvgPooling()(data, mask).tolist() == [[3, 4, 5, 6], [5, 6, 7, 8]]
    assert AvgPooling()(data, mask.bool()).tolist() == [[3, 4, 5, 6], [5, 6, 7, 8]]


def test_pooling_without_mask():
    data = torch.tensor([[[1.0, 2, 3], [4, 5, 6], [1, 2, 3], [4, 5, 6]]])
    assert AvgPooling()(data).tolist() == [[10 / 4, 14 / 4, 18 / 4]]
    assert SumPooling()(data).tolist() == [[10, 14, 18]]
    assert torch.equal(AvgPooling()(torch.zeros(2, 3, 4)), torch.zeros(2, 4))
    assert torch.equal(AvgPooling()(torch.ones(1, 2, 3), torch.zeros(1, 2)), torch.zeros(1, 3))


def test_attentive_poolings():
    pooling = StructuredSelfAttentivePooling(300)
    assert pooling(torch.randn(100, 50, 300)).shape == (100, 300)
    assert torch.equal(pooling(torch.zeros(4, 5, 300)), torch.zeros(4, 300))
    assert torch.allclose(pooling(torch.ones(4, 5, 300)), torch.ones(4, 300))
    assert GeneralizedPooling(300)(torch.randn(100, 50, 300)).shape == (100, 300)


@pytest.mark.parametrize("pooling_class", [StructuredSelfAttentivePooling, GeneralizedPooling])
def test_attentive_poolings_ignore_padding(pooling_class):
    torch.manual_seed(0)
    pooling = pooling_class(6, attention_units=[5]).eval()
    data, mask = torch.randn(2, 4, 6), right_padded_mask([2, 4], 4)
    noisy = data.clone()
    noisy[0, 2:] = 1000.0
    assert torch.allclose(pooling(data, mask), pooling(noisy, mask), atol=1e-5)


# -- embeddings -------------------------------------------------------------------------


def test_embeddings_positional_arguments():
    with pytest.raises(ValueError, match="positional_learned"):
        Embeddings(10, 4, positional_learned=True)
    learned = Embeddings(10, 4, positional_encoding=True, positional_learned=True)
    assert learned.pos_embedding.weight.requires_grad


@pytest.mark.parametrize("dim", [6, 7])
def test_sinusoidal_table(dim):
    # the original crashed for odd dims
    emb = Embeddings(10, dim, positional_encoding=True, positional_max_length=50)
    table = emb.pos_embedding.weight
    assert not table.requires_grad
    assert table[0].tolist() == [float(i % 2) for i in range(dim)]
    assert table[3, 2] == pytest.approx(math.sin(3 / 10000 ** (2 / dim)))
    assert table[3, 3] == pytest.approx(math.cos(3 / 10000 ** (2 / dim)))


def test_positions_vary_along_the_sequence_not_the_batch():
    # the original added positions along dim 0 of batch-first data
    emb = Embeddings(10, 4, positional_encoding=True, positional_max_length=20)
    tokens = torch.full((3, 5), 2)
    out = emb(tokens)
    assert out.shape == (3, 5, 4)
    assert torch.equal(out[0], out[1]) and torch.equal(out[1], out[2])
    assert not torch.equal(out[:, 0], out[:, 1])
    assert torch.allclose(out[0] - emb.token_embedding.weight[2], emb.pos_embedding.weight[:5])
    seq_first = Embeddings(
        10, 4, positional_encoding=True, positional_max_length=20, batch_first=False
    )
    assert torch.equal(seq_first(tokens.t())[:, 0], seq_first(tokens.t())[:, 2])
    with pytest.raises(ValueError, match="positional_max_length"):
        emb(torch.ones(1, 21, dtype=torch.long))


def test_from_pretrained():
    weights = torch.randn(7, 3)
    frozen = Embeddings.from_pretrained(weights)
    assert torch.equal(frozen.token_embedding.weight, weights)
    assert not frozen.token_embedding.weight.requires_grad
    assert Embeddings.from_pretrained(weights, freeze=False).token_embedding.weight.requires_grad
    with pytest.raises(ValueError, match="2-D"):
        Embeddings.from_pretrained(torch.randn(7))
    with pytest.raises(ValueError, match="2-D"):
        Embeddings.from_pretrained(weights, positional_embeddings=torch.randn(5))


def test_from_pretrained_positional_needs_only_matching_columns():
    # the original required the positional matrix to have the token matrix's size
    positions = torch.randn(12, 3)
    emb = Embeddings.from_pretrained(
        torch.randn(7, 3), positional_embeddings=positions, positional_freeze=False
    )
    assert emb.num_positions == 12 and emb.pos_embedding.weight.requires_grad
    assert torch.equal(emb.pos_embedding.weight, positions)
    with pytest.raises(ValueError, match="columns"):
        Embeddings.from_pretrained(torch.randn(7, 3), positional_embeddings=torch.randn(12, 4))


def test_misspelled_keywords_still_work():
    with pytest.warns(DeprecationWarning, match="positional_max_length"):
        emb = Embeddings(10, 4, positional_encoding=True, positonal_max_length=9)
    assert emb.num_positions == 9
    with pytest.warns(DeprecationWarning):
        emb = Embeddings.from_pretrained(
            torch.randn(5, 2), positonal_embeddings=torch.randn(3, 2), positonal_freeze=False
        )
    assert emb.num_positions == 3 and emb.pos_embedding.weight.requires_grad
    with pytest.raises(flambe.errors.ArgumentError, match="unknown argument 'colour'"):
        Embeddings(10, 4, colour=1)


# -- Embedder ---------------------------------------------------------------------------


class Recorder(nn.Module):
    def __init__(self, returns_tuple=False):
        super().__init__()
        self.returns_tuple, self.masks = returns_tuple, []

    def forward(self, data, padding_mask=None):
        self.masks.append(padding_mask)
        return (data, "state") if self.returns_tuple else data


def test_embedder_masks_and_tuples():
    tokens = torch.tensor([[3, 4, 0], [5, 0, 0]])
    encoder = Recorder(returns_tuple=True)
    embedder = Embedder(Embeddings(10, 4), encoder, pooling=SumPooling(), return_mask=True)
    encoding, mask = embedder(tokens)
    assert torch.equal(encoder.masks[0], tokens != 0) and torch.equal(mask, tokens != 0)
    embedded = embedder.embedding(tokens)
    assert torch.allclose(encoding, SumPooling()(embedded, tokens != 0))
    no_mask = Recorder()
    Embedder(Embeddings(10, 4), no_mask, padding_idx=None)(tokens)
    assert no_mask.masks == [None]
    tuple_out = Embedder(Embeddings(10, 4), Recorder(returns_tuple=True))(tokens)
    assert isinstance(tuple_out, tuple) and tuple_out[1] == "state"
    assert embedder.embeddings is embedder.embedding and embedder.drop is embedder.dropout


def test_embedder_with_an_encoder_without_mask_argument():
    embedder = Embedder(Embeddings(10, 4), MLPEncoder(4, 2), pooling=AvgPooling())
    assert embedder(torch.tensor([[1, 2, 0]])).shape == (1, 2)


def test_embedder_rnn_gradients_flow_and_ignore_padding():
    torch.manual_seed(0)
    embedder = Embedder(
        Embeddings(20, 5), RNNEncoder(5, 4, rnn_type="lstm"), pooling=LastPooling()
    ).eval()
    tokens = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 9, 1]])
    out = embedder(tokens)
    assert out.shape == (2, 4)
    assert torch.allclose(out[0], embedder(tokens[:1, :3])[0], atol=1e-6)
    out.sum().backward()
    assert all(p.grad is not None for p in embedder.trainable_params)


# -- Sequential -------------------------------------------------------------------------


def test_sequential():
    # the original failed at construction
    seq = Sequential(a=nn.Linear(2, 3), b=nn.ReLU())
    assert isinstance(seq.a, nn.Linear) and isinstance(seq.b, nn.ReLU)
    assert len(list(seq.parameters())) == 2
    x = torch.randn(4, 2)
    assert torch.equal(seq(x), torch.relu(seq.a(x)))
    with pytest.raises(TypeError, match="'c'"):
        Sequential(c=3)


def test_sequential_from_yaml_keeps_the_order():
    seq = yaml.load("""
!Sequential
second: !torch.Linear {in_features: 2, out_features: 3}
first: !torch.Tanh {}
""")()
    assert list(seq._modules) == ["second", "first"]
    assert float(seq(torch.randn(5, 2)).detach().abs().max()) <= 1


# -- transformers -----------------------------------------------------------------------


def test_transformer_encoder():
    # the original swapped num_layers and dim_feedforward
    encoder = TransformerEncoder(
        input_size=300, d_model=300, nhead=1, num_layers=4, dim_feedforward=300
    ).eval()
    assert len(encoder.layers) == 4 and encoder.proj is None
    assert encoder.layers[0].feed_forward.linear1.out_features == 300
    assert encoder(torch.randn(2, 7, 300)).shape == (2, 7, 300)
    projected = TransformerEncoder(
        input_size=6, d_model=8, nhead=2, num_layers=1, dim_feedforward=16
    )
    assert projected.proj is not None and projected(torch.randn(3, 5, 6)).shape == (3, 5, 8)


def test_transformer_encoder_padding_mask():
    torch.manual_seed(0)
    encoder = TransformerEncoder(
        input_size=8, d_model=8, nhead=2, num_layers=2, dim_feedforward=16
    ).eval()
    data, mask = torch.randn(2, 5, 8), right_padded_mask([3, 5], 5)
    out = encoder(data, padding_mask=mask)
    noisy = data.clone()
    noisy[0, 3:] = torch.randn(2, 8) * 50
    assert torch.allclose(encoder(noisy, padding_mask=mask)[mask], out[mask], atol=1e-5)
    # batch-first: one example alone gives the same result as within a batch
    assert torch.allclose(encoder(data[1:2])[0], out[1], atol=1e-5)


def test_transformer():
    # the original built the decoder with num_encoder_layers and fed batch-first memory
    d = 8
    model = Transformer(
        d, d_model=d, nhead=2, num_encoder_layers=2, num_decoder_layers=3, dim_feedforward=16
    ).eval()
    assert len(model.encoder.layers) == 2 and len(model.decoder.layers) == 3
    src, tgt = torch.randn(4, 6, d), torch.randn(4, 3, d)
    out = model(src, tgt, tgt_mask=generate_square_subsequent_mask(3))
    assert out.shape == (4, 3, d)
    assert torch.allclose(
        model(src[2:3], tgt[2:3], tgt_mask=generate_square_subsequent_mask(3))[0], out[2], atol=1e-5
    )
    with pytest.raises(RuntimeError, match="batch size"):
        model(src, tgt[:2])
    with pytest.raises(RuntimeError, match="features"):
        model(src, torch.randn(4, 3, d + 1))


def test_transformer_causal_mask_and_decoder():
    assert generate_square_subsequent_mask(3).tolist() == [
        [0, -math.inf, -math.inf],
        [0, 0, -math.inf],
        [0, 0, 0],
    ]
    torch.manual_seed(0)
    decoder = TransformerDecoder(4, 8, 2, 2, dim_feedforward=16).eval()
    memory, tgt = torch.randn(2, 5, 8), torch.randn(2, 3, 4)
    causal = generate_square_subsequent_mask(3)
    out = decoder(tgt, memory, tgt_mask=causal)
    assert out.shape == (2, 3, 8)
    changed = tgt.clone()
    changed[:, 2] += 10  # the future does not change the past
    assert torch.allclose(decoder(changed, memory, tgt_mask=causal)[:, :2], out[:, :2], atol=1e-5)


# -- distances --------------------------------------------------------------------------


def test_distances():
    x, y = torch.randn(4, 3), torch.randn(5, 3)
    euclid = EuclideanDistance()(x, y)
    assert euclid.shape == (4, 5)
    assert euclid[1, 2] == pytest.approx(float((x[1] - y[2]).pow(2).sum()), rel=1e-5)
    basis = torch.eye(3)
    cosine = CosineDistance()(basis, basis)
    assert torch.allclose(cosine, 1 - torch.eye(3), atol=1e-6)
    assert torch.allclose(torch.diagonal(HyperbolicDistance()(x, x)), torch.zeros(4), atol=1e-3)
    for name in ("foo", ""):
        with pytest.raises(ValueError):
            get_distance_module(name)
        with pytest.raises(ValueError):
            get_mean_module(name)
    assert isinstance(get_distance_module("cosine"), CosineDistance)
    assert isinstance(get_mean_module("hyperbolic"), HyperbolicMean)


def test_hyperbolic_distance_uses_every_feature():
    # the original dropped feature 0 from the spatial inner product
    a, b = torch.tensor([[1.0, 0.0]]), torch.tensor([[-1.0, 0.0]])
    x0 = math.sqrt(2)
    expected = math.acosh(x0 * x0 + 1) ** 2
    assert float(HyperbolicDistance()(a, b)) == pytest.approx(expected, rel=1e-4)
    assert float(HyperbolicDistance()(a, a)) == pytest.approx(0, abs=1e-3)


def test_means():
    data = torch.randn(6, 3)
    assert torch.allclose(EuclideanMean()(data), data.mean(dim=0))
    assert torch.allclose(CosineMean()(data), (data / data.norm(dim=1, keepdim=True)).mean(dim=0))
    same = torch.tensor([[0.3, -0.2]]).repeat(4, 1)
    assert torch.allclose(HyperbolicMean().eval()(same), same[0], atol=1e-3)
    symmetric = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    mean = HyperbolicMean().eval()(symmetric)
    assert mean.shape == (2,) and torch.allclose(mean, torch.zeros(2), atol=1e-3)
    points = torch.randn(5, 2, requires_grad=True)
    assert not EuclideanMean(detach_mean=True)(points).requires_grad
    assert EuclideanMean()(points).requires_grad


# -- LogisticRegression -----------------------------------------------------------------


def test_logistic_regression():
    assert LogisticRegression(2).num_parameters() == 3
    assert LogisticRegression(10).num_parameters() == 11
    model = LogisticRegression(2)
    assert model.input_size == 2
    target = model(torch.randn(1, 2), target=torch.tensor([[5, 6]]))[1]
    assert target.dtype == torch.float32 and target.tolist() == [[5, 6]]
    linear = model.encoder.seq[0]
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[5.0, 6.0]]))
        linear.bias.copy_(torch.tensor([3.0]))
    inputs = torch.tensor([[1, 4], [0, 0], [1.5, 2.5], [-1, 0], [-0.5, 0]])
    out = model(inputs).squeeze(1)
    expected = [1.0, 0.95, 1.0, 0.12, 0.62]
    assert out.tolist() == pytest.approx(expected, abs=0.005)


def test_logistic_regression_is_importable_from_the_documented_paths():
    from flambe.model.logistic_regression import LogisticRegression as Documented
    from flambe.nn import MLPDecoder

    assert Documented is LogisticRegression and MLPDecoder is MLPEncoder


# -- YAML and saving --------------------------------------------------------------------

CLASSIFIER_YAML = """
!Sequential
embedder: !Embedder
  embedding: !Embeddings
    num_embeddings: 50
    embedding_dim: 8
    positional_encoding: true
    positional_max_length: 20
  encoder: !RNNEncoder
    input_size: !@ embedding.embedding_dim
    hidden_size: 6
    rnn_type: gru
    bidirectional: true
  pooling: !AvgPooling {}
output: !SoftmaxLayer
  input_size: !@ embedder[encoder].output_size
  output_size: 3
"""


def test_yaml_model_trains_and_round_trips_through_save_and_load(tmp_path):
    torch.manual_seed(0)
    model = yaml.load(CLASSIFIER_YAML)()
    tokens = torch.randint(1, 50, (8, 7))
    tokens[0, 4:] = 0
    labels = torch.randint(0, 3, (8,))
    optimizer = torch.optim.Adam(model.trainable_params, lr=0.05)
    first = None
    for _ in range(30):
        optimizer.zero_grad()
        loss = nn.functional.nll_loss(model(tokens), labels)
        loss.backward()
        optimizer.step()
        first = first if first is not None else float(loss)
    assert float(loss) < first / 2
    flambe.save(model, str(tmp_path / "model"))
    again = flambe.load(str(tmp_path / "model"))
    assert isinstance(again, Sequential) and isinstance(again.embedder.encoder, RNNEncoder)
    model.eval(), again.eval()
    assert torch.equal(again(tokens), model(tokens))
    assert again.embedder.embedding.pos_embedding.weight.requires_grad is False
    assert "!@ embedder[encoder].output_size" in yaml.dump(again)


def test_pretrained_embeddings_from_yaml_save_and_load(tmp_path):
    weights = torch.randn(6, 4)
    config = "!Embeddings.from_pretrained {embeddings: !$ w, freeze: false}"
    emb = yaml.load(config)({"w": weights})
    assert torch.equal(emb.token_embedding.weight, weights)
    assert emb.token_embedding.weight.requires_grad
    flambe.save(emb, str(tmp_path / "emb"))
    again = flambe.load(str(tmp_path / "emb"))
    assert torch.equal(again.token_embedding.weight, weights)


def test_transformer_cnn_and_logistic_regression_round_trip(tmp_path):
    built = yaml.load("""
!Sequential
cnn: !CNNEncoder {input_channels: 1, channels: [2, 3], conv_dim: 1, padding: 1}
""")()
    built.eval()
    flambe.save(built, str(tmp_path / "cnn"))
    data = torch.randn(2, 1, 9)
    assert torch.equal(flambe.load(str(tmp_path / "cnn")).eval()(data), built(data))
    encoder = yaml.load(
        "!TransformerEncoder {input_size: 4, d_model: 8, nhead: 2, num_layers: 2, "
        "dim_feedforward: 16}"
    )().eval()
    flambe.save(encoder, str(tmp_path / "tf"))
    data = torch.randn(2, 3, 4)
    assert torch.allclose(flambe.load(str(tmp_path / "tf")).eval()(data), encoder(data))
    logistic = yaml.load("!LogisticRegression {input_size: 3}")()
    flambe.save(logistic, str(tmp_path / "lr"))
    data = torch.randn(5, 3)
    assert torch.equal(flambe.load(str(tmp_path / "lr"))(data), logistic(data))


# -- the documentation's examples -------------------------------------------------------


def test_models_doc_examples_run(tmp_path, monkeypatch):
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "models.md"
    pattern = re.compile(r"(?:<!-- (?P<note>[^>]*) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    ran = yamls = 0
    for match in pattern.finditer(doc.read_text(encoding="utf-8")):
        note, lang, body = match.group("note") or "", match.group("lang"), match.group("body")
        if note.startswith("file:"):
            (tmp_path / note.split(":", 1)[1].strip()).write_text(body)
            loaded = yaml.load(body)  # every YAML example compiles on its own
            built = [s() for s in loaded] if isinstance(loaded, list) else loaded()
            assert built is not None
            yamls += 1
        elif lang == "python":
            exec(compile(body, f"models.md example {ran + 1}", "exec"), namespace)
            ran += 1
    assert yamls == 5 and ran >= 6


def test_mlp_decoder_is_an_alias_and_mlp_encoder_the_dumped_tag():
    from flambe.compile.registry import get_registry

    built = yaml.load("!MLPDecoder {input_size: 2, output_size: 3}")()
    assert isinstance(built, MLPEncoder)
    assert get_registry().default_tag(MLPEncoder) == "!MLPEncoder"
