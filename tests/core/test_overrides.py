"""Command-line overrides (``flambe run CONFIG key.path=value``): the YAML tree, errors, records."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import tests.core.experiment_components  # noqa: F401  (registers the !X... tags)
from flambe.cli.main import cli
from flambe.compile.link import Link
from flambe.compile.overrides import apply_overrides, parse_override
from flambe.compile.yaml import build, load_config, split_config
from flambe.errors import ConfigError
from flambe.experiment.options import GridSearchOptions

CONFIG = textwrap.dedent("""\
    !Experiment
    name: ov
    save_path: SAVE
    pipeline:
      data: !XDataset
        values: [1.0, 2.0]
      train: !XTrainer
        model: !XModel {width: 2}
        dataset: !@ data
        lr: &lr 0.1
        steps: 2
    reduce:
      train: 1
    """)


def load(text: str, *overrides: str, file: str = "exp.yaml") -> object:
    """The root schema of ``text`` with ``overrides`` applied (links not bound)."""
    _, _, main, name = split_config(text, file)
    return build(apply_overrides(main, overrides, name), name, bind=False)


def test_set_add_remove_and_list_index() -> None:
    root = load(
        CONFIG,
        "pipeline.train.steps=5",
        "pipeline.data.values.1=7.5",
        "+pipeline.train.fail_at=0",
        "~reduce",
        "name=",
    )
    train = root["pipeline"]["train"]
    assert train["steps"] == 5 and train["fail_at"] == 0
    assert root["pipeline"]["data"]["values"] == [1.0, 7.5]
    assert "reduce" not in root.keywords and root["name"] is None


def test_values_are_yaml_with_tags_and_links() -> None:
    root = load(
        CONFIG,
        "pipeline.train.model.width=!g [1, 2, 3]",
        "pipeline.train.dataset=!@ data",
        "pipeline.train.model=!XModel {width: !g [4, 5], scale: 2.0}",
    )
    model = root["pipeline"]["train"]["model"]
    assert model.component_subclass.__name__ == "XModel" and model["scale"] == 2.0
    assert isinstance(model["width"], GridSearchOptions) and model["width"].elements == [4, 5]
    assert isinstance(root["pipeline"]["train"]["dataset"], Link)


def test_a_value_shared_by_an_anchor_changes_everywhere() -> None:
    text = CONFIG.replace("steps: 2", "steps: 2\n    max_lr: *lr")
    _, _, main, name = split_config(text, "exp.yaml")
    main = apply_overrides(main, ["pipeline.train.lr=0.5"], name)
    train = build(main, name, bind=False)["pipeline"]["train"]
    assert train["lr"] == 0.5 and train["max_lr"] == 0.5


def test_unknown_key_names_the_override_and_the_mapping_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        load(CONFIG, "pipeline.train.lrr=0.3")
    error = caught.value
    assert "override 'pipeline.train.lrr=0.3'" in error.message
    assert "no key 'lrr' in 'pipeline.train'" in error.message
    # the mapping of !XTrainer starts on line 7 of the file; that of pipeline on line 5
    assert (error.location.file, error.location.line) == ("exp.yaml", 7)
    assert "did you mean 'lr'?" in error.hint and "+pipeline.train.lrr" in error.hint
    with pytest.raises(ConfigError) as caught:
        load(CONFIG, "pipeline.tarin.lr=0.3")
    assert caught.value.location.line == 5 and "did you mean 'train'?" in caught.value.hint


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("pipeline.data.values.2=1", "index 2 is out of the list 'pipeline.data.values'"),
        ("pipeline.data.values.x=1", "'pipeline.data.values' is a list: 'x' must be an index"),
        ("+pipeline.train.lr=1", "'pipeline.train' has a key 'lr' already"),
        ("~pipeline.train.nothing", "no key 'nothing' in 'pipeline.train'"),
        ("name.first=x", "'name' is a single value ('ov')"),
    ],
)
def test_other_path_errors(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match="override") as caught:
        load(CONFIG, override)
    assert message in caught.value.message
    assert caught.value.location.file == "exp.yaml"


def test_malformed_overrides() -> None:
    with pytest.raises(ConfigError, match="has no '='"):
        parse_override("pipeline.train.lr")
    with pytest.raises(ConfigError, match="not a dotted path"):
        parse_override("pipeline..lr=1")
    assert parse_override("a.b=c=d").value == "c=d"
    assert parse_override("~a.b").op == "remove"


def test_errors_in_a_value_point_at_the_override() -> None:
    with pytest.raises(ConfigError) as caught:
        load(CONFIG, "pipeline.train.model.width=!g [1, 2")
    assert caught.value.location.file == "override 'pipeline.train.model.width=!g [1, 2'"
    errors: list = []
    loaded = load_config(
        CONFIG, "exp.yaml", errors=errors, overrides=["pipeline.train.model=!Nope {}"]
    )
    assert loaded.root is not None
    assert [str(e.location.file) for e in errors] == ["override 'pipeline.train.model=!Nope {}'"]


def write(tmp_path: Path) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(CONFIG.replace("SAVE", str(tmp_path / "out")))
    return path


def test_validate_with_overrides(tmp_path: Path) -> None:
    config = str(write(tmp_path))
    runner = CliRunner()
    ok = runner.invoke(
        cli, ["validate", config, "pipeline.train.steps=4", "+pipeline.train.fail_at=1"]
    )
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(cli, ["validate", config, "+pipeline.train.stepz=4"])
    assert bad.exit_code == 22
    assert "override '+pipeline.train.stepz=4':1:1: !XTrainer got an unknown argument 'stepz'" in (
        bad.output
    )
    wrong = runner.invoke(cli, ["validate", config, "pipeline.trian.steps=4"])
    assert wrong.exit_code == 22
    assert f"{config}:5:3: override 'pipeline.trian.steps=4': no key 'trian'" in wrong.output


def test_run_records_the_overrides_and_resume_compares_them(tmp_path: Path) -> None:
    config = str(write(tmp_path))
    runner = CliRunner()
    first = runner.invoke(cli, ["run", config, "pipeline.train.lr=0.25", "name=ov2"])
    assert first.exit_code == 0, first.output
    out = tmp_path / "out" / "output__ov2"
    recorded = (out / "experiment.yaml").read_text()
    assert "lr: 0.25" in recorded and "name: ov2" in recorded
    # the recorded config is the experiment: it runs as is, and is continued, not redone
    again = runner.invoke(cli, ["run", config, "pipeline.train.lr=0.25", "name=ov2"])
    assert again.exit_code == 0, again.output
    changed = runner.invoke(cli, ["run", config, "pipeline.train.lr=0.5", "name=ov2"])
    assert changed.exit_code != 0
    assert "holds the output of another configuration" in changed.output
    # the same as a config file changed by hand
    edited = tmp_path / "edited.yaml"
    text = Path(config).read_text().replace("name: ov", "name: ov2")
    edited.write_text(text.replace("lr: &lr 0.1", "lr: &lr 0.5"))
    by_hand = runner.invoke(cli, ["run", str(edited)])
    assert by_hand.exit_code == changed.exit_code
    assert by_hand.output.splitlines()[-2:] == changed.output.splitlines()[-2:]
    # no override: the file's own config is another experiment too
    bare = runner.invoke(cli, ["run", config, "name=ov2"])
    assert bare.exit_code == changed.exit_code
    unknown = runner.invoke(cli, ["run", config, "pipeline.train.lrr=0.5"])
    assert unknown.exit_code == 22 and "did you mean 'lr'?" in unknown.output


def test_help_shows_the_overrides() -> None:
    runner = CliRunner()
    assert "KEY=VALUE overrides" in runner.invoke(cli, ["--help"]).output
    for command in ("run", "validate"):
        text = runner.invoke(cli, [command, "--help"]).output
        assert "[KEY=VALUE]..." in text and "'+a.c=2' adds a key" in text, text
