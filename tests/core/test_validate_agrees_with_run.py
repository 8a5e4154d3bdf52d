"""``flambe validate`` accepts what ``flambe run`` accepts, and reports what run would fail on.

Each config is checked both ways: :func:`flambe.cli.validate.find_problems`
(what ``flambe validate`` prints) and loading and building the runnable as
``flambe run`` does before any work (:func:`load_runnable_config` then
:func:`build_runnable`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from flambe.cli.validate import find_problems
from flambe.compile.component import Component
from flambe.errors import FlambeError
from flambe.runnable import ClusterRunnable, Runnable
from flambe.runnable.context import build_runnable, load_runnable_config


class AgPlain(Component):
    """A stage without a metric."""

    def __init__(self, size: int = 1) -> None:
        super().__init__()
        self.size = size


class AgScored(Component):
    """A stage with a metric, as search, schedulers and reduce need."""

    def __init__(self, size: int = 1) -> None:
        super().__init__()
        self.size = size

    def run(self) -> bool:
        return False

    def metric(self) -> float | None:
        return float(self.size)


class AgOwnEnv(ClusterRunnable):
    """A cluster runnable whose constructor names ``env`` itself."""

    def __init__(self, env: Any = None) -> None:
        super().__init__()
        self.given = env

    def run(self, **kwargs: Any) -> None:
        pass

    def setup(self, cluster: Any, extensions: Any, force: bool, **kwargs: Any) -> None:
        pass


class AgLocalOnly(Runnable):
    """A runnable that cannot run on a cluster: it takes no ``env``."""

    def __init__(self, size: int = 1) -> None:
        super().__init__()

    def run(self, **kwargs: Any) -> None:
        pass


ENV = """\
env: !RemoteEnvironment
  key: /path/to/key
  orchestrator_ip: 10.0.0.1
  factories_ips: [10.0.0.2]
  user: ubuntu
"""

EXPERIMENT = """\
!Experiment
name: {name}
{extra}
pipeline:
  plain: !AgPlain {{}}
  scored: !AgScored {{}}
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def run_refuses(path: str) -> FlambeError:
    """What ``flambe run`` stops on before any work (fails the test if nothing)."""
    with pytest.raises(FlambeError) as caught:
        build_runnable(load_runnable_config(path))
    return caught.value


def messages(problems: list[Any]) -> list[str]:
    return [str(p) for p in problems]


def test_env_on_an_experiment_validates_and_runs(tmp_path):
    path = write(tmp_path, EXPERIMENT.format(name="e", extra=ENV))
    assert find_problems(path) == []
    experiment = build_runnable(load_runnable_config(path))
    assert experiment.env.orchestrator_ip == "10.0.0.1"
    assert experiment.env.factories_ips == ["10.0.0.2"]


def test_env_named_by_the_constructor_goes_to_it(tmp_path):
    path = write(tmp_path, "!AgOwnEnv\n" + ENV)
    assert find_problems(path) == []
    runnable = build_runnable(load_runnable_config(path))
    assert runnable.given.user == "ubuntu"


def test_env_on_a_runnable_that_cannot_go_to_a_cluster_is_refused_by_both(tmp_path):
    path = write(tmp_path, "!AgLocalOnly\n" + ENV)
    (problem,) = find_problems(path)
    assert "!AgLocalOnly got an unknown argument 'env'" in str(problem)
    assert str(problem).startswith(f"{path}:2:")
    assert "unknown argument 'env'" in str(run_refuses(path))


def test_env_is_listed_among_an_experiments_accepted_arguments(tmp_path):
    path = write(tmp_path, EXPERIMENT.format(name="e", extra="evn: 1"))
    (problem,) = find_problems(path)
    assert "unknown argument 'evn'" in str(problem)
    assert "did you mean 'env'?" in str(problem)


# (what is added to the experiment, where validate reports it, what both say)
REFUSED = [
    ("resume: trainer", 3, "resume names 'trainer', which is not a stage"),
    ("resume: [scored, trainer]", 3, "resume names 'trainer', which is not a stage"),
    ("reduce: {trainer: 1}", 3, "reduce names 'trainer', which is not a stage of the pipeline"),
    ("num_samples: {trainer: 2}", 3, "num_samples names 'trainer', which is not a stage"),
    ("reduce: {plain: 1}", 5, "reduce: stage 'plain' (AgPlain) has no metric()"),
    (
        "schedulers: {plain: !ray.FIFOScheduler {}}",
        5,
        "schedulers: stage 'plain' (AgPlain) has no metric()",
    ),
    ("reduce: {scored: -1}", 3, "reduce: scored: -1 is not a number of variants"),
]


@pytest.mark.parametrize("extra, line, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_validate_reports_what_run_refuses(tmp_path, extra, line, message):
    path = write(tmp_path, EXPERIMENT.format(name="e", extra=extra))
    refused = run_refuses(path)
    assert message in str(refused)
    found = [p for p in messages(find_problems(path)) if message in p]
    assert found, messages(find_problems(path))
    assert found[0].startswith(f"{path}:{line}:")
    assert refused.hint in found[0]


def test_validate_reports_an_invalid_name_as_run_does(tmp_path):
    path = write(tmp_path, EXPERIMENT.format(name="'my experiment'", extra=""))
    refused = run_refuses(path)
    assert "invalid experiment name 'my experiment'" in str(refused)
    (problem,) = messages(find_problems(path))
    assert problem.startswith(f"{path}:2:7: invalid experiment name 'my experiment'")


def test_validate_reports_a_resource_url_no_plugin_serves(tmp_path):
    path = write(
        tmp_path,
        EXPERIMENT.format(name="e", extra="resources:\n  data: nosuchscheme://bucket/data.csv"),
    )
    refused = run_refuses(path)
    assert "nosuchscheme" in str(refused)
    (problem,) = messages(find_problems(path))
    assert "nosuchscheme" in problem and problem.startswith(f"{path}:4:")


def test_validate_reports_a_save_path_url_no_plugin_serves(tmp_path):
    path = write(tmp_path, EXPERIMENT.format(name="e", extra="save_path: nosuchscheme://out"))
    refused = run_refuses(path)
    assert "nosuchscheme" in str(refused)
    (problem,) = messages(find_problems(path))
    assert "nosuchscheme" in problem and problem.startswith(f"{path}:3:")


def test_a_valid_resume_and_reduce_pass_both(tmp_path):
    path = write(
        tmp_path, EXPERIMENT.format(name="e", extra="resume: [plain, scored]\nreduce: {scored: 1}")
    )
    assert find_problems(path) == []
    experiment = build_runnable(load_runnable_config(path))
    assert experiment.resume == ["plain", "scored"]
