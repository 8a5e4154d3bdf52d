"""Runnables: secrets, injection, loading a runnable config, cluster runnables."""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any

import pytest

from flambe.compile import yaml
from flambe.compile.component import Component
from flambe.errors import ConfigError, RunnableError, UnknownTagError
from flambe.runnable import ClusterRunnable, Runnable
from flambe.runnable.cluster import Cluster
from flambe.runnable.context import build_runnable, load_runnable_config, run_kwargs, run_runnable
from flambe.runnable.environment import RemoteEnvironment


class RecordingRunnable(Runnable):
    """Records the keyword arguments of each run."""

    def __init__(self, label: str = "x") -> None:
        super().__init__()
        self.label = label
        self.calls: list[dict[str, Any]] = []

    def run(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


class ForceOnlyRunnable(Runnable):
    """A run() that names only ``force``; built without calling super().__init__()."""

    def __init__(self) -> None:
        self.seen: bool | None = None

    def run(self, force: bool = False) -> None:
        self.seen = force


class NotARunnable(Component):
    def __init__(self, x: int = 1) -> None:
        self.x = x


class MyClusterRunnable(ClusterRunnable):
    """A cluster runnable whose constructor does not name ``env``."""

    def __init__(self, size: int = 1) -> None:
        super().__init__()
        self.size = size
        self.setup_calls: list[dict[str, Any]] = []

    def setup(
        self, cluster: Cluster, extensions: dict[str, str], force: bool, **kwargs: Any
    ) -> None:
        self.setup_calls.append({"cluster": cluster, "extensions": extensions, "force": force})

    def run(self, **kwargs: Any) -> None:
        pass


def an_env() -> RemoteEnvironment:
    return RemoteEnvironment(
        key="/home/u/key.pem",
        orchestrator_ip="10.0.0.1",
        factories_ips=["10.0.0.2", "10.0.0.3"],
        user="ubuntu",
        local_user="me",
        public_orchestrator_ip="1.2.3.4",
        public_factories_ips=["1.2.3.5", "1.2.3.6"],
    )


class LocalTestCluster(Cluster):
    """A cluster of no hosts: enough to exercise setup_inject_env."""

    def run(self, force: bool = False, **kwargs: Any) -> None:
        pass

    def get_remote_env(self) -> RemoteEnvironment:
        return an_env()

    def execute(
        self, runnable: Any, extensions: dict[str, str], secrets: str | None, force: bool
    ) -> int:
        return 0

    def send_local_content(
        self, content: dict[str, str], dest: str, all_hosts: bool = False
    ) -> dict[str, str]:
        return dict(content)

    def existing_dir(self, path: str) -> bool:
        return False

    def remove_dir(self, path: str, content_only: bool = True, all_hosts: bool = True) -> None:
        pass

    def get_max_resources(self) -> dict[str, float]:
        return {"cpu": 1, "gpu": 0}


# -- config / secrets (102, 103) -------------------------------------------------


def test_fresh_runnable_config_has_only_default_section() -> None:
    runnable = RecordingRunnable()
    assert isinstance(runnable.config, configparser.ConfigParser)
    assert list(runnable.config.keys()) == ["DEFAULT"]
    # also when the subclass never calls Runnable.__init__
    assert list(ForceOnlyRunnable().config.keys()) == ["DEFAULT"]
    assert ForceOnlyRunnable().extensions == {}
    assert ForceOnlyRunnable().content is None


def test_inject_secrets(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.ini"
    secrets.write_text("[SOME_SECTION]\nRANDOM = random\n")
    runnable = RecordingRunnable()
    runnable.inject_secrets(str(secrets))
    assert runnable.config["SOME_SECTION"]["RANDOM"] == "random"


def test_inject_secrets_malformed_and_missing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ini"
    bad.write_text("RANDOM = random\n")
    with pytest.raises(ConfigError, match="not a valid INI file: line 1 ") as info:
        RecordingRunnable().inject_secrets(bad)
    # neither the message nor a chained error (whose text a logged traceback would show)
    # quotes the line: it may hold a secret
    assert "random" not in str(info.value).lower().replace("[section]", "")
    assert info.value.__cause__ is None and info.value.__context__ is None
    with pytest.raises(ConfigError, match="does not exist"):
        RecordingRunnable().inject_secrets(tmp_path / "absent.ini")


# -- loading a runnable config (104-106) -----------------------------------------


def write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_runnable_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_runnable_config(tmp_path / "absent.yaml")


def test_load_runnable_config_three_documents(tmp_path: Path) -> None:
    path = write(tmp_path, "a: b\n---\n!RecordingRunnable {}\n---\n!RecordingRunnable {}\n")
    with pytest.raises(ConfigError, match="at most two YAML documents"):
        load_runnable_config(path)


def test_load_runnable_config_reads_the_extensions_header(tmp_path: Path) -> None:
    path = write(tmp_path, "pytest: pytest\n---\n!RecordingRunnable\nlabel: y\n")
    loaded = load_runnable_config(path)
    assert loaded.extensions == {"pytest": "pytest"}
    assert loaded.runnable_class is RecordingRunnable
    assert loaded.root["label"] == "y"


def test_unknown_tag_is_a_located_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "!RecordingRunnable\nlabel: !NoSuchTagAnywhere {}\n")
    with pytest.raises(UnknownTagError) as info:
        load_runnable_config(path)
    assert isinstance(info.value, ConfigError)
    assert info.value.location.file == str(path)
    assert info.value.location.line == 2


def test_non_runnable_root_is_a_runnable_error(tmp_path: Path) -> None:
    path = write(tmp_path, "!NotARunnable\nx: 2\n")
    with pytest.raises(RunnableError) as info:
        load_runnable_config(path)
    message = str(info.value)
    assert "!NotARunnable" in message and "not a runnable" in message
    assert "flambe.runnable.Runnable" in message  # the hint says what a runnable is
    assert f"{path}:1:1" in message
    plain = write(tmp_path, "a: 1\n", "plain.yaml")
    with pytest.raises(RunnableError, match="plain mapping"):
        load_runnable_config(plain)


def test_abstract_runnable_root_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "!Runnable {}\n")
    with pytest.raises(ConfigError, match="abstract"):
        load_runnable_config(path)


def test_build_runnable_injects_content_extensions_and_secrets(tmp_path: Path) -> None:
    text = "pytest: pytest\n---\n!RecordingRunnable\nlabel: z\n"
    path = write(tmp_path, text)
    secrets = write(tmp_path, "[AWS]\nTOKEN = abc\n", "secrets.ini")
    runnable = build_runnable(load_runnable_config(path), secrets=secrets)
    assert isinstance(runnable, RecordingRunnable)
    assert runnable.label == "z"
    assert runnable.content == text
    assert runnable.extensions == {"pytest": "pytest"}
    assert runnable._extensions["pytest"] == "pytest"
    assert runnable.config["AWS"]["TOKEN"] == "abc"


# -- run flags (108) ---------------------------------------------------------------


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("debug", [False, True])
def test_run_receives_the_flags(force: bool, debug: bool) -> None:
    runnable = RecordingRunnable()
    run_runnable(runnable, force=force, verbose=False, debug=debug)
    assert runnable.calls == [{"force": force, "verbose": False, "debug": debug}]


def test_run_receives_only_the_flags_it_names() -> None:
    runnable = ForceOnlyRunnable()
    run_runnable(runnable, force=True, verbose=True, debug=True)
    assert runnable.seen is True

    def no_flags() -> None:
        pass

    def some(force: bool, *, debug: bool = False) -> None:
        pass

    assert run_kwargs(no_flags, force=True, verbose=True, debug=True) == {}
    assert run_kwargs(some, force=True, verbose=True, debug=True) == {"force": True, "debug": True}


# -- cluster runnables (110, 111) ------------------------------------------------------


def test_remote_environment_yaml_round_trip() -> None:
    env = an_env()
    text = yaml.dump(env)
    assert text.startswith("!RemoteEnvironment")
    back = yaml.load(text)
    assert isinstance(back, RemoteEnvironment)
    assert back == env
    for field in (
        "key",
        "orchestrator_ip",
        "factories_ips",
        "user",
        "local_user",
        "public_orchestrator_ip",
        "public_factories_ips",
    ):
        assert getattr(back, field) == getattr(env, field)
    minimal = RemoteEnvironment("k", "10.0.0.1", [], "u")
    assert yaml.load(yaml.dump(minimal)) == minimal


def test_set_serializable_attr_survives_dump_and_load() -> None:
    runnable = yaml.load("!MyClusterRunnable\nsize: 3\n")()
    runnable.set_serializable_attr("env", an_env())
    assert runnable.env == an_env()
    text = yaml.dump(runnable)
    assert "env: !RemoteEnvironment" in text
    again = yaml.load(text)()
    assert isinstance(again, MyClusterRunnable)
    assert again.size == 3
    assert again.env == an_env()
    assert "env: !RemoteEnvironment" in yaml.dump(again)


def test_setup_inject_env_calls_setup_then_sets_env() -> None:
    runnable = yaml.load("!MyClusterRunnable\nsize: 2\n")()
    cluster = LocalTestCluster()
    assert runnable.env is None
    runnable.setup_inject_env(cluster, {"ext": "/remote/ext"}, force=True)
    assert runnable.setup_calls == [
        {"cluster": cluster, "extensions": {"ext": "/remote/ext"}, "force": True}
    ]
    assert runnable.env == an_env()


def test_cluster_contract_is_abstract() -> None:
    with pytest.raises(TypeError):
        Cluster()  # type: ignore[abstract]
    assert {"run", "get_remote_env", "execute"} <= Cluster.__abstractmethods__
    assert issubclass(Cluster, Runnable)


# -- SafeExecutionContext (104, 105, adapted) -------------------------------------------


def test_safe_execution_context(tmp_path: Path) -> None:
    from flambe.runnable import SafeExecutionContext

    path = write(tmp_path, "pytest: pytest\n---\n!RecordingRunnable\nlabel: q\n")
    with SafeExecutionContext(str(path)) as ctx:
        content, extensions = ctx.first_parse()
        assert extensions == {"pytest": "pytest"}
        runnable, extensions = ctx.preprocess()
    assert isinstance(runnable, RecordingRunnable) and runnable.label == "q"
    assert runnable.content == content
    bad = write(tmp_path, "!RecordingRunnable\nlabel: !NoSuchTagAnywhere {}\n", "bad.yaml")
    with pytest.raises(SystemExit) as info:
        with SafeExecutionContext(str(bad)) as ctx:
            ctx.preprocess()
    assert info.value.code == 22
    with pytest.raises(SystemExit) as info:
        with SafeExecutionContext(str(path)):
            raise RuntimeError("boom")
    assert info.value.code == 1
    with pytest.raises(SystemExit) as info:
        with SafeExecutionContext(str(path)):
            raise KeyboardInterrupt
    assert info.value.code == 130
    with pytest.raises(SystemExit) as info:
        with SafeExecutionContext(str(tmp_path / "absent.yaml")) as ctx:
            ctx.first_parse()
    assert info.value.code == 22
