"""SRU on CPU: rnn_type 'sru' in the RNN encoders and the SRU transformers (defects fixed)."""

from __future__ import annotations

import pytest
import torch

import flambe
from flambe.compile import yaml
from flambe.nlp.sru import (
    TransformerSRU,
    TransformerSRUDecoder,
    TransformerSRUEncoder,
    TransformersSRUDecoder,
)
from flambe.nn import Embedder, Embeddings, LastPooling, RNNEncoder

MASK = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)


def test_rnn_encoder_sru_runs_and_learns_on_cpu():
    torch.manual_seed(0)
    embedder = Embedder(
        Embeddings(20, 8), RNNEncoder(8, 6, n_layers=2, rnn_type="sru"), pooling=LastPooling()
    )
    head = torch.nn.Linear(6, 2)
    data = torch.randint(1, 20, (16, 4))
    target = (data[:, 0] > 10).long()
    params = list(embedder.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=0.05)
    losses = []
    for _ in range(12):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(embedder(data)), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().item())
    assert losses[-1] < 0.7 * losses[0]


def test_rnn_encoder_sru_ignores_padding():
    torch.manual_seed(0)
    encoder = RNNEncoder(4, 5, rnn_type="sru", bidirectional=True).eval()
    x = torch.randn(3, 5, 4)
    out, _ = encoder(x, padding_mask=MASK)
    assert out.shape == (3, 5, 10)
    assert torch.all(out[~MASK] == 0)
    alone, _ = encoder(x[:1, :3], padding_mask=MASK[:1, :3])
    assert torch.allclose(alone[0], out[0, :3], atol=1e-5)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_encoder_shapes_states_and_padding(bidirectional):
    torch.manual_seed(0)
    encoder = TransformerSRUEncoder(
        input_size=12,
        d_model=8,
        nhead=2,
        num_layers=3,
        dim_feedforward=16,
        dropout=0.0,
        bidirectional=bidirectional,
    ).eval()
    assert len(encoder.layers) == 3 and encoder.proj is not None  # 12 != 8: projected
    x = torch.randn(3, 5, 12)
    out, state = encoder(x, padding_mask=MASK)
    dirs = 2 if bidirectional else 1
    assert out.shape == (3, 5, 8) and state.shape == (3, 3, 16 * dirs)
    # what sits at padded positions changes nothing at the real ones, nor the states
    noisy = x.clone()
    noisy[~MASK] = torch.randn(int((~MASK).sum()), 12)
    out2, state2 = encoder(noisy, padding_mask=MASK)
    assert torch.allclose(out[MASK], out2[MASK], atol=1e-5)
    assert torch.allclose(state, state2, atol=1e-5)
    # nor does the amount of padding after a sequence
    alone, _ = encoder(x[2:, :1], padding_mask=MASK[2:, :1])
    assert torch.allclose(alone[0], out[2, :1], atol=1e-5)
    # layer i starts from state[i]
    started, _ = encoder(x, state=torch.randn_like(state), padding_mask=MASK)
    assert not torch.allclose(started, out)


def test_encoder_without_projection_and_with_sru_options():
    encoder = TransformerSRUEncoder(
        input_size=8,
        d_model=8,
        nhead=1,
        num_layers=1,
        dim_feedforward=8,
        dropout=0.3,
        sru_dropout=0.0,
        highway_bias=-2.0,
    )
    assert encoder.proj is None
    cell = encoder.layers[0].sru
    assert cell.dropout == 0.3 and cell.rnn_dropout == 0.0 and cell.highway_bias == -2.0
    default = TransformerSRUEncoder(
        input_size=8, d_model=8, nhead=1, num_layers=1, dim_feedforward=8, dropout=0.2
    )
    assert default.layers[0].sru.rnn_dropout == 0.2  # sru_dropout defaults to dropout
    with pytest.raises(ValueError, match="unknown SRU arguments"):
        TransformerSRUEncoder(
            input_size=8, d_model=8, nhead=1, num_layers=1, dim_feedforward=8, not_an_option=1
        )


def test_decoder_is_causal_with_a_causal_mask():
    from flambe.nn.transformer import generate_square_subsequent_mask

    torch.manual_seed(0)
    decoder = TransformerSRUDecoder(
        input_size=8, d_model=8, nhead=2, num_layers=2, dim_feedforward=16, dropout=0.0
    ).eval()
    assert TransformersSRUDecoder is TransformerSRUDecoder
    tgt, memory = torch.randn(2, 4, 8), torch.randn(2, 6, 8)
    mask = generate_square_subsequent_mask(4)
    out = decoder(tgt, memory, tgt_mask=mask)
    assert out.shape == (2, 4, 8)
    changed = tgt.clone()
    changed[:, 3] += 1.0
    out2 = decoder(changed, memory, tgt_mask=mask)
    assert torch.allclose(out[:, :3], out2[:, :3], atol=1e-5)
    assert not torch.allclose(out[:, 3], out2[:, 3])
    state = torch.randn(2, 2, 16)
    assert not torch.allclose(decoder(tgt, memory, state, tgt_mask=mask), out)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_encoder_decoder_hands_its_states_over(bidirectional):
    torch.manual_seed(0)
    model = TransformerSRU(
        input_size=8,
        d_model=8,
        nhead=2,
        num_encoder_layers=2,
        num_decoder_layers=3,
        dim_feedforward=16,
        dropout=0.0,
        bidirectional=bidirectional,
    ).eval()
    assert len(model.encoder.layers) == 2 and len(model.decoder.layers) == 3
    src, tgt = torch.randn(3, 5, 8), torch.randn(3, 4, 8)
    out = model(src, tgt, src_key_padding_mask=MASK)
    assert out.shape == (3, 4, 8)
    memory, state = model.encoder(src, padding_mask=MASK)
    handed = model._decoder_state(state)
    assert handed.shape == (3, 3, 16)
    assert torch.all(handed[2] == 0)
    assert torch.allclose(
        out, model.decoder(tgt, memory, handed, memory_key_padding_mask=MASK), atol=1e-6
    )
    assert not torch.allclose(out, model.decoder(tgt, memory, memory_key_padding_mask=MASK))
    with pytest.raises(RuntimeError, match="batch size"):
        model(src, tgt[:2])
    with pytest.raises(RuntimeError, match="features"):
        model(src, torch.randn(3, 4, 6))


def test_yaml_training_and_saving(tmp_path):
    model = yaml.load("""
!TransformerSRU
input_size: 6
d_model: 8
nhead: 2
num_encoder_layers: 1
num_decoder_layers: 1
dim_feedforward: 8
dropout: 0.0
""")()
    assert isinstance(model, TransformerSRU)
    torch.manual_seed(0)
    src, tgt = torch.randn(4, 5, 6), torch.randn(4, 3, 6)
    goal = torch.randn(4, 3, 8)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(src, tgt), goal)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().item())
    assert losses[-1] < losses[0]
    flambe.save(model, str(tmp_path / "sru"))
    loaded = flambe.load(str(tmp_path / "sru")).eval()
    assert torch.allclose(loaded(src, tgt), model.eval()(src, tgt), atol=1e-6)
