"""The ``flambe`` command line, run as a real process (and in-process where noted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flambe.cli.main import cli
from flambe.plugins import hookimpl
from flambe.plugins.manager import PluginHost, create_plugin_manager, set_host

EXT_MODULE = "cli_ext_xq7"

EXT_SOURCE = '''
import json
from pathlib import Path

from flambe.runnable import ClusterRunnable, Runnable


class Writer(Runnable):
    """Writes what it received to a JSON file."""

    def __init__(self, output: str, text: str = "hi") -> None:
        super().__init__()
        self.output = output
        self.text = text

    def run(self, force: bool = False, verbose: bool = False) -> None:
        secrets = {s: dict(self.config[s]) for s in self.config.sections()}
        Path(self.output).write_text(json.dumps({
            "text": self.text, "force": force, "verbose": verbose, "secrets": secrets,
            "extensions": self.extensions}))


class Failing(Runnable):
    def run(self, **kwargs) -> None:
        raise RuntimeError("the run broke")


class Interrupted(Runnable):
    def run(self, **kwargs) -> None:
        raise KeyboardInterrupt


class Remote(ClusterRunnable):
    def setup(self, cluster, extensions, force, **kwargs) -> None:
        pass

    def run(self, **kwargs) -> None:
        pass
'''


@pytest.fixture
def ext_path(tmp_path: Path) -> Path:
    """A folder on PYTHONPATH holding the extension module used by the configs."""
    folder = tmp_path / "pythonpath"
    (folder / EXT_MODULE).mkdir(parents=True)
    (folder / EXT_MODULE / "__init__.py").write_text(EXT_SOURCE)
    return folder


def flambe(
    args: list[str], cwd: Path, pythonpath: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``python -m flambe.cli ARGS`` as a separate process."""
    full_env = dict(os.environ)
    if pythonpath is not None:
        full_env["PYTHONPATH"] = os.pathsep.join(
            [str(pythonpath)] + ([full_env["PYTHONPATH"]] if full_env.get("PYTHONPATH") else [])
        )
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "flambe.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def config(tmp_path: Path, body: str, name: str = "run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"{EXT_MODULE}: {EXT_MODULE}\n---\n" + textwrap.dedent(body))
    return path


# -- start-up: help, version, no heavy imports ----------------------------------------

HEAVY_CHECK = textwrap.dedent("""
    import json, sys
    from flambe.cli.main import main
    try:
        main({args!r})
    except SystemExit as exc:
        code = exc.code
    from flambe.plugins.manager import get_host
    allowed = set()
    for record in get_host().records:
        parts = record.module.split(".")
        allowed.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    plugin_packages = ("flambe.nlp", "flambe.vision", "flambe.cluster", "flambe.report")
    implementation = sorted(m for m in sys.modules
                            if m.startswith(plugin_packages) and m not in allowed)
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "ray"))
    print("RESULT" + json.dumps({{"code": code, "heavy": heavy,
                                 "implementation": implementation}}))
""")


@pytest.mark.parametrize(
    "args", [["--help"], ["plugins"], ["plugins", "--json"], ["--version"], ["run", "--help"]]
)
def test_startup_imports_neither_torch_ray_nor_plugin_code(args: list[str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", HEAVY_CHECK.format(args=args)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    result = json.loads(line[len("RESULT") :])
    assert result["heavy"] == []
    assert result["implementation"] == []
    if args != ["plugins"] and args != ["plugins", "--json"]:
        assert result["code"] in (0, None)


def test_help_lists_commands_and_exit_codes(tmp_path: Path) -> None:
    proc = flambe(["--help"], tmp_path)
    assert proc.returncode == 0
    for command in ("run", "validate", "plugins"):
        assert f"  {command} " in proc.stdout
    assert "flambe CONFIG" in proc.stdout
    assert "22 configuration error" in proc.stdout


def test_version(tmp_path: Path) -> None:
    from flambe import __version__

    proc = flambe(["--version"], tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"flambe {__version__} (flambe-core)"


# -- plugins ----------------------------------------------------------------------------


def test_plugins_json_shape(tmp_path: Path) -> None:
    proc = flambe(["plugins", "--json"], tmp_path)
    report = json.loads(proc.stdout)
    assert set(report) == {"plugins", "errors"}
    assert proc.returncode == (1 if report["errors"] else 0)
    core = next(p for p in report["plugins"] if p["name"] == "core")
    assert core["distribution"] == "flambe-core"
    assert core["module"] == "flambe.plugins.builtin"
    assert core["error"] is None
    assert "flambe_tags" in core["hooks"]
    assert {"@", "link", "$", "call"} <= set(core["tags"])
    assert set(core["namespaces"]) == {"torch", "ray", "search"}
    assert {"file", "http", "https"} <= set(core["storage_backends"])
    for plugin in report["plugins"]:
        assert set(plugin) == {
            "name",
            "module",
            "distribution",
            "version",
            "hooks",
            "tags",
            "namespaces",
            "commands",
            "storage_backends",
            "error",
        }


def fake_distribution(root: Path, name: str, version: str, entry_points: str) -> None:
    """A distribution's metadata only (``*.dist-info``), as pip would leave it."""
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


def test_plugins_reports_a_broken_plugin(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_distribution(
        site,
        "flambe-broken",
        "0.3",
        """
        [flambe.plugins]
        broken = no_such_plugin_module_xq7
    """,
    )
    proc = flambe(["plugins", "--json"], tmp_path, pythonpath=site)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    broken = next(p for p in report["plugins"] if p["name"] == "broken")
    assert broken["distribution"] == "flambe-broken" and broken["version"] == "0.3"
    assert "No module named 'no_such_plugin_module_xq7'" in broken["error"]
    assert any("broken" in e and "failed to load" in e for e in report["errors"])
    text = flambe(["plugins"], tmp_path, pythonpath=site)
    assert text.returncode == 1
    assert "broken (flambe-broken 0.3)" in text.stdout and "FAILED" in text.stdout


class DuplicateTagPlugin:
    @hookimpl
    def flambe_tags(self) -> dict[str, str]:
        return {"link": "somewhere.else:Thing", "OwnTag": "somewhere.else:Other"}


def test_plugins_reports_duplicate_tags_with_exit_1(fresh_plugin_host: None) -> None:
    set_host(
        PluginHost(
            *create_plugin_manager(autoload=False, extra_plugins=[("dup", DuplicateTagPlugin())])
        )
    )
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    dup = next(p for p in report["plugins"] if p["name"] == "dup")
    assert dup["tags"] == ["OwnTag", "link"]
    assert any("'!link' is claimed by two plugins" in e for e in report["errors"])


class CommandPlugin:
    @hookimpl
    def flambe_cli_commands(self) -> dict[str, Any]:
        from flambe.plugins.types import LazyCommand

        return {
            "hello-xq7": LazyCommand(
                "tests.core.cli_plugin_command:hello", "Say hello from a plugin."
            )
        }


def test_plugin_subcommand_is_listed_and_imported_only_when_run(fresh_plugin_host: None) -> None:
    set_host(
        PluginHost(*create_plugin_manager(autoload=False, extra_plugins=[("cmd", CommandPlugin())]))
    )
    sys.modules.pop("tests.core.cli_plugin_command", None)
    runner = CliRunner()
    helped = runner.invoke(cli, ["--help"])
    assert helped.exit_code == 0
    assert "hello-xq7" in helped.output and "Say hello from a plugin." in helped.output
    assert "tests.core.cli_plugin_command" not in sys.modules
    ran = runner.invoke(cli, ["hello-xq7", "--name", "you"])
    assert ran.exit_code == 0, ran.output
    assert ran.output.strip() == "hello you"
    assert "tests.core.cli_plugin_command" in sys.modules


class ShadowPlugin:
    @hookimpl
    def flambe_cli_commands(self) -> dict[str, Any]:
        from flambe.plugins.types import LazyCommand

        return {"validate": LazyCommand("tests.core.cli_plugin_command:hello", "Not core's.")}


def test_core_commands_come_through_the_plugin_hook_and_win_over_a_plugin(
    fresh_plugin_host: None,
) -> None:
    from flambe.plugins.builtin import CORE_COMMANDS

    host = PluginHost(
        *create_plugin_manager(autoload=False, extra_plugins=[("shadow", ShadowPlugin())])
    )
    set_host(host)
    declared = {
        record.name: mapping for record, mapping in host.declarations("flambe_cli_commands")
    }
    assert declared["core"] == CORE_COMMANDS  # through the hook, as a plugin's
    assert {"run", "validate", "plugins"} <= set(CORE_COMMANDS)
    commands = host.commands()
    for name, lazy in CORE_COMMANDS.items():
        assert commands[name] == (lazy, host.record("core")), name
    assert [c.message for c in host.conflicts()] == [
        "command 'flambe validate' of plugin 'shadow' (unknown) is a command of flambe-core: "
        "left out"
    ]
    helped = CliRunner().invoke(cli, ["--help"])
    assert "Check a config without running it" in helped.output
    assert "Not core's." not in helped.output


# -- run ------------------------------------------------------------------------------


def read_output(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_run_a_custom_runnable(tmp_path: Path, ext_path: Path) -> None:
    cfg = config(tmp_path, "!cli_ext_xq7.Writer\noutput: out.json\ntext: hello\n")
    proc = flambe(["run", str(cfg)], tmp_path, ext_path)
    assert proc.returncode == 0, proc.stderr
    out = read_output(tmp_path / "out.json")
    assert out == {
        "text": "hello",
        "force": False,
        "verbose": False,
        "secrets": {},
        "extensions": {EXT_MODULE: EXT_MODULE},
    }
    assert "Done" in proc.stderr
    # the log file under FLAMBE_HOME
    log = Path(os.environ["FLAMBE_HOME"]) / "logs" / "log.log"
    assert log.is_file() and "Done" in log.read_text()


def test_bare_form_and_flags(tmp_path: Path, ext_path: Path) -> None:
    cfg = config(tmp_path, "!cli_ext_xq7.Writer\noutput: out.json\n")
    secrets = tmp_path / "s.ini"
    secrets.write_text("[AWS]\nTOKEN = abc123\n")
    proc = flambe([cfg.name, "-f", "-v", "--secrets", str(secrets)], tmp_path, ext_path)
    assert proc.returncode == 0, proc.stderr
    out = read_output(tmp_path / "out.json")
    assert out["force"] is True and out["verbose"] is True
    assert out["secrets"] == {"AWS": {"token": "abc123"}}
    # flags before the config work too
    (tmp_path / "out.json").unlink()
    proc = flambe(["-f", cfg.name], tmp_path, ext_path)
    assert proc.returncode == 0, proc.stderr
    assert read_output(tmp_path / "out.json")["force"] is True


def test_default_secrets_come_from_flambe_home(tmp_path: Path, ext_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "secrets.ini").write_text("[S]\nkey = from-home\n")
    cfg = config(tmp_path, "!cli_ext_xq7.Writer\noutput: out.json\n")
    proc = flambe([str(cfg)], tmp_path, ext_path, env={"FLAMBE_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    assert read_output(tmp_path / "out.json")["secrets"] == {"S": {"key": "from-home"}}
    assert (home / "logs" / "log.log").is_file()


def test_missing_or_malformed_secrets_file_is_a_config_error(
    tmp_path: Path, ext_path: Path
) -> None:
    cfg = config(tmp_path, "!cli_ext_xq7.Writer\noutput: out.json\n")
    proc = flambe([str(cfg), "-s", "absent.ini"], tmp_path, ext_path)
    assert proc.returncode == 22
    assert "secrets file 'absent.ini' does not exist" in proc.stderr
    (tmp_path / "bad.ini").write_text("no header\n")
    proc = flambe([str(cfg), "-s", "bad.ini"], tmp_path, ext_path)
    assert proc.returncode == 22
    assert "not a valid INI file" in proc.stderr
    assert not (tmp_path / "out.json").exists()


def test_config_errors_exit_22_with_location_and_no_traceback(
    tmp_path: Path, ext_path: Path
) -> None:
    cfg = config(tmp_path, "!cli_ext_xq7.Writer\noutput: out.json\ntexx: 1\n")
    proc = flambe(["run", str(cfg)], tmp_path, ext_path)
    assert proc.returncode == 22
    assert f"error: {cfg}:5:7: !cli_ext_xq7.Writer got an unknown argument 'texx'" in proc.stderr
    assert "did you mean 'text'?" in proc.stderr
    assert "Traceback" not in proc.stderr
    # unknown tag, not a runnable, missing file, YAML syntax
    bad_tag = config(tmp_path, "!cli_ext_xq7.Nope {}\n", "tag.yaml")
    assert flambe([str(bad_tag)], tmp_path, ext_path).returncode == 22
    plain = tmp_path / "plain.yaml"
    plain.write_text("a: 1\n")
    proc = flambe([str(plain)], tmp_path, ext_path)
    assert proc.returncode == 22 and "not a runnable" in proc.stderr
    assert flambe(["run", "absent.yaml"], tmp_path).returncode == 22
    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("a: [1,\n")
    proc = flambe([str(syntax)], tmp_path)
    assert proc.returncode == 22 and f"{syntax}:" in proc.stderr


def test_missing_extension_exits_22_naming_it(tmp_path: Path) -> None:
    cfg = tmp_path / "ext.yaml"
    cfg.write_text("absent_ext_xq7: absent-dist==1.0\n---\n!absent_ext_xq7.Thing {}\n")
    proc = flambe([str(cfg)], tmp_path)
    assert proc.returncode == 22
    assert f"{cfg}:1:1: extension module 'absent_ext_xq7' is not installed" in proc.stderr
    assert "pip install absent-dist==1.0" in proc.stderr


def test_runtime_failure_exits_1_traceback_only_with_verbose(
    tmp_path: Path, ext_path: Path
) -> None:
    cfg = config(tmp_path, "!cli_ext_xq7.Failing {}\n")
    proc = flambe([str(cfg)], tmp_path, ext_path)
    assert proc.returncode == 1
    assert "error: RuntimeError: the run broke" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = flambe([str(cfg), "-v"], tmp_path, ext_path)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr


def test_interrupt_exits_130(tmp_path: Path, ext_path: Path) -> None:
    cfg = config(tmp_path, "!cli_ext_xq7.Interrupted {}\n")
    proc = flambe([str(cfg)], tmp_path, ext_path)
    assert proc.returncode == 130
    assert "Exiting early" in proc.stderr


def test_debug_with_cluster_is_a_usage_error(tmp_path: Path, ext_path: Path) -> None:
    cfg = config(tmp_path, "!cli_ext_xq7.Writer\noutput: out.json\n")
    proc = flambe(["run", str(cfg), "-d", "-c", str(cfg)], tmp_path, ext_path)
    assert proc.returncode == 2
    assert "--debug cannot be combined with --cluster" in proc.stderr
    assert not (tmp_path / "out.json").exists()


def test_cluster_needs_a_cluster_runnable(tmp_path: Path, ext_path: Path) -> None:
    cfg = config(tmp_path, "!cli_ext_xq7.Writer\noutput: out.json\n")
    proc = flambe([str(cfg), "-c", str(cfg)], tmp_path, ext_path)
    assert proc.returncode == 22
    assert "only ClusterRunnables can run on a cluster" in proc.stderr


def test_cluster_file_that_describes_no_cluster_is_refused(tmp_path: Path, ext_path: Path) -> None:
    # flambe-cluster answers only for its own cluster classes
    cfg = config(tmp_path, "!cli_ext_xq7.Remote {}\n")
    proc = flambe([str(cfg), "-c", str(cfg)], tmp_path, ext_path)
    assert proc.returncode == 22
    assert "no plugin could run on the cluster described by" in proc.stderr


def test_cluster_without_flambe_cluster_says_to_install_it(tmp_path: Path, ext_path: Path) -> None:
    cfg = config(tmp_path, "!cli_ext_xq7.Remote {}\n")
    proc = flambe(
        [str(cfg), "-c", str(cfg)], tmp_path, ext_path, env={"FLAMBE_BLOCK_PLUGINS": "cluster"}
    )
    assert proc.returncode == 22
    assert "running on a cluster needs flambe-cluster: pip install flambe-cluster" in proc.stderr


def test_cluster_with_broken_flambe_cluster_says_why(tmp_path: Path, ext_path: Path) -> None:
    site = tmp_path / "site"
    fake_distribution(
        site,
        "flambe-cluster",
        "9.9",
        """
        [flambe.plugins]
        cluster = no_such_cluster_module_xq7
    """,
    )
    cfg = config(tmp_path, "!cli_ext_xq7.Remote {}\n")
    proc = flambe(
        [str(cfg), "-c", str(cfg)], tmp_path, Path(os.pathsep.join([str(site), str(ext_path)]))
    )
    assert proc.returncode == 22
    assert "needs flambe-cluster, which is installed (9.9) but failed to load" in proc.stderr
    assert "no_such_cluster_module_xq7" in proc.stderr


class ClusterPlugin:
    """Takes every cluster run: records the request and returns 0."""

    requests: list[Any] = []

    @hookimpl
    def flambe_run_on_cluster(self, request: Any) -> int:
        self.requests.append(request)
        return 0


def test_cluster_run_goes_through_the_hook(fresh_plugin_host: None, tmp_path: Path) -> None:
    plugin = ClusterPlugin()
    set_host(
        PluginHost(*create_plugin_manager(autoload=False, extra_plugins=[("fakecluster", plugin)]))
    )
    cfg = tmp_path / "remote.yaml"
    cfg.write_text("!MyClusterRunnable\nsize: 4\n")
    cluster_cfg = tmp_path / "cluster.yaml"
    cluster_cfg.write_text("!SomeCluster {}\n")
    import tests.core.test_runnable  # noqa: F401  (defines !MyClusterRunnable)

    result = CliRunner().invoke(cli, ["run", str(cfg), "-c", str(cluster_cfg), "-f"])
    assert result.exit_code == 0, result.output
    request = plugin.requests[-1]
    assert request.runnable.size == 4
    assert request.cluster_path == str(cluster_cfg)
    assert request.config_path == str(cfg)
    assert request.force is True and request.debug is False


# -- validate ---------------------------------------------------------------------------


def test_validate_lists_every_problem(tmp_path: Path, ext_path: Path) -> None:
    cfg = config(
        tmp_path,
        """\
        !cli_ext_xq7.Writer
        outptu: out.json
        text: !NoSuchTag {}
        extra: !@ nowhere
    """,
    )
    proc = flambe(["validate", str(cfg)], tmp_path, ext_path)
    assert proc.returncode == 22
    lines = [ln for ln in proc.stdout.splitlines() if not ln.startswith("  hint")]
    assert f"{cfg}:3:1: !cli_ext_xq7.Writer is missing the required argument 'output'" in lines
    assert f"{cfg}:4:9: !cli_ext_xq7.Writer got an unknown argument 'outptu'" in lines
    assert any(ln.startswith(f"{cfg}:5:7: unknown tag '!NoSuchTag'") for ln in lines)
    assert any(ln.startswith(f"{cfg}:6:8: link '!@ nowhere'") for ln in lines)
    assert "problems found" in proc.stderr
    assert not (tmp_path / "out.json").exists()


def test_validate_ok_and_not_runnable(tmp_path: Path, ext_path: Path) -> None:
    cfg = config(tmp_path, "!cli_ext_xq7.Writer\noutput: out.json\n")
    proc = flambe(["validate", str(cfg)], tmp_path, ext_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == f"{cfg}: OK"
    assert not (tmp_path / "out.json").exists()  # nothing ran, nothing was built
    plain = tmp_path / "plain.yaml"
    plain.write_text("a: 1\n")
    proc = flambe(["validate", str(plain)], tmp_path)
    assert proc.returncode == 22 and "not a runnable" in proc.stdout


def test_validate_missing_extension(tmp_path: Path) -> None:
    cfg = tmp_path / "ext.yaml"
    cfg.write_text("absent_ext_xq7: ./nowhere\n---\n!absent_ext_xq7.Thing {}\n")
    proc = flambe(["validate", str(cfg)], tmp_path)
    assert proc.returncode == 22
    assert f"{cfg}:1:1: extension module 'absent_ext_xq7' is not installed" in proc.stdout
