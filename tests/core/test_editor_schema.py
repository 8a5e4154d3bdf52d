"""``flambe schema``: the JSON Schema of every tag fits the examples, as an editor sees them.

The YAML language server checks a tagged node by its YAML kind only; the
configs are read the same way here (:func:`editor_view`) and validated with
the jsonschema package against the schema ``flambe schema`` writes.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from flambe.cli.main import cli
from flambe.compile.editor_schema import EXTENSIONS_DEF, editor_view

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(
    p
    for p in (REPO / "examples").rglob("*.yaml")
    if not {"build", "flambe-output"} & set(p.parts) and p.name != "broken.yaml"
)
# the example plugin and extension, importable without installing them
EXAMPLE_PATHS = [
    REPO / "examples" / "plugin-hello" / "src",
    REPO / "examples" / "cli" / "hello-ext",
]


BUILD = """
import importlib, sys
from flambe.cli.main import cli
from flambe.plugins.manager import PluginHost, create_plugin_manager, set_host

plugin = importlib.import_module("flambe_hello.plugin")
set_host(PluginHost(*create_plugin_manager(extra_plugins=[("hello", plugin)])))
cli.main(["schema", "-m", "hello_ext", "-o", sys.argv[1], "--custom-tags", sys.argv[2]])
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The schema of the installed plugins, the example plugin and the example extension.

    Built in a process of its own, so the example plugin and extension stay out of this one.
    """
    folder = tmp_path_factory.mktemp("schema")
    out, tags = folder / "flambe.schema.json", folder / "tags.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, EXAMPLE_PATHS), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", BUILD, str(out), str(tags)],
        env=env,
        capture_output=True,
        text=True,
        cwd=folder,
    )
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(out.read_text())
    return SimpleNamespace(
        schema=schema,
        custom_tags=json.loads(tags.read_text())["yaml.customTags"],
        output=proc.stderr,
        validator=main_validator(schema),
    )


def main_validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    """A validator of the main document: one of the classes, not the extensions header."""
    schema = copy.copy(schema)
    schema["anyOf"] = [s for s in schema["anyOf"] if EXTENSIONS_DEF not in s["$ref"]]
    return jsonschema.Draft7Validator(schema)


def problems(validator: jsonschema.Draft7Validator, document: Any) -> list[str]:
    """Every error, with the innermost reasons of failed ``anyOf`` branches."""
    found = []

    def leaves(error: jsonschema.ValidationError) -> None:
        if not error.context:
            found.append(f"{list(error.absolute_path)}: {error.message}")
        for reason in error.context:
            leaves(reason)

    for error in validator.iter_errors(document):
        leaves(error)
    return found


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(REPO / "examples")))
def test_every_example_fits_the_schema(built: Any, path: Path) -> None:
    documents = editor_view(path.read_text(), str(path))
    header = {**built.schema, "anyOf": [{"$ref": f"#/definitions/{EXTENSIONS_DEF}"}]}
    for document in documents[:-1]:
        assert not problems(jsonschema.Draft7Validator(header), document)
    assert not problems(built.validator, documents[-1])


def moons() -> Any:
    return editor_view((REPO / "examples" / "moons.yaml").read_text())[0]


@pytest.mark.parametrize(
    ("where", "right", "wrong"),
    [
        ((), "name", "nmae"),  # the experiment's own argument
        (("pipeline", "train"), "max_steps", "max_stepz"),  # a stage
        (("pipeline", "train", "model"), "hidden_size", "hiden_size"),  # inside a stage
        (("pipeline", "train", "train_sampler"), "batch_size", "batchsize"),
        (("pipeline", "train", "optimizer"), "lr", "lrr"),  # a !torch. class
    ],
)
def test_a_misspelled_argument_fails(
    built: Any, where: tuple[str, ...], right: str, wrong: str
) -> None:
    validator = built.validator
    config = moons()
    assert not problems(validator, config)
    target = config
    for key in where:
        target = target[key]
    target[wrong] = target.pop(right)
    found = problems(validator, config)
    assert found, f"{wrong} passed"
    assert any(f"'{wrong}'" in p and "unexpected" in p for p in found), found


def test_broken_example_fails(built: Any) -> None:
    text = (REPO / "examples" / "cli" / "broken.yaml").read_text()
    found = problems(built.validator, editor_view(text)[-1])
    assert any("'nmae'" in p and "unexpected" in p for p in found), found


def test_definitions_hold_arguments_types_defaults_and_descriptions(built: Any) -> None:
    definitions = built.schema["definitions"]
    trainer = definitions["Trainer"]
    assert trainer["title"] == "!Trainer" and trainer["additionalProperties"] is False
    assert trainer["description"].startswith("Train a model, validating it")
    assert {"dataset", "train_sampler", "model", "optimizer"} <= set(trainer["required"])
    assert trainer["properties"]["max_steps"]["default"] == 10
    assert trainer["properties"]["max_steps"]["type"] == ["integer", "string", "array"]
    grid = definitions["hello.Greeter"]
    assert grid["required"] == ["name", "path"]
    assert grid["properties"]["greeting"]["default"] == "Hello"
    assert grid["properties"]["name"]["description"] == "Who to greet."
    # a plain type also takes a link (a string) or a search option (an array)
    assert grid["properties"]["name"]["type"] == ["string", "array"]
    # nested components: an argument typed with a class takes its registered subclasses
    optimizer = json.dumps(trainer["properties"]["optimizer"])
    union = "flambe:subclasses:torch.optim.optimizer.Optimizer"
    assert union in optimizer
    assert {"$ref": "#/definitions/torch.Adam"} in definitions[union]["anyOf"]
    # an argument of any type: a mapping there is one of the components
    assert trainer["properties"]["model"]["$ref"] == "#/definitions/flambe:any-value"
    # a **kwargs constructor lists its bases' arguments (SSHCluster -> Cluster's python)
    assert "python" in definitions["SSHCluster"]["properties"]
    assert "factories_ips" in definitions["SSHCluster"]["required"]
    adam = definitions["torch.Adam"]
    assert adam["properties"]["lr"]["default"] == 0.001 and "params" in adam["required"]
    factory = definitions["TabularDataset.autogen"]
    assert "data_path" in factory["required"]


def test_custom_tags_list_each_tag_with_its_yaml_kind(built: Any) -> None:
    tags = set(built.custom_tags)
    for entry in [
        "!Trainer mapping",
        "!Trainer scalar",
        "!Experiment mapping",
        "!g sequence",
        "!loguniform sequence",
        "!@ scalar",
        "!torch.Adam mapping",
        "!TabularDataset.autogen mapping",
        "!hello.Greeter mapping",
        "!hello_ext.Greeter mapping",
    ]:
        assert entry in tags, entry
    assert "!g mapping" not in tags and "!@ mapping" not in tags


def test_flambe_schema_writes_a_valid_schema_and_says_what(built: Any) -> None:
    jsonschema.Draft7Validator.check_schema(built.schema)
    assert built.schema["x-flambe-custom-tags"] == built.custom_tags
    assert "classes and factories" in built.output and "yaml.customTags entries" in built.output


def test_flambe_schema_refuses_a_module_that_does_not_import(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["schema", "-o", str(tmp_path / "s.json"), "-m", "no_such_xq"])
    assert result.exit_code == 22
    assert "module 'no_such_xq' cannot be imported" in result.output
    assert not (tmp_path / "s.json").exists()


def test_help_lists_flambe_schema() -> None:
    text = CliRunner().invoke(cli, ["--help"]).output
    assert "schema     Write a JSON Schema of every tag" in text
