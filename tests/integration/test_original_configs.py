"""The complete configs of the original documentation validate, and run where their data is here.

``tests/data/original-configs/`` holds every whole config file of the original
Flambé documentation (``../shared/seed/flambe-docs.txt``): indentation restored,
the documentation's own typos fixed and listed at the top of each file with the
line they come from. Every file is validated as ``flambe validate`` does it;
the ones whose data is available offline run, with their steps cut to one,
reading a small subset of the shared data sets through the download cache
(``FLAMBE_HOME``), so nothing else in them changes. The ones that need what
cannot exist here (an AWS account, a model from the Hugging Face Hub, hosts at
the documentation's addresses) are validated and say why they do not run.

The extensions three of the configs declare (the documentation's S3Pusher,
its argparse script, and a MyDataset it names without showing) are in
``original-configs/extensions/``, put on the module search path the way an
installed extension would be.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "tests" / "data" / "original-configs"
EXTENSIONS = CONFIGS / "extensions"
# the folders holding the extension modules `ext`, `my_project` and `my_module`
EXTENSION_PATHS = [EXTENSIONS, EXTENSIONS / "my_pip_installable", EXTENSIONS / "my_package"]
ALL = sorted(path.name for path in CONFIGS.glob("*.yaml"))

# top-level components the docs load with flambe.compile.yaml.load, not runnables
COMPONENTS = {"model.yaml"}

# configs that are validated only, and why they cannot run here
NOT_RUN = {
    "fine-tune-bert-then-distill.yaml": (
        "needs the pretrained 'bert-base-uncased' from the Hugging Face Hub (a download)"
    ),
    "s3pusher.yaml": "uploads to the S3 bucket 'my-bucket': needs an AWS account",
    "aws-cluster.yaml": "creates EC2 instances: needs an AWS account",
    "aws-cluster-example.yaml": "creates EC2 instances: needs an AWS account",
    "ssh-cluster.yaml": "connects over SSH to hosts at the documentation's addresses "
    "(53.10.21.32, ...) with the key /path/to/my/key",
    "ssh-cluster-private.yaml": "connects over SSH to hosts at the documentation's private "
    "addresses (10.150.0.10, ...) with the key /path/to/my/key",
}

# the cluster classes, provided by flambe-cluster
CLUSTER_TAGS = {
    "aws-cluster.yaml": "AWSCluster",
    "aws-cluster-example.yaml": "AWSCluster",
    "ssh-cluster.yaml": "SSHCluster",
    "ssh-cluster-private.yaml": "SSHCluster",
}

# (config, the fixed text in the file, the documentation's text, what validate says of it)
TYPOS = [
    (
        "simple-exp.yaml",
        "      encoder: !PooledRNNEncoder\n"
        "        input_size: 300\n"
        "        rnn_type: lstm\n"
        "        n_layers: !g [2, 3, 4]\n"
        "        hidden_size: 256\n",
        "    encoder: !PooledRNNEncoder\n"
        "      input_size: 300\n"
        "      rnn_type: lstm\n"
        "      n_layers: !g [2, 3, 4]\n"
        "      hidden_size: 256\n",
        "!TextClassifier got an unknown argument 'encoder'",
    ),
    (
        "model.yaml",
        "output_layer: !SoftmaxLayer\n  input_size: 256\n  output_size: 10\n",
        "  output_layer: !SoftmaxLayer\n    input_size: 256\n    output_size: 10\n",
        "!Embedder got an unknown argument 'output_layer'",
    ),
    (
        "s3pusher.yaml",
        "ext: /path/to/S3Pusher/extension\n",
        "ext: /path/to/S3Pusher/extension:\n",
        "mapping values are not allowed",
    ),
    (
        "script.yaml",
        "name: my-project\n\n",
        "",
        "!Experiment is missing the required argument 'name'",
    ),
    (
        "my-module.yaml",
        "name: my-module\n\n",
        "",
        "!Experiment is missing the required argument 'name'",
    ),
    (
        "fine-tune-bert-then-distill.yaml",
        "      pool: True\n",
        "    pool: True\n",
        "!TextClassifier got an unknown argument 'pool'",
    ),
    (
        "aws-cluster-example.yaml",
        "volume_size: 100 #",
        "volume_size: 100. #",
        "!AWSCluster argument 'volume_size' expects int",
    ),
]


@pytest.fixture
def extensions_on_path(monkeypatch) -> None:
    """The documentation's extensions importable, as once installed."""
    for path in EXTENSION_PATHS:
        monkeypatch.syspath_prepend(str(path))


# the documentation's `pooling: last` given to the Embedder, whose `pooling` is declared
# a module: a declared-type problem (docs line 2377)
DECLARED_TYPE_TYPO = (
    "fine-tune-bert-then-distill.yaml",
    "        pooling: last\n",
    "      pooling: last\n",
)


def _cluster_class_or_skip(name: str) -> None:
    """Skip when flambe-cluster does not provide the cluster class ``name`` uses yet."""
    tag = CLUSTER_TAGS.get(name)
    if tag is None:
        return
    from flambe.compile.registry import get_registry
    from flambe.errors import FlambeError

    try:
        get_registry().resolve(tag)
    except FlambeError as exc:
        pytest.skip(f"flambe-cluster does not provide !{tag} yet: {str(exc).splitlines()[0]}")


# ---------------------------------------------------------------------------
# every config validates
# ---------------------------------------------------------------------------


def test_the_corpus_is_complete():
    """Every config is either run, or validated only with a reason; each lists its fixes."""
    assert len(ALL) == 12
    runnable = set(ALL) - COMPONENTS - set(NOT_RUN)
    assert runnable == set(RUNS) - COMPONENTS
    for name in ALL:
        header = (CONFIGS / name).read_text().split("\n!", 1)[0]
        assert re.search(r"flambe-docs\.txt[\s#]+lines?[\s#]+\d+", header), name
        assert "Typos fixed:" in header, name


@pytest.mark.parametrize("name", ALL)
def test_config_validates(name, extensions_on_path):
    """``flambe validate`` finds no problem (a component file: none but not being a runnable)."""
    from click.testing import CliRunner

    from flambe.cli.validate import validate
    from flambe.compile.validate import validate_file

    _cluster_class_or_skip(name)
    path = str(CONFIGS / name)
    if name in COMPONENTS:
        # what `flambe validate` checks, but the root needs to be no runnable:
        # the docs load this file with yaml.load, they do not run it
        problems = validate_file(path)
        assert problems == [], "\n".join(map(str, problems))
        return
    result = CliRunner().invoke(validate, [path])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(f"{path}: OK")


@pytest.mark.parametrize(
    "name, fixed, written, problem", TYPOS, ids=[f"{t[0]}:{t[3].split()[-1]}" for t in TYPOS]
)
def test_the_docs_typos_are_what_validate_reports(
    name, fixed, written, problem, tmp_path, extensions_on_path
):
    """Each listed fix undoes a problem ``flambe validate`` reports in the documentation's text."""
    from flambe.cli.validate import find_problems
    from flambe.compile.validate import validate_text

    _cluster_class_or_skip(name)
    text = (CONFIGS / name).read_text()
    assert text.count(fixed) == 1
    original = tmp_path / name
    original.write_text(text.replace(fixed, written))
    if name in COMPONENTS:
        problems = validate_text(original.read_text(), str(original))
    else:
        problems = find_problems(str(original))
    assert any(problem in str(p) for p in problems), "\n".join(map(str, problems))
    assert all(str(original) in str(p) for p in problems)


def test_the_docs_string_for_a_pooling_module_is_reported(tmp_path):
    """``pooling: last`` where a pooling module is declared: validate reports it, at its line."""
    from flambe.cli.validate import find_problems

    name, fixed, written = DECLARED_TYPE_TYPO
    text = (CONFIGS / name).read_text()
    assert text.count(fixed) == 1
    original = tmp_path / name
    original.write_text(text.replace(fixed, written))
    line = text[: text.index(fixed)].count("\n") + 1
    problems = [str(p) for p in find_problems(str(original))]
    assert any(p.startswith(f"{original}:{line}:") and "pooling" in p for p in problems), problems


# ---------------------------------------------------------------------------
# the ones with offline data run
# ---------------------------------------------------------------------------

SUBSET_LINES = 100  # examples a split of the SST subset holds


@pytest.fixture(scope="module")
def offline_home(tmp_path_factory, shared_data) -> Iterator[Path]:
    """A Flambé home whose download cache holds 100 examples of each SST split.

    SSTDataset reads ``<FLAMBE_HOME>/cache/datasets/sst/`` before it would
    download, so the configs run as written, on a small subset.
    """
    home = tmp_path_factory.mktemp("flambe-home")
    cache = home / "cache" / "datasets" / "sst"
    cache.mkdir(parents=True)
    for split in ("train", "dev", "test"):
        lines = (shared_data / "sst" / f"stsa.binary.{split}").read_text().splitlines()
        (cache / f"stsa.binary.{split}").write_text("\n".join(lines[:SUBSET_LINES]) + "\n")
    yield home


@pytest.fixture(scope="module")
def ray_for_the_corpus(offline_home, tmp_path_factory) -> Iterator[Path]:
    """One Ray instance for every run of the module, started where the workers see
    the offline home, the extensions and one torch thread; yields the script's record file."""
    import ray

    from flambe.experiment.tune_runner import start_ray

    record = tmp_path_factory.mktemp("script") / "record.txt"
    saved_env = {
        k: os.environ.get(k) for k in ("FLAMBE_HOME", "OMP_NUM_THREADS", "MY_PROJECT_RECORD")
    }
    saved_path = list(sys.path)
    os.environ.update(
        FLAMBE_HOME=str(offline_home), OMP_NUM_THREADS="1", MY_PROJECT_RECORD=str(record)
    )
    sys.path[:0] = [str(p) for p in EXTENSION_PATHS]
    if ray.is_initialized():
        ray.shutdown()
    started = start_ray(num_cpus=2)
    try:
        yield record
    finally:
        if started:
            ray.shutdown()
        sys.path[:] = saved_path
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _cut_steps(text: str) -> str:
    """Every ``max_steps`` and ``iter_per_step`` of a config set to one."""
    for key in ("max_steps", "iter_per_step"):
        text = re.sub(rf"^(\s*{key}:) \d+", r"\1 1", text, flags=re.M)
    return text


def _run(name: str, folder: Path) -> dict:
    """Run the config, steps cut to one, from ``folder``; returns its progress.json."""
    import json

    from flambe.runnable.context import build_runnable, load_runnable_config, run_runnable

    path = folder / name
    path.write_text(_cut_steps((CONFIGS / name).read_text()))
    # what `flambe run` does, in this process (it shares the module's Ray instance)
    experiment = build_runnable(load_runnable_config(str(path)))
    run_runnable(experiment)
    output = folder / "flambe-output" / f"output__{experiment.name}"
    return json.loads((output / "progress.json").read_text())


def _variants(progress: dict, stage: str) -> dict[str, dict]:
    return {v["name"]: v for v in progress["stages"][stage]["variants"].values()}


def _check_simple_exp_dataset(progress: dict, folder: Path, record: Path) -> None:
    import flambe

    assert list(progress["stages"]) == ["dataset"]
    (variant,) = _variants(progress, "dataset").values()
    assert variant["status"] == "success"
    dataset = flambe.load(
        str(folder / "flambe-output" / "output__sst" / "dataset" / variant["name"] / "checkpoint")
    )
    assert len(dataset.train) == SUBSET_LINES and len(dataset.test) == SUBSET_LINES
    assert dataset.label.vocab_size == 2
    assert dataset.text.vocab_size > 100


def _check_simple_exp(progress: dict, folder: Path, record: Path) -> None:
    trained = _variants(progress, "train")
    assert sorted(trained) == ["n_layers=2", "n_layers=3", "n_layers=4"]
    for variant in trained.values():
        assert variant["status"] == "success" and variant["step"] == 1
        assert 0 <= variant["last_metric"] <= 1  # validation accuracy


def _check_sst_text_classification(progress: dict, folder: Path, record: Path) -> None:
    assert list(progress["stages"]) == ["dataset", "model", "train", "eval"]
    trained = _variants(progress, "train")
    assert sorted(trained) == ["n_layers=2", "n_layers=3", "n_layers=4"]
    assert {(v["status"], v["step"]) for v in trained.values()} == {("success", 1)}
    evaluated = _variants(progress, "eval")
    assert sorted(evaluated) == sorted(trained)  # no reduce: every variant evaluated
    for variant in evaluated.values():
        assert variant["status"] == "success"
        assert 0 <= variant["last_metric"] <= 1  # test accuracy


def _check_my_module(progress: dict, folder: Path, record: Path) -> None:
    import flambe

    (variant,) = _variants(progress, "dataset").values()
    assert variant["status"] == "success"
    dataset = flambe.load(
        str(
            folder
            / "flambe-output"
            / "output__my-module"
            / "dataset"
            / variant["name"]
            / "checkpoint"
        )
    )
    assert type(dataset).__module__ == "my_module.dataset"
    assert list(dataset.test) == [(9.0, 18.0)]


def _check_script(progress: dict, folder: Path, record: Path) -> None:
    ran = _variants(progress, "stage_0")
    assert sorted(ran) == ["arg1=1", "arg1=5"]
    assert {v["status"] for v in ran.values()} == {"success"}
    assert sorted(record.read_text().splitlines()) == ["1 foo", "5 foo"]


def _build_model(path: Path, folder: Path) -> None:
    """Components 4.1-4.2 of the docs: load, compile, dump, reload, state round trip."""
    import torch

    from flambe.compile import yaml

    with open(path) as handle:
        schema = yaml.load(handle)
    model = schema()
    with open(folder / "new_model.yaml", "w") as handle:
        yaml.dump(model, handle)
    with open(folder / "new_model.yaml") as handle:
        again = yaml.load(handle)()
    again.load_state(model.get_state())
    tokens = torch.randint(1, 200, (4, 7))
    model.eval()
    again.eval()
    out = model(tokens)
    out = out[0] if isinstance(out, tuple) else out
    assert out.shape == (4, 10)
    assert torch.allclose(torch.exp(out).sum(-1), torch.ones(4), atol=1e-5)
    other = again(tokens)
    assert torch.equal(out, other[0] if isinstance(other, tuple) else other)


RUNS: dict[str, Callable[[dict, Path, Path], None]] = {
    "simple-exp-dataset.yaml": _check_simple_exp_dataset,
    "simple-exp.yaml": _check_simple_exp,
    "sst-text-classification.yaml": _check_sst_text_classification,
    "script.yaml": _check_script,
    "my-module.yaml": _check_my_module,
    "model.yaml": lambda progress, folder, record: None,  # built, see _build_model
}


@pytest.mark.parametrize("name", ALL)
def test_config_runs(name, tmp_path, monkeypatch, request):
    """Run the config with its steps cut to one (or say why it cannot run here)."""
    if name in NOT_RUN:
        pytest.skip(f"validated only: {NOT_RUN[name]}")
    monkeypatch.chdir(tmp_path)
    if name in COMPONENTS:
        _build_model(CONFIGS / name, tmp_path)
        return
    record = request.getfixturevalue("ray_for_the_corpus")
    progress = _run(name, tmp_path)
    assert progress["status"] == "success", progress
    RUNS[name](progress, tmp_path, record)


def test_steps_are_cut_to_one_and_nothing_else():
    """The only change a run makes to a file: its step counts."""
    text = (CONFIGS / "sst-text-classification.yaml").read_text()
    cut = _cut_steps(text)
    pairs = zip(text.splitlines(), cut.splitlines(), strict=True)
    changed: list[tuple] = [(a, b) for a, b in pairs if a != b]
    assert changed == [
        ("    max_steps: 10", "    max_steps: 1"),
        ("    iter_per_step: 100", "    iter_per_step: 1"),
    ]
