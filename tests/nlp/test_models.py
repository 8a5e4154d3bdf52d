"""TextClassifier, LMField, LanguageModel, CorpusSampler, PrototypicalTextClassifier."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from flambe.compile import yaml
from flambe.dataset import TabularDataset
from flambe.errors import DataError
from flambe.field import LabelField
from flambe.learn import Trainer
from flambe.metric import Accuracy
from flambe.nlp.classification import TextClassifier
from flambe.nlp.fewshot import PrototypicalTextClassifier
from flambe.nlp.field import TextField
from flambe.nlp.language_modeling import CorpusSampler, LanguageModel, LMField
from flambe.nn import Embedder, Embeddings, RNNEncoder, SoftmaxLayer
from flambe.nn.pooling import AvgPooling
from flambe.sampler import EpisodicSampler


class Pair(nn.Module):
    def forward(self, data):
        return data.float(), "state"


# -- TextClassifier ---------------------------------------------------------------------
def test_text_classifier_returns_the_target_only_when_given():
    model = TextClassifier(Pair(), nn.Linear(3, 2))
    data = torch.ones(4, 3)
    pred = model(data)
    assert pred.shape == (4, 2)
    pred2, target = model(data, torch.tensor([0, 1, 0, 1]))
    assert torch.equal(pred, pred2) and target.tolist() == [0, 1, 0, 1]


def test_text_classifier_from_yaml_learns_a_toy_task():
    torch.manual_seed(0)
    rows = [["good great fine", "pos"], ["bad awful poor", "neg"]] * 20
    dataset = TabularDataset(
        rows,
        rows[:4],
        named_columns=["text", "label"],
        transform={"text": TextField(), "label": LabelField()},
    )
    model = yaml.load("""
!TextClassifier
embedder: !Embedder
  embedding: !torch.Embedding {num_embeddings: 8, embedding_dim: 8}
  encoder: !RNNEncoder {input_size: 8, hidden_size: 8}
  pooling: !AvgPooling {}
output_layer: !SoftmaxLayer {input_size: 8, output_size: 2}
dropout: 0.1
""")()
    assert isinstance(model.drop, nn.Dropout) and model.drop.p == 0.1
    from flambe.sampler import BaseSampler

    trainer = Trainer(
        dataset,
        BaseSampler(batch_size=8, seed=0),
        BaseSampler(),
        model,
        nn.NLLLoss(),
        Accuracy(),
        torch.optim.Adam(model.parameters(), lr=0.05),
        max_steps=3,
        device="cpu",
    )
    while trainer.run():
        pass
    assert trainer.best_metric == 1.0


# -- LMField and LanguageModel ----------------------------------------------------------
def test_lm_field_shifts_by_one():
    field = LMField(eos_token="<eos>")
    field.setup(["a b c"])
    source, target = field.process("a b c")
    assert source.dtype == target.dtype == torch.long
    assert source.tolist() == [3, 4, 5] and target.tolist() == [4, 5, 2]


def lm(vocab=10, dim=6, tie=False, pad=0):
    embedder = Embedder(Embeddings(vocab, dim), RNNEncoder(dim, dim), padding_idx=pad)
    return LanguageModel(embedder, nn.Linear(dim, vocab), pad_index=pad, tie_weights=tie)


def test_language_model_leaves_padding_out_and_is_batch_first():
    model = lm()
    data = torch.tensor([[3, 4, 5, 0], [6, 7, 0, 0]])
    target = torch.tensor([[4, 5, 2, 0], [7, 2, 0, 0]])
    pred, flat = model(data, target)
    assert pred.shape == (int((target != 0).sum()), 10)
    assert flat.tolist() == [4, 5, 2, 7, 2]
    assert model(data).shape == (2, 4, 10)


def test_weight_tying_shares_the_parameter():
    model = lm(tie=True)
    assert model.output_layer.weight is model.embedder.embedding.token_embedding.weight
    torch_embedding = Embedder(nn.Embedding(10, 6), RNNEncoder(6, 6))
    tied = LanguageModel(torch_embedding, SoftmaxLayer(6, 10), tie_weights=True)
    linear = [m for m in tied.output_layer.modules() if isinstance(m, nn.Linear)][-1]
    assert linear.weight is torch_embedding.embedding.weight
    with pytest.raises(DataError, match="shape"):
        LanguageModel(
            Embedder(nn.Embedding(10, 6), RNNEncoder(6, 4)), nn.Linear(4, 10), tie_weights=True
        )
    with pytest.raises(DataError, match="nothing"):
        LanguageModel(
            torch_embedding, nn.Linear(6, 10), tie_weights=True, tie_weight_attr="nothing"
        )


# -- CorpusSampler ----------------------------------------------------------------------
def test_corpus_sampler_streams_continue_across_batches():
    corpus = torch.arange(1, 104)  # 103 ids: T = 102 // 4 = 25 per stream
    sampler = CorpusSampler(batch_size=4, unroll_size=10)
    batches = list(sampler.sample([(corpus,)]))
    assert len(batches) == sampler.length([(corpus,)]) == 2
    for source, target in batches:
        assert source.shape == target.shape == (4, 10)
        assert torch.equal(target, source + 1)  # each target is the next id in the stream
    assert torch.equal(batches[1][0][:, 0], batches[0][0][:, -1] + 1)
    assert batches[0][0][1, 0].item() == 26  # stream 1 starts after stream 0's 25 ids
    keep_last = CorpusSampler(batch_size=4, unroll_size=10, drop_last=False)
    last = list(keep_last.sample([(corpus,)]))
    assert len(last) == keep_last.length([(corpus,)]) == 3 and last[-1][0].shape == (4, 5)
    assert len(list(sampler.sample([(corpus,)], n_epochs=3))) == 6
    half = CorpusSampler(batch_size=4, unroll_size=5, downsample=0.5)
    assert half.length([(corpus,)]) == 2


def test_corpus_sampler_refuses_other_data():
    sampler = CorpusSampler(batch_size=2, unroll_size=2)
    with pytest.raises(ValueError, match="No examples"):
        next(sampler.sample([]))
    with pytest.raises(ValueError, match="single input example"):
        next(sampler.sample([(torch.arange(5),), (torch.arange(5),)]))
    with pytest.raises(ValueError, match="downsample"):
        CorpusSampler(downsample=1.5)


def test_corpus_sampler_collate_is_batch_first():
    pairs = [
        (torch.tensor([1, 2]), torch.tensor([2, 3])),
        (torch.tensor([5, 6]), torch.tensor([6, 7])),
    ]
    source, target = CorpusSampler.collate_fn(pairs)
    assert source.tolist() == [[1, 5], [2, 6]] and target.tolist() == [[2, 6], [3, 7]]


def test_language_model_trains_on_a_corpus():
    torch.manual_seed(0)
    text = " ".join(["the cat sat on the mat ."] * 60)
    dataset = TabularDataset(
        [[text]], [[text]], named_columns=["text"], transform={"text": LMField(tokenizer=None)}
    )
    model = lm(vocab=dataset.text.vocab_size, dim=16, tie=True)
    from flambe.metric import Perplexity

    trainer = Trainer(
        dataset,
        CorpusSampler(batch_size=4, unroll_size=10),
        CorpusSampler(batch_size=4, unroll_size=10),
        model,
        nn.CrossEntropyLoss(),
        Perplexity(),
        torch.optim.Adam(model.parameters(), lr=0.02),
        max_steps=4,
        lower_is_better=True,
        device="cpu",
    )
    while trainer.run():
        pass
    assert trainer.best_metric < 2.0  # the sentence repeats: nearly deterministic


# -- PrototypicalTextClassifier ---------------------------------------------------------
class Identity(nn.Module):
    def forward(self, data):
        return data.float()


def test_prototypes_are_class_means_and_scores_negative_squared_distances():
    model = PrototypicalTextClassifier(Identity())
    support = torch.tensor([[0, 0], [2, 2], [10, 10]])
    support_label = torch.tensor([0, 0, 1])
    query = torch.tensor([[1, 1], [10, 12]])
    scores, label = model(query, torch.tensor([0, 1]), support, support_label)
    assert scores.shape == (2, 2) and label.tolist() == [0, 1]
    assert scores[0].tolist() == [0.0, -162.0] and scores[1].tolist() == [-202.0, -4.0]
    prototypes = torch.tensor([[1.0, 1.0]])
    assert model(query, prototypes=prototypes).tolist() == [[0.0], [-202.0]]
    with pytest.raises(ValueError, match="No prototypes"):
        model(query)
    with pytest.raises(ValueError, match="0..C-1"):
        model.compute_prototypes(support.float(), torch.tensor([0, 0, 2]))


def test_prototypical_classifier_trains_on_episodes():
    torch.manual_seed(0)
    words = {"0": "red crimson scarlet", "1": "blue navy azure", "2": "green lime olive"}
    rows = [
        [" ".join(words[c].split()[i % 3 :] + words[c].split()[: i % 3]), c]
        for c in words
        for i in range(8)
    ]
    dataset = TabularDataset(
        rows,
        rows,
        named_columns=["text", "label"],
        transform={"text": TextField(), "label": LabelField()},
    )
    embedder = Embedder(
        Embeddings(dataset.text.vocab_size, 8), RNNEncoder(8, 8), pooling=AvgPooling()
    )
    model = PrototypicalTextClassifier(embedder)
    sampler = EpisodicSampler(n_support=2, n_query=3, n_episodes=5, n_classes=2, seed=0)
    query, query_label, support, support_label = next(sampler.sample(dataset.train))
    scores, label = model(query, query_label, support, support_label)
    assert scores.shape == (3, 2) and sorted(support_label.tolist()) == [0, 0, 1, 1]
    trainer = Trainer(
        dataset,
        sampler,
        EpisodicSampler(2, 3, 5, seed=1),
        model,
        nn.CrossEntropyLoss(),
        Accuracy(),
        torch.optim.Adam(model.parameters(), lr=0.05),
        max_steps=4,
        device="cpu",
    )
    while trainer.run():
        pass
    assert trainer.best_metric >= 0.9
