"""The tag registry: namespaces, aliases, factories, plugin tags (C1-C8, §10.15, §10.17)."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flambe.compile import yaml
from flambe.compile.component import Component
from flambe.compile.registrable import (
    MappedRegistrable,
    Registrable,
    alias,
    register,
    registrable_factory,
    registration_context,
)
from flambe.compile.registry import get_registry
from flambe.compile.schema import Schema
from flambe.errors import (
    ConfigError,
    DuplicateTagError,
    FlambeError,
    PluginError,
    RegistrationError,
    UnknownTagError,
)
from flambe.plugins import hookimpl
from flambe.plugins.manager import PluginHost, create_plugin_manager, set_host

REPO_ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


@pytest.fixture
def install_host() -> Iterator[Callable[..., PluginHost]]:
    """Install a plugin host built from the given plugin objects; restore the old one after."""
    previous = set_host(None)

    def install(*plugins: Any, autoload: bool = False) -> PluginHost:
        pm, records = create_plugin_manager(autoload=autoload, extra_plugins=plugins)
        host = PluginHost(pm, records)
        set_host(host)
        return host

    try:
        yield install
    finally:
        set_host(previous)


class TagPlugin:
    """A tiny plugin declaring tags."""

    def __init__(self, tags: dict) -> None:
        self._tags = tags

    @hookimpl
    def flambe_tags(self) -> dict:
        return self._tags


# ---------------------------------------------------------------------------
# classes of this module (module under `tests`: no namespace)
# ---------------------------------------------------------------------------


class RegA(Component):
    def __init__(self, akw1: int = 0, akw2: Any = None) -> None:
        self.akw1 = akw1
        self.akw2 = akw2

    @registrable_factory
    @classmethod
    def some_factory(cls, akw1: int = 1) -> RegA:
        return cls(akw1=akw1 * 10)


@alias("reg_b_class")
@alias("reg_b_")
class RegB(Component):
    def __init__(self, bkw1: int = 0, bkw2: str = "", bkw3: int = 99) -> None:
        self.bkw1 = bkw1
        self.bkw2 = bkw2
        self.bkw3 = bkw3


@alias("reg_a_class")
class RegAliasedA(RegA):
    pass


# factory leak (§10.17): a factory on subclass X must not reach its parent or sibling Y
class LeakParent(Component):
    def __init__(self, v: int = 0) -> None:
        self.v = v


class LeakX(LeakParent):
    @registrable_factory
    @classmethod
    def only_on_x(cls, v: int = 0) -> LeakX:
        return cls(v=v + 1)


class LeakY(LeakParent):
    pass


class LeakXChild(LeakX):
    pass


class LeakLater(LeakParent):
    """Defined after LeakX: in the original the leaked factory reached every later class."""


# ---------------------------------------------------------------------------
# C1, C2: namespaces
# ---------------------------------------------------------------------------


def test_class_of_tests_package_has_bare_tag() -> None:
    assert Registrable.get_default_tag(RegA) == "!RegA"
    assert isinstance(yaml.load("!RegA {akw1: 3}"), Schema)


def test_class_of_extension_package_is_namespaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "regext_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        textwrap.dedent("""
        from flambe.compile import Component

        class RegExtThing(Component):
            def __init__(self, x=1):
                self.x = x
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    mod = importlib.import_module("regext_pkg")
    try:
        obj = yaml.load("!regext_pkg.RegExtThing {x: 4}")()
        assert isinstance(obj, mod.RegExtThing) and obj.x == 4
        assert Registrable.get_default_tag(mod.RegExtThing) == "!regext_pkg.RegExtThing"
        with pytest.raises(UnknownTagError):
            yaml.load("!RegExtThing {x: 4}")
    finally:
        sys.modules.pop("regext_pkg", None)


def test_registration_context_forces_namespace_and_restores() -> None:
    with registration_context("regns"):

        class RegCtxA(Component):
            pass

        with registration_context("regns_inner"):

            class RegCtxInner(Component):
                pass

        class RegCtxB(Component):
            pass

    class RegCtxAfter(Component):
        pass

    assert Registrable.get_default_tag(RegCtxA) == "!regns.RegCtxA"
    assert Registrable.get_default_tag(RegCtxInner) == "!regns_inner.RegCtxInner"
    assert Registrable.get_default_tag(RegCtxB) == "!regns.RegCtxB"
    assert Registrable.get_default_tag(RegCtxAfter) == "!RegCtxAfter"
    assert yaml.load("!regns.RegCtxA {}").component_subclass is RegCtxA
    with pytest.raises(UnknownTagError):
        yaml.load("!RegCtxA {}")


def test_registration_context_as_decorator() -> None:
    @registration_context("regdeco")
    def make() -> type:
        class RegDecorated(Component):
            pass

        return RegDecorated

    cls = make()
    assert Registrable.get_default_tag(cls) == "!regdeco.RegDecorated"

    class RegNotDecorated(Component):
        pass

    assert Registrable.get_default_tag(RegNotDecorated) == "!RegNotDecorated"


def test_main_module_classes_get_no_namespace() -> None:
    """§10.15: a class defined in a script (``__main__``) loads as ``!Name``."""
    script = textwrap.dedent("""
        from flambe.compile import Component, yaml, Registrable
        from flambe.errors import UnknownTagError

        class MainThing(Component):
            def __init__(self, x=0):
                self.x = x

        assert Registrable.get_default_tag(MainThing) == "!MainThing"
        assert yaml.load("!MainThing {x: 2}")().x == 2
        try:
            yaml.load("!__main__.MainThing {x: 2}")
        except UnknownTagError:
            print("OK")
        else:
            raise SystemExit("!__main__.MainThing should be unknown")
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"


# ---------------------------------------------------------------------------
# C3: aliases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["!RegB", "!reg_b_", "!reg_b_class"])
def test_every_alias_loads(tag: str) -> None:
    obj = yaml.load(f"{tag} {{bkw1: 1}}")()
    assert isinstance(obj, RegB) and obj.bkw1 == 1


def test_top_most_alias_is_the_default_tag() -> None:
    assert Registrable.get_default_tag(RegB) == "!reg_b_class"
    assert yaml.dump(RegB.compile(bkw1=1, bkw2="x")).startswith("!reg_b_class\n")


def test_object_loaded_through_alias_dumps_with_that_alias() -> None:
    obj = yaml.load("!reg_b_ {bkw1: 1}")()
    assert yaml.dump(obj).startswith("!reg_b_\n")
    assert yaml.dump(yaml.load("!RegB {bkw1: 1}")()).startswith("!RegB\n")


def test_alias_of_subclass_does_not_leak_to_parent() -> None:
    assert Registrable.get_default_tag(RegA) == "!RegA"
    assert Registrable.get_default_tag(RegAliasedA) == "!reg_a_class"
    assert yaml.load("!reg_a_class {}").component_subclass is RegAliasedA


# ---------------------------------------------------------------------------
# C4, C5, §10.17: factories
# ---------------------------------------------------------------------------


def test_factory_tag_calls_the_factory() -> None:
    schema = yaml.load("!RegA.some_factory {akw1: 8}")
    assert schema.factory_method == "some_factory"
    obj = schema()
    assert isinstance(obj, RegA) and obj.akw1 == 80


def test_factory_works_through_alias_and_round_trips() -> None:
    text = "!reg_a_class.some_factory\nakw1: 8\n"
    schema = yaml.load(text)
    assert schema.component_subclass is RegAliasedA
    assert yaml.dump(schema) == text
    obj = schema()
    assert isinstance(obj, RegAliasedA) and obj.akw1 == 80
    assert yaml.dump(obj) == text
    text2 = "!RegA.some_factory\nakw1: 8\n"
    assert yaml.dump(yaml.load(text2)()) == text2


def test_factory_default_tag() -> None:
    assert Registrable.get_default_tag(RegA, "some_factory") == "!RegA.some_factory"
    assert Registrable.get_default_tag(RegAliasedA, "some_factory") == "!reg_a_class.some_factory"


def test_factory_is_inherited_by_subclasses() -> None:
    obj = yaml.load("!LeakXChild.only_on_x {v: 1}")()
    assert type(obj) is LeakXChild and obj.v == 2
    assert Registrable.get_default_tag(LeakXChild, "only_on_x") == "!LeakXChild.only_on_x"


@pytest.mark.parametrize("cls", [LeakParent, LeakY, LeakLater])
def test_factory_does_not_leak_to_parent_or_siblings(cls: type) -> None:
    with pytest.raises(UnknownTagError) as info:
        yaml.load(f"!{cls.__name__}.only_on_x {{v: 1}}")
    assert "only_on_x" in str(info.value)
    with pytest.raises(RegistrationError):
        Registrable.get_default_tag(cls, "only_on_x")
    assert not hasattr(cls, "only_on_x")


def test_factory_on_class_without_registry_fails_at_class_creation() -> None:
    with pytest.raises((RegistrationError, RuntimeError)) as info:

        class RegPlainWithFactory:  # noqa: F841
            @registrable_factory
            @classmethod
            def make(cls) -> None:
                return None

    error = info.value
    if not isinstance(error, RegistrationError):  # Python < 3.12 wraps __set_name__ errors
        error = error.__cause__
    assert isinstance(error, RegistrationError)


# ---------------------------------------------------------------------------
# C6, C7, C8
# ---------------------------------------------------------------------------


class RegPlainPoint:
    """Not a Registrable: made loadable with ``register``."""

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    @classmethod
    def to_yaml(cls, representer: Any, node: Any, tag: str) -> Any:
        return representer.represent_scalar(tag, f"{node.x},{node.y}")

    @classmethod
    def from_yaml(cls, constructor: Any, node: Any, factory_name: Any) -> RegPlainPoint:
        x, y = constructor.construct_scalar(node).split(",")
        return cls(int(x), int(y))


register(RegPlainPoint, "reg_point")


def test_register_plain_class() -> None:
    point = yaml.load("!reg_point 3,4")
    assert isinstance(point, RegPlainPoint) and (point.x, point.y) == (3, 4)
    # a scalar document may end with YAML's end marker '...'
    assert yaml.dump(point).startswith("!reg_point 3,4\n")
    again = yaml.load(yaml.dump(RegPlainPoint(1, 2)))
    assert (again.x, again.y) == (1, 2)
    assert yaml.dump({"p": point}) == "p: !reg_point 3,4\n"
    assert Registrable.get_default_tag(RegPlainPoint) == "!reg_point"


def test_register_needs_yaml_methods() -> None:
    class RegNoMethods:
        pass

    with pytest.raises(RegistrationError):
        register(RegNoMethods, "reg_no_methods")


def test_default_tag_of_unregistered_class_raises() -> None:
    class RegUnregistered:
        pass

    with pytest.raises(RegistrationError):
        Registrable.get_default_tag(RegUnregistered)
    with pytest.raises(RegistrationError):
        Registrable.get_default_tag(RegA, "missing")


def test_should_register_false_and_tag_override() -> None:
    class RegHidden(Component, should_register=False):
        pass

    class RegOverridden(Component, tag_override="reg_overridden_tag"):
        pass

    with pytest.raises(RegistrationError):
        Registrable.get_default_tag(RegHidden)
    with pytest.raises(UnknownTagError):
        yaml.load("!RegHidden {}")
    assert Registrable.get_default_tag(RegOverridden) == "!reg_overridden_tag"
    assert yaml.load("!reg_overridden_tag {}").component_subclass is RegOverridden


def test_second_namespace_warns_and_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    with registration_context("regfirst"):

        class RegTwoNamespaces(Component):
            pass

    with caplog.at_level(logging.WARNING, logger="flambe.compile.registry"):
        alias("reg_other_ns_alias", tag_namespace="regsecond")(RegTwoNamespaces)
    assert any("namespace" in r.getMessage() for r in caplog.records)
    assert Registrable.get_default_tag(RegTwoNamespaces) == "!regfirst.RegTwoNamespaces"
    with pytest.raises(UnknownTagError):
        yaml.load("!regsecond.reg_other_ns_alias {}")


# ---------------------------------------------------------------------------
# MappedRegistrable
# ---------------------------------------------------------------------------


class RegMapped(MappedRegistrable):
    def __init__(self, a: int = 0, b: int = 0) -> None:
        self.a, self.b = a, b


def test_mapped_registrable_builds_at_once_and_dumps_back() -> None:
    obj = yaml.load("!RegMapped {a: 1, b: 2}")
    assert isinstance(obj, RegMapped) and (obj.a, obj.b) == (1, 2)
    assert yaml.dump(obj) == "!RegMapped\na: 1\nb: 2\n"
    empty = yaml.load("!RegMapped")
    assert isinstance(empty, RegMapped) and empty.a == 0


def test_mapped_registrable_bad_argument_is_flambe_error() -> None:
    with pytest.raises(FlambeError) as info:
        yaml.load("!RegMapped {zzz: 1}")
    assert info.value.location is not None and info.value.location.line == 1


# ---------------------------------------------------------------------------
# plugins declaring tags
# ---------------------------------------------------------------------------


class RegPluginTarget(Component):
    """Declared by a test plugin under another name."""

    def __init__(self, n: int = 0) -> None:
        self.n = n


class RegClashUser(Component):
    """Registered by user code; a plugin claims the same tag for another class."""

    def __init__(self, n: int = 0) -> None:
        self.n = n


def test_plugin_tag_imports_its_class_on_use(install_host: Callable[..., PluginHost]) -> None:
    install_host(("regplug", TagPlugin({"reg_plugin_alias": f"{__name__}:RegPluginTarget"})))
    obj = yaml.load("!reg_plugin_alias {n: 3}")()
    assert isinstance(obj, RegPluginTarget) and obj.n == 3


def test_plugin_tag_of_third_party_class_is_wrapped(
    install_host: Callable[..., PluginHost],
) -> None:
    import collections

    install_host(("regplug3", TagPlugin({"reg_ordered": "collections:OrderedDict"})))
    obj = yaml.load("!reg_ordered {}")()
    assert isinstance(obj, collections.OrderedDict) and isinstance(obj, Component)
    assert "Component" not in [k.__name__ for k in collections.OrderedDict.__mro__]


def test_user_registered_class_wins_over_plugin(install_host: Callable[..., PluginHost]) -> None:
    install_host(("regplug2", TagPlugin({"RegClashUser": f"{__name__}:RegPluginTarget"})))
    assert yaml.load("!RegClashUser {n: 1}").component_subclass is RegClashUser


def test_two_plugins_declaring_one_tag(install_host: Callable[..., PluginHost]) -> None:
    install_host(
        ("regfirstplug", TagPlugin({"reg_dup_tag": "collections:OrderedDict"})),
        ("regsecondplug", TagPlugin({"reg_dup_tag": "collections:Counter"})),
    )
    with pytest.raises(DuplicateTagError) as info:
        yaml.load("!reg_dup_tag {}")
    message = str(info.value)
    assert "regfirstplug" in message and "regsecondplug" in message
    assert "collections:OrderedDict" in message and "collections:Counter" in message


def test_same_declaration_twice_is_not_a_clash(install_host: Callable[..., PluginHost]) -> None:
    install_host(
        ("regsame1", TagPlugin({"reg_same_tag": f"{__name__}:RegPluginTarget"})),
        ("regsame2", TagPlugin({"reg_same_tag": f"{__name__}:RegPluginTarget"})),
    )
    assert yaml.load("!reg_same_tag {}").component_subclass is RegPluginTarget


def test_plugin_tag_whose_module_is_missing(install_host: Callable[..., PluginHost]) -> None:
    install_host(("regbadtarget", TagPlugin({"reg_bad_target": "reg_no_such_module_xyz:Thing"})))
    with pytest.raises(PluginError) as info:
        yaml.load("!reg_bad_target {}")
    assert "regbadtarget" in str(info.value) and "reg_no_such_module_xyz" in str(info.value)


def _fake_distribution(root: Path, dist: str, entry_points: dict) -> None:
    """Write a dist-info folder so importlib.metadata finds entry points under ``root``."""
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[flambe.plugins]\n{lines}")


def test_plugin_that_fails_to_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, install_host: Callable[..., PluginHost]
) -> None:
    _fake_distribution(tmp_path, "regbroken-dist", {"regbroken": "regbroken_missing_module"})
    (tmp_path / "regworking_plugin.py").write_text(
        textwrap.dedent(f"""
        from flambe.plugins import hookimpl

        @hookimpl
        def flambe_tags():
            return {{"reg_from_working": "{__name__}:RegPluginTarget"}}
    """)
    )
    _fake_distribution(tmp_path, "regworking-dist", {"regworking": "regworking_plugin"})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("FLAMBE_BLOCK_PLUGINS", "cluster,nlp,report,vision")
    from flambe.plugins import known

    monkeypatch.setitem(known.KNOWN_TAGS, "RegFromBroken", "regbroken-dist")
    try:
        host = install_host(autoload=True)
        failed = {r.name: r for r in host.failures()}
        assert set(failed) == {"regbroken"}
        assert failed["regbroken"].distribution == "regbroken-dist"
        assert "regbroken_missing_module" in failed["regbroken"].error
        # everything else keeps working
        assert yaml.load("!reg_from_working {n: 2}")().n == 2
        assert yaml.load("!RegA {akw1: 1}")().akw1 == 1
        # a tag of the broken distribution says why it is missing
        with pytest.raises(UnknownTagError) as info:
            yaml.load("!RegFromBroken {}")
        assert "regbroken-dist" in str(info.value) and "failed to load" in str(info.value)
    finally:
        sys.modules.pop("regworking_plugin", None)


# ---------------------------------------------------------------------------
# unknown tags
# ---------------------------------------------------------------------------


def test_unknown_tag_suggests_close_names() -> None:
    with pytest.raises(UnknownTagError) as info:
        yaml.load("!RegBB {bkw1: 1}")
    error = info.value
    assert isinstance(error, ConfigError)
    assert "!RegBB" in error.message
    assert "!RegB" in error.hint
    assert (error.location.line, error.location.column) == (1, 1)


def test_unknown_tag_names_distribution_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from flambe.plugins import known

    monkeypatch.setitem(known.KNOWN_TAGS, "RegNotInstalledThing", "flambe-regnotinstalled")
    with pytest.raises(UnknownTagError) as info:
        yaml.load("top:\n  - !RegNotInstalledThing {}\n", file="cfg.yaml")
    error = info.value
    assert "pip install flambe-regnotinstalled" in error.hint
    assert str(error.location) == "cfg.yaml:2:5"


def test_unknown_namespace_tag_names_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    from flambe.plugins import known

    monkeypatch.setitem(known.KNOWN_NAMESPACES, "regns_missing", "flambe-regns-missing")
    with pytest.raises(UnknownTagError) as info:
        yaml.load("!regns_missing.Foo {}")
    assert "flambe-regns-missing" in info.value.hint


def test_unknown_torch_class() -> None:
    with pytest.raises(UnknownTagError) as info:
        yaml.load("!torch.NoSuchLayerAnywhere {}")
    assert "torch.NoSuchLayerAnywhere" in str(info.value)


def test_unknown_factory_lists_available_ones() -> None:
    with pytest.raises(UnknownTagError) as info:
        yaml.load("!RegA.no_such_factory {}")
    assert "some_factory" in info.value.hint


def test_registry_tags_of_keeps_order() -> None:
    assert get_registry().tags_of(RegB) == ["RegB", "reg_b_", "reg_b_class"]
