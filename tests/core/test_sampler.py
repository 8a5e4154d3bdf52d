"""Samplers: BaseSampler, collate_fn and EpisodicSampler (SPEC-modules §2, samplers)."""

from __future__ import annotations

import itertools

import pytest
import torch

import flambe
from flambe.compile import yaml
from flambe.dataset import TabularDataset
from flambe.errors import DataError
from flambe.field import LabelField
from flambe.sampler import BaseSampler, EpisodicSampler, collate_fn, pad_to_longest


def seq_data(n=10):
    """Example i: (arange(i % 4 + 1), label i % 3)."""
    return [(torch.arange(i % 4 + 1) + 1, torch.tensor(i % 3)) for i in range(n)]


def id_data(n=40):
    """Example i: (tensor([i]),), so batches show the order examples were drawn in."""
    return [(torch.tensor([i]),) for i in range(n)]


def first_values(batches):
    return [int(b[0][j, 0]) for b in batches for j in range(b[0].shape[0])]


# -- padding (113, 114, 115) -----------------------------------------------------------------
def test_variable_length_columns_are_padded_batch_first():
    data = [
        (torch.tensor([1, 2]), torch.tensor(0), torch.ones(3)),
        (torch.tensor([3, 4, 5]), torch.tensor(1), torch.ones(3)),
    ]
    text, label, same = collate_fn(data, pad=0)
    assert text.tolist() == [[1, 2, 0], [3, 4, 5]]
    assert label.shape == (2,) and label.tolist() == [0, 1]
    assert same.shape == (2, 3)


def test_every_dimension_is_padded_to_the_longest():
    a, b = torch.ones(2, 5), torch.ones(4, 3)
    out = pad_to_longest([a, b], pad=-1)
    assert out.shape == (2, 4, 5)
    assert (out[0, 2:] == -1).all() and (out[1, :, 3:] == -1).all()
    assert out[0, :2].sum() == 10 and out[1, :, :3].sum() == 12


def test_one_pad_value_per_column():
    data = [
        (torch.ones(1), torch.ones(4), torch.ones(10)),
        (torch.ones(1), torch.ones(5), torch.ones(10)),
        (torch.ones(1), torch.ones(6), torch.ones(10)),
    ]
    first, second, third = collate_fn(data, pad=(-2, -1, 0))
    assert (first == -2).sum() == 0 and third.shape == (3, 10)
    assert (second == -1).sum() == (6 - 4) + (6 - 5)
    with pytest.raises(DataError, match="pad_index has 2 values but the examples have 3"):
        collate_fn(data, pad=(0, 1))
    sampler = BaseSampler(batch_size=3, pad_index=(0, 1), shuffle=False)
    with pytest.raises(DataError, match="pad_index"):
        next(sampler.sample(data))


def test_nested_columns_become_one_padded_tensor_keeping_dtype():
    data = [
        ([torch.tensor([1, 2]), torch.tensor([3, 4, 5])], torch.tensor([1, 1])),
        (
            [torch.tensor([5, 6, 7]), torch.tensor([4, 5]), torch.tensor([5, 6, 7, 8])],
            torch.tensor([1, 1, 1, 1]),
        ),
    ]
    nested, flat = collate_fn(data, pad=0)
    assert nested.shape == (2, 3, 4) and nested.dtype == torch.int64
    assert nested[0].tolist() == [[1, 2, 0, 0], [3, 4, 5, 0], [0, 0, 0, 0]]
    assert nested[1, 2].tolist() == [5, 6, 7, 8]
    assert flat.shape == (2, 4) and flat[0].tolist() == [1, 1, 0, 0]
    floats = collate_fn([([torch.tensor([0.5])],), ([torch.tensor([1.5, 2.5])],)], pad=0)[0]
    assert floats.dtype == torch.float32 and floats[1, 0].tolist() == [1.5, 2.5]


def test_plain_values_are_turned_into_tensors():
    label, value = collate_fn([(1, 0.5), (2, 1.5)])
    assert label.tolist() == [1, 2] and value.tolist() == [0.5, 1.5]


def test_tensors_with_different_numbers_of_dimensions_are_an_error():
    for column in (
        [torch.tensor([1, 2]), torch.tensor(3)],
        [torch.tensor(3), torch.tensor([1])],
        [torch.ones(2), torch.ones(2, 1)],
    ):
        with pytest.raises(DataError, match="different numbers of dimensions"):
            collate_fn([(value,) for value in column])


def test_examples_of_different_widths_are_an_error():
    with pytest.raises(DataError, match="different numbers of columns"):
        collate_fn([(torch.ones(1),), (torch.ones(1), torch.ones(1))])


# -- order, drop_last, length (116, 117) ---------------------------------------------------------
def test_no_shuffle_keeps_order_and_length_counts_batches():
    data = seq_data(10)
    sampler = BaseSampler(batch_size=4, shuffle=False)
    batches = list(sampler.sample(data))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert [int(x) for b in batches for x in b[1]] == [i % 3 for i in range(10)]
    assert sampler.length(data) == 3


def test_drop_last_and_length():
    # regression: the original length() ignored drop_last
    data = seq_data(10)
    sampler = BaseSampler(batch_size=4, drop_last=True, seed=0)
    batches = list(sampler.sample(data))
    assert [b[0].shape[0] for b in batches] == [4, 4]
    assert sampler.length(data) == len(batches) == 2
    exact = BaseSampler(batch_size=5, drop_last=True)
    assert exact.length(data) == len(list(exact.sample(data))) == 2


def test_n_epochs_gives_exactly_that_many_passes_and_minus_one_never_stops():
    data = seq_data(10)
    sampler = BaseSampler(batch_size=3, seed=0)
    assert len(list(sampler.sample(data, n_epochs=3))) == 3 * sampler.length(data)
    assert list(sampler.sample(data, n_epochs=0)) == []
    endless = sampler.sample(data, n_epochs=-1)
    assert len(list(itertools.islice(endless, 50))) == 50
    with pytest.raises(DataError, match="n_epochs"):
        sampler.sample(data, n_epochs=-2)


def test_each_epoch_covers_every_example_once():
    data = [(torch.tensor([i]),) for i in range(23)]
    sampler = BaseSampler(batch_size=5, seed=3)
    epochs = list(sampler.sample(data, n_epochs=2))
    first = sorted(int(x) for b in epochs[:5] for x in b[0][:, 0])
    second = [int(x) for b in epochs[5:] for x in b[0][:, 0]]
    assert first == list(range(23)) and sorted(second) == list(range(23))
    assert second != sorted(second)  # reshuffled


# -- downsampling (118) --------------------------------------------------------------------------
def test_downsample_fraction_and_seed():
    data = [(torch.tensor([i]),) for i in range(100)]
    sampler = BaseSampler(batch_size=8, downsample=0.5, downsample_seed=1)
    batches = list(sampler.sample(data))
    kept = [int(x) for b in batches for x in b[0][:, 0]]
    assert len(kept) == 50 == len(set(kept))
    assert sampler.length(data) == len(batches) == 7
    other = BaseSampler(batch_size=8, downsample=0.5, downsample_seed=1)
    assert sorted(kept) == sorted(int(x) for b in other.sample(data) for x in b[0][:, 0])


def test_downsample_seed_zero_is_a_seed():
    # regression: the original treated downsample_seed=0 as no seed
    data = [(torch.tensor([i]),) for i in range(100)]
    picks = [
        sorted(
            int(x)
            for b in BaseSampler(downsample=0.3, downsample_seed=0, seed=s).sample(data)
            for x in b[0][:, 0]
        )
        for s in (1, 2)
    ]
    assert picks[0] == picks[1] and len(picks[0]) == 30


def test_downsample_max_samples_and_length():
    # regression: the original length() ignored downsample_max_samples
    data = [(torch.tensor([i]),) for i in range(100)]
    sampler = BaseSampler(batch_size=16, downsample_max_samples=40, drop_last=True, seed=0)
    batches = list(sampler.sample(data))
    assert sampler.length(data) == len(batches) == 2
    with pytest.warns(UserWarning, match="keeps all"):
        list(BaseSampler(downsample_max_samples=500).sample(data))


def test_bad_sampler_arguments():
    for bad in (0, 1.5, -0.1):
        with pytest.raises(ValueError, match="downsample must be in"):
            BaseSampler(downsample=bad)
    with pytest.raises(DataError, match="cannot both be given"):
        BaseSampler(downsample=0.5, downsample_max_samples=10)
    with pytest.raises(DataError, match="batch_size"):
        BaseSampler(batch_size=0)


# -- empty data (119) and seeds (120) -----------------------------------------------------------
def test_empty_data_is_an_error():
    with pytest.raises(ValueError, match="No examples provided"):
        next(BaseSampler().sample([]))
    with pytest.raises(DataError, match="No examples provided"):
        BaseSampler().length([])


def test_empty_split_error_names_the_split():
    dataset = TabularDataset([("a", "x")], transform={"l": {"field": LabelField(), "columns": 1}})
    with pytest.raises(DataError, match=r"the 'val' split of TabularDataset is empty"):
        BaseSampler().sample(dataset.val)
    with pytest.raises(DataError, match=r"the 'test' split of TabularDataset is empty"):
        EpisodicSampler(1, 1, 1).sample(dataset.test)


def test_empty_split_from_yaml_names_both_locations(tmp_path):
    config = tmp_path / "exp.yaml"
    config.write_text(
        "dataset: !TabularDataset\n  train: [[a, '1']]\nsampler: !BaseSampler {batch_size: 2}\n"
    )
    loaded = yaml.load(config.read_text(), file=str(config))
    dataset, sampler = loaded["dataset"](), loaded["sampler"]()
    with pytest.raises(DataError) as info:
        sampler.length(dataset.val)
    message = str(info.value)
    assert message.startswith(f"{config}:3:10: No examples provided")  # the sampler
    assert f"'val' split of TabularDataset at {config}:1:10 is empty" in message


def test_seed_makes_shuffling_reproducible():
    # regression: the original stored the seed but never used it
    data = id_data(40)
    runs = [
        first_values(BaseSampler(batch_size=4, seed=11).sample(data, n_epochs=2)) for _ in range(2)
    ]
    assert runs[0] == runs[1]
    other = first_values(BaseSampler(batch_size=4, seed=12).sample(data, n_epochs=2))
    assert other != runs[0]
    order = [
        int(b[1][0])
        for b in BaseSampler(batch_size=1, seed=5).sample(
            [(torch.tensor(i), torch.tensor(i)) for i in range(30)]
        )
    ]
    assert order != list(range(30))


def test_generator_state_is_saved_so_a_resumed_sampler_continues_identically(tmp_path):
    data = id_data(40)
    sampler = yaml.load("!BaseSampler {batch_size: 4, seed: 3}")()
    list(sampler.sample(data))  # one epoch drawn
    flambe.save(sampler, str(tmp_path / "s"))
    resumed = flambe.load(str(tmp_path / "s"))
    fresh = first_values(yaml.load("!BaseSampler {batch_size: 4, seed: 3}")().sample(data))
    following = first_values(sampler.sample(data))
    assert first_values(resumed.sample(data)) == following != fresh


def test_sampler_over_a_dataset_split():
    rows = [("a b c", "x"), ("d", "y"), ("e f", "x")]
    dataset = TabularDataset(rows, transform={"l": {"field": LabelField(), "columns": 1}})
    sampler = BaseSampler(batch_size=2, shuffle=False)
    batches = list(sampler.sample(dataset.train))
    assert [b[0].tolist() for b in batches] == [[0, 1], [0]]


@pytest.mark.slow
def test_workers_build_the_same_batches():
    data = seq_data(20)
    plain = list(BaseSampler(batch_size=4, seed=2).sample(data))
    workers = list(BaseSampler(batch_size=4, seed=2, n_workers=2).sample(data))
    assert len(plain) == len(workers)
    for a, b in zip(plain, workers, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


# -- EpisodicSampler (121) -------------------------------------------------------------------------
def episodic_data():
    return [(torch.arange(1, i % 5 + 2), torch.tensor(i % 3)) for i in range(30)]


def test_episodes_have_the_asked_support_and_query_sets():
    data = episodic_data()
    sampler = EpisodicSampler(
        n_support=2, n_query=3, n_episodes=5, n_classes=2, pad_index=-1, seed=0
    )
    episodes = list(sampler.sample(data))
    assert len(episodes) == sampler.length(data) == 5
    for query, query_target, support, support_target in episodes:
        assert sorted(support_target.tolist()) == [0, 0, 1, 1]
        assert query.shape[0] == 3 and set(query_target.tolist()) <= {0, 1}
        assert support.shape[0] == 4 and query.dtype == support.dtype == torch.int64
        lengths = (support != -1).sum(1)
        assert (support[lengths < support.shape[1]] == -1).any()  # shorter rows padded


def test_balanced_queries():
    sampler = EpisodicSampler(
        n_support=2, n_query=3, n_episodes=4, n_classes=2, balance_query=True, seed=1
    )
    for _, query_target, _, _ in sampler.sample(episodic_data()):
        assert sorted(query_target.tolist()) == [0, 0, 0, 1, 1, 1]


def test_episodic_endless_and_epochs():
    # regression: the original yielded nothing for n_epochs=-1
    sampler = EpisodicSampler(n_support=1, n_query=2, n_episodes=3, seed=0)
    assert len(list(itertools.islice(sampler.sample(episodic_data(), n_epochs=-1), 20))) == 20
    assert len(list(sampler.sample(episodic_data(), n_epochs=2))) == 6


def test_episodic_seed_reproducible_and_bad_input():
    def draw():
        return [
            e[0].tolist()
            for e in EpisodicSampler(2, 2, 3, n_classes=2, seed=4).sample(episodic_data())
        ]

    assert draw() == draw()
    with pytest.raises(DataError, match="n_classes=5 but the data has 3 classes"):
        EpisodicSampler(1, 1, 1, n_classes=5).sample(episodic_data())
    with pytest.raises(DataError, match="fewer than n_support=20"):
        EpisodicSampler(20, 1, 1).sample(episodic_data())
    with pytest.raises(DataError, match="n_support"):
        EpisodicSampler(0, 1, 1)
    with pytest.raises(ValueError, match="No examples provided"):
        next(EpisodicSampler(1, 1, 1).sample([]))
