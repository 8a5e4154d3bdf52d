"""A ``scheme://`` location that no plugin serves is refused on every write and read path.

Without a storage backend for its scheme, ``s3://bucket/m`` used to be
saved as a local folder ``./s3:/bucket/m``. Only plain paths and
``file://`` URLs are local; any other scheme needs an installed plugin
(``s3`` comes with flambe-cluster), and the error names both. With a
backend registered for the scheme (here the test scheme ``memfs``), saves
and Builder destinations are uploaded through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import flambe
from flambe.compile import Component, yaml
from flambe.compile.serialization import DestinationExistsError
from flambe.errors import ConfigError, FlambeError
from flambe.experiment.resources import materialize
from flambe.export import Builder, Exporter
from flambe.plugins.manager import PluginHost, create_plugin_manager, set_host
from flambe.storage import StorageError, is_local, open_local, scheme_of
from tests.core.holes_backend import ROOT_ENV, MemfsPlugin


class HoleNet(Component, torch.nn.Module):
    def __init__(self, n: int = 3) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(n, 2)


def hole_net(n: int = 3) -> HoleNet:
    """A HoleNet built from YAML (what flambe.load can rebuild)."""
    return yaml.load(f"!HoleNet {{n: {n}}}")()


@pytest.fixture
def core_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Core's plugin only (as if flambe-cluster were absent), run from an empty folder."""
    previous = set_host(PluginHost(*create_plugin_manager(autoload=False)))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    try:
        yield cwd
    finally:
        set_host(previous)


@pytest.fixture
def memfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A backend registered for ``memfs://``, keeping its objects under a local folder."""
    root = tmp_path / "memfs-root"
    root.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(root))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    # a host of its own: hosts read the storage plugins once
    previous = set_host(
        PluginHost(
            *create_plugin_manager(autoload=False, extra_plugins=[("test-memfs", MemfsPlugin())])
        )
    )
    try:
        yield root
    finally:
        set_host(previous)


def _refused(exc: BaseException, scheme: str = "s3", provider: str = "flambe-cluster") -> None:
    text = str(exc)
    assert f"{scheme}://" in text
    assert "no storage backend" in text
    if provider:
        assert f"pip install {provider}" in text


def test_only_scheme_urls_are_remote() -> None:
    assert is_local("models/m") and is_local("/abs/m") and is_local("file:///tmp/m")
    assert is_local("runs/a:b") and is_local("C:\\models\\m") and is_local("~/m")
    assert not is_local("s3://bucket/m") and not is_local("gopher://host/x")
    assert scheme_of("runs/a:b") == "" and scheme_of("S3://b/k") == "s3"


@pytest.mark.parametrize("options", [{}, {"compress": True}, {"pickle_only": True}])
def test_save_to_a_url_nobody_serves_is_refused_and_writes_nothing(
    core_only: Path, options: dict
) -> None:
    net = hole_net()
    with pytest.raises(StorageError) as info:
        flambe.save(net, "s3://bucket/m", **options)
    _refused(info.value)
    with pytest.raises(StorageError) as info:
        net.save("s3://bucket/m", **options)
    _refused(info.value)
    assert list(core_only.iterdir()) == []  # no ./s3:/bucket/m
    with pytest.raises(StorageError) as info:  # the same words on the way back
        flambe.load("s3://bucket/m")
    _refused(info.value)


def test_an_unknown_scheme_is_named_without_a_provider(core_only: Path) -> None:
    with pytest.raises(StorageError, match="gopher://") as info:
        flambe.save(HoleNet(), "gopher://host/m")
    assert "install a plugin that serves this scheme" in str(info.value)
    with pytest.raises(StorageError, match="gopher://"):
        with open_local("gopher://host/m"):
            pass
    assert list(core_only.iterdir()) == []


def test_plain_paths_and_file_urls_stay_local(core_only: Path) -> None:
    net = hole_net()
    flambe.save(net, "a:b/m")  # a colon does not make a URL
    assert torch.equal(flambe.load("a:b/m").linear.weight, net.linear.weight)
    target = core_only / "via-url" / "m"
    flambe.save(net, target.as_uri())
    assert (target / "state.pt").is_file()
    assert torch.equal(flambe.load(target.as_uri()).linear.weight, net.linear.weight)


def test_an_exporter_saved_to_a_url_nobody_serves_is_refused(core_only: Path) -> None:
    exporter = Exporter(model=HoleNet())
    with pytest.raises(StorageError) as info:
        flambe.save(exporter, "s3://bucket/export")
    _refused(info.value)
    assert list(core_only.iterdir()) == []


@pytest.mark.parametrize(
    "where", ["destination: s3://bucket/m", "destination: bucket/m\nstorage: s3"]
)
def test_a_builder_destination_nobody_serves_is_refused_at_load(
    core_only: Path, where: str
) -> None:
    config = core_only / "build.yaml"
    config.write_text(f"!Builder\n{where}\ncomponent: !HoleNet {{n: 2}}\n")
    with pytest.raises(FlambeError) as info:
        yaml.load(config.read_text(), file=str(config))()
    _refused(info.value)
    assert f"{config}:1" in str(info.value)  # the file and line of the !Builder
    assert "Builder destination" in str(info.value)
    assert sorted(p.name for p in core_only.iterdir()) == ["build.yaml"]


def test_a_builder_to_a_file_url_saves_locally(core_only: Path) -> None:
    target = core_only / "built"
    builder = Builder(hole_net(), target.as_uri())
    builder.run()
    assert torch.equal(flambe.load(str(target)).linear.weight, builder.component.linear.weight)
    with pytest.raises(FlambeError, match="--force"):
        builder.run()
    builder.run(force=True)


EXPERIMENT = """\
!Experiment
name: holes
save_path: {save_path}
{resources}pipeline:
  t: !HoleNet {{n: 2}}
"""


def test_an_output_folder_nobody_serves_is_refused_at_load(core_only: Path) -> None:
    config = core_only / "exp.yaml"
    config.write_text(EXPERIMENT.format(save_path="s3://bucket/runs", resources=""))
    with pytest.raises(FlambeError) as info:
        yaml.load(config.read_text(), file=str(config))()
    _refused(info.value)
    assert "save_path s3://bucket/runs" in str(info.value)
    assert f"{config}:1" in str(info.value)
    assert sorted(p.name for p in core_only.iterdir()) == ["exp.yaml"]


def test_a_resource_nobody_serves_is_refused_at_load(core_only: Path) -> None:
    config = core_only / "exp.yaml"
    config.write_text(
        EXPERIMENT.format(
            save_path=core_only / "out", resources="resources:\n  train: s3://bucket/train.csv\n"
        )
    )
    with pytest.raises(ConfigError) as info:
        yaml.load(config.read_text(), file=str(config))()
    _refused(info.value)
    assert "resource 'train'" in str(info.value)
    assert not (core_only / "out").exists()
    # and when resources are fetched (the engine's path)
    with pytest.raises(ConfigError, match="resource 'train'") as info:
        materialize({"train": "s3://bucket/train.csv"})
    _refused(info.value)


def test_file_url_output_folders_and_resources_are_local(core_only: Path) -> None:
    data = core_only / "data.csv"
    data.write_text("x\n")
    config = core_only / "exp.yaml"
    config.write_text(
        EXPERIMENT.format(
            save_path=(core_only / "out").as_uri(),
            resources=f"resources:\n  train: {data.as_uri()}\n",
        )
    )
    experiment = yaml.load(config.read_text(), file=str(config))()
    assert experiment.save_path == str(core_only / "out")
    assert materialize({"train": data.as_uri()}) == {"train": str(data)}


# -- with a backend for the scheme: served, not refused -----------------------------------------


def test_save_and_load_through_a_registered_backend(memfs: Path) -> None:
    net = hole_net(4)
    assert flambe.save(net, "memfs://bucket/m") == "memfs://bucket/m"
    assert (memfs / "bucket" / "m" / "state.pt").is_file()
    assert list(Path.cwd().iterdir()) == []  # uploaded, not written here
    assert torch.equal(flambe.load("memfs://bucket/m").linear.weight, net.linear.weight)
    with pytest.raises(DestinationExistsError):
        flambe.save(net, "memfs://bucket/m")
    assert flambe.save(net, "memfs://bucket/m", compress=True) == "memfs://bucket/m.tar.gz"
    loaded = flambe.load("memfs://bucket/m.tar.gz")
    assert torch.equal(loaded.linear.weight, net.linear.weight)


def test_a_builder_uploads_through_a_registered_backend(memfs: Path) -> None:
    builder = yaml.load(
        "!Builder\ndestination: bucket/built\nstorage: memfs\ncomponent: !HoleNet {n: 2}\n"
    )()
    builder.run()
    assert torch.equal(
        flambe.load("memfs://bucket/built").linear.weight, builder.component.linear.weight
    )
    with pytest.raises(FlambeError, match="--force"):
        builder.run()
    builder.run(force=True)
    assert list(Path.cwd().iterdir()) == []


def test_resources_download_through_a_registered_backend(memfs: Path) -> None:
    (memfs / "bucket").mkdir()
    (memfs / "bucket" / "train.csv").write_text("a,b\n")
    paths = materialize({"train": "memfs://bucket/train.csv"})
    assert Path(paths["train"]).read_text() == "a,b\n"


def test_an_output_folder_at_a_served_url_is_refused_when_run(memfs: Path) -> None:
    # served, so accepted at load (a cluster plugin may move it), but a local run
    # writes its outputs to a local folder: refused before anything is written
    experiment = yaml.load(EXPERIMENT.format(save_path="memfs://bucket/runs", resources=""))()
    assert experiment.save_path == "memfs://bucket/runs"
    with pytest.raises(ConfigError, match="local folder"):
        experiment.run()
    assert list(Path.cwd().iterdir()) == [] and list(memfs.iterdir()) == []
