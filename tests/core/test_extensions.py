"""Extensions: locations translated for pip, missing modules reported, real installs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flambe.compile.extensions import (
    ensure_extensions,
    import_modules,
    install_spec,
    is_installed_module,
    parse_extensions,
    replaced_packages,
)
from flambe.errors import ConfigError, ExtensionError

# -- install_spec: pure translation -------------------------------------------


@pytest.mark.parametrize(
    "location, spec",
    [
        # the docs' GitHub forms
        ("https://github.com/user/repo", "git+https://github.com/user/repo"),
        ("https://github.com/user/repo/", "git+https://github.com/user/repo"),
        ("http://github.com/user/some_extension", "git+http://github.com/user/some_extension"),
        ("https://github.com/user/repo.git", "git+https://github.com/user/repo.git"),
        (
            "https://github.com/user/repo/tree/my_branch/extensions",
            "git+https://github.com/user/repo@my_branch#subdirectory=extensions",
        ),
        (
            "https://github.com/user/repo/tree/dev/path/to/ext",
            "git+https://github.com/user/repo@dev#subdirectory=path/to/ext",
        ),
        ("https://github.com/user/repo/tree/v1.2", "git+https://github.com/user/repo@v1.2"),
        (
            "https://gitlab.com/group/proj/-/tree/main/sub",
            "git+https://gitlab.com/group/proj@main#subdirectory=sub",
        ),
        # ssh forms
        ("ssh://git@github.com:user/repo.git", "git+ssh://git@github.com/user/repo.git"),
        ("ssh://git@github.com/user/repo.git", "git+ssh://git@github.com/user/repo.git"),
        ("git@github.com:user/repo.git", "git+ssh://git@github.com/user/repo.git"),
        # pip's own forms pass through
        (
            "git+https://github.com/u/r@v1#subdirectory=x",
            "git+https://github.com/u/r@v1#subdirectory=x",
        ),
        ("git+ssh://git@github.com/u/r.git", "git+ssh://git@github.com/u/r.git"),
        ("py-extensions==1.0", "py-extensions==1.0"),
        ("pypi==1.12.1", "pypi==1.12.1"),
        ("pkg>=1,<2", "pkg>=1,<2"),
        ("pkg[extra]~=2.0", "pkg[extra]~=2.0"),
        (
            "pkg @ https://example.com/pkg-1.0-py3-none-any.whl",
            "pkg @ https://example.com/pkg-1.0-py3-none-any.whl",
        ),
        # an archive URL is not a repository
        ("https://example.com/pkg-1.0.tar.gz", "https://example.com/pkg-1.0.tar.gz"),
    ],
)
def test_install_spec_translations(location: str, spec: str) -> None:
    assert install_spec(location) == spec


def test_install_spec_local_paths_become_absolute(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "ext"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname='x'\n")
    monkeypatch.chdir(tmp_path)
    assert install_spec("./ext") == str(project)
    assert install_spec(str(project)) == str(project)
    # a bare folder name is a local path when it holds a project
    assert install_spec("ext") == str(project)
    # relative to the config's folder when not found from the current one
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert install_spec("./ext", base_dir=tmp_path) == str(project)
    assert install_spec("ext", base_dir=tmp_path) == str(project)


def test_install_spec_missing_local_path_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExtensionError, match="does not exist"):
        install_spec("./local/file")
    # C44, adapted: a pip requirement is left as it is
    assert install_spec("pypi==1.12.1") == "pypi==1.12.1"


# -- checks -----------------------------------------------------------------------


def test_is_installed_module() -> None:  # C45
    assert is_installed_module("pytest") is True
    assert is_installed_module("flambe") is True
    assert is_installed_module("no_such_module_xq7") is False
    assert is_installed_module("pytest.no_such_child_xq7") is False


def test_parse_extensions_rejects_bad_headers(tmp_path: Path) -> None:
    assert parse_extensions(None) == {}
    assert parse_extensions({"my_ext": " ./x "}) == {"my_ext": "./x"}
    with pytest.raises(ExtensionError, match="top-level module name"):
        parse_extensions({"my-ext": "./x"})
    with pytest.raises(ExtensionError, match="no location"):
        parse_extensions({"my_ext": ""})
    with pytest.raises(ExtensionError, match="mapping"):
        parse_extensions(["my_ext"])


def test_missing_extension_error_names_module_file_line_and_command(tmp_path: Path) -> None:
    config = tmp_path / "exp.yaml"
    config.write_text("pkg_ext: some-dist==1.0\nmissing_ext_xq7: ./nowhere\n---\n!Thing {}\n")
    with pytest.raises(ExtensionError) as info:
        ensure_extensions(
            {"missing_ext_xq7": "./nowhere", "pytest": "pytest"}, install=False, file=str(config)
        )
    error = info.value
    assert isinstance(error, ConfigError)
    assert error.location is not None
    assert (error.location.file, error.location.line) == (str(config), 2)
    text = str(error)
    assert "missing_ext_xq7" in text
    assert f"{config}:2:1" in text
    assert "pip install ./nowhere" in text
    assert "-i" in text and "--install-extensions" in text


def test_installed_extension_is_imported_and_its_tags_resolve(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "ns_ext_xq7"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent("""
        class Plain:
            def __init__(self, x: int = 1) -> None:
                self.x = x
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ensure_extensions({"ns_ext_xq7": "ns-ext==1.0"})
    assert "ns_ext_xq7" in sys.modules
    from flambe.compile.registry import get_registry

    resolved = get_registry().resolve("!ns_ext_xq7.Plain")
    assert issubclass(resolved.cls, sys.modules["ns_ext_xq7"].Plain)


def test_import_error_inside_extension_is_reported(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "broken_ext_xq7"
    package.mkdir()
    (package / "__init__.py").write_text("import not_a_real_dependency_xq7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ExtensionError, match="not_a_real_dependency_xq7"):
        import_modules(["broken_ext_xq7"])


def test_replaced_packages_are_read_from_pip_output() -> None:
    output = textwrap.dedent("""
        Installing collected packages: numpy, my-ext
          Attempting uninstall: numpy
            Found existing installation: numpy 1.26.0
            Uninstalling numpy-1.26.0:
              Successfully uninstalled numpy-1.26.0
        Successfully installed my-ext-1.0 numpy-2.0.0
    """)
    assert replaced_packages(output) == ["numpy 1.26.0"]
    assert replaced_packages("Successfully installed x-1.0") == []


# -- a real install with -i --------------------------------------------------------


def pip_target_env(target: Path, extra_path: str = "") -> dict:
    """Environment that makes pip install into ``target`` (on PYTHONPATH), offline."""
    env = dict(os.environ)
    env["PIP_TARGET"] = str(target)
    env["PIP_NO_INDEX"] = "1"
    # the build backend (hatchling) comes from the current environment
    env["PIP_NO_BUILD_ISOLATION"] = "0"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    paths = [str(target)] + ([extra_path] if extra_path else [])
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def make_extension(root: Path, module: str, body: str) -> Path:
    """A pip-installable project ``root/<module>-project`` holding package ``module``."""
    project = root / f"{module}-project"
    (project / module).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "{module.replace("_", "-")}"
        version = "0.1.0"

        [tool.hatch.build.targets.wheel]
        packages = ["{module}"]
    """)
    )
    (project / module / "__init__.py").write_text(textwrap.dedent(body))
    return project


def test_install_flag_pip_installs_a_local_extension(tmp_path: Path) -> None:
    project = make_extension(
        tmp_path,
        "tiny_ext_xq7",
        """
        from flambe.compile import Component

        class Thing(Component):
            def __init__(self, size: int = 2) -> None:
                self.size = size
    """,
    )
    target = tmp_path / "target"
    target.mkdir()
    config = tmp_path / "cfg.yaml"
    config.write_text(f"tiny_ext_xq7: {project.name}\n---\n!tiny_ext_xq7.Thing\nsize: 5\n")
    script = textwrap.dedent(f"""
        import sys
        from flambe.compile.extensions import ensure_extensions, is_installed_module
        from flambe.errors import ExtensionError
        assert not is_installed_module("tiny_ext_xq7")
        try:
            ensure_extensions({{"tiny_ext_xq7": {project.name!r}}}, file={str(config)!r})
        except ExtensionError as exc:
            print("NOT INSTALLED:", exc)
        ensure_extensions({{"tiny_ext_xq7": {project.name!r}}}, install=True,
                          file={str(config)!r})
        from flambe.compile.yaml import load_config
        loaded = load_config(open({str(config)!r}).read(), file={str(config)!r})
        thing = loaded.root()
        print("BUILT", type(thing).__module__, thing.size, thing._extensions)
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path / "target",
        env=pip_target_env(target),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "NOT INSTALLED:" in proc.stdout and "rerun with -i" in proc.stdout
    assert f"BUILT tiny_ext_xq7 5 {{'tiny_ext_xq7': '{project.name}'}}" in proc.stdout
    assert (target / "tiny_ext_xq7" / "__init__.py").is_file()


def test_failed_pip_install_is_an_extension_error(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        from flambe.compile.extensions import ensure_extensions
        from flambe.errors import ExtensionError
        try:
            ensure_extensions({"absent_ext_xq7": "absent-dist-xq7==9.9"}, install=True)
        except ExtensionError as exc:
            print("ERROR:", exc)
    """)
    target = tmp_path / "target"
    target.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=pip_target_env(target),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "ERROR: installing extension 'absent_ext_xq7' from 'absent-dist-xq7==9.9' failed"
        in proc.stdout
    )
