"""The plugin host: loading order, failures, blocking, listing, documentation."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

from flambe.errors import DuplicateTagError
from flambe.plugins import hookimpl, hookspecs
from flambe.plugins.known import KNOWN_TAGS
from flambe.plugins.manager import PluginHost, create_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {
    "nlp": "flambe-nlp",
    "vision": "flambe-vision",
    "cluster": "flambe-cluster",
    "report": "flambe-report",
}


def hook_names() -> list:
    return [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("flambe_")
    ]


def test_builtin_plugin_is_registered_first_and_named_core():
    pm, records = create_plugin_manager(autoload=False)
    assert records[0].name == "core"
    assert records[0].distribution == "flambe-core"
    assert pm.get_plugin("core") is not None
    assert "flambe_tags" in records[0].hooks


def test_first_party_distributions_register_through_entry_points():
    _, records = create_plugin_manager(autoload=True)
    found = {r.name: r for r in records}
    for name, dist in FIRST_PARTY.items():
        assert name in found, f"{dist} is not registered"
        assert found[name].distribution == dist
        assert found[name].error is None
        assert found[name].version != "unknown"


def test_disable_autoload_and_block(monkeypatch):
    monkeypatch.setenv("FLAMBE_DISABLE_PLUGIN_AUTOLOAD", "1")
    _, records = create_plugin_manager()
    assert [r.name for r in records] == ["core"]
    monkeypatch.delenv("FLAMBE_DISABLE_PLUGIN_AUTOLOAD")
    monkeypatch.setenv("FLAMBE_BLOCK_PLUGINS", "nlp, vision")
    _, records = create_plugin_manager()
    names = {r.name for r in records}
    assert "nlp" not in names and "vision" not in names and "cluster" in names


def test_misspelled_hook_fails_that_plugin_only():
    class Typo:
        @hookimpl
        def flambe_tagz(self):
            return {}

    class Fine:
        @hookimpl
        def flambe_tags(self):
            return {"FineTag": "collections:OrderedDict"}

    pm, records = create_plugin_manager(
        autoload=False, extra_plugins=[("typo", Typo()), ("fine", Fine())]
    )
    found = {r.name: r for r in records}
    assert "unknown hook 'flambe_tagz' (did you mean 'flambe_tags'?)" in found["typo"].error
    assert pm.get_plugin("typo") is None and found["fine"].error is None
    assert "FineTag" in PluginHost(pm, records).tags()


def test_events_reach_subscribers_in_order():
    seen = []

    class Recorder:
        @hookimpl
        def flambe_stage_started(self, experiment, stage, variants):
            seen.append(("stage_started", stage, variants))

        @hookimpl
        def flambe_trial_result(self, experiment, stage, variant, result):
            seen.append(("trial_result", stage, variant, result["metric"]))

    host = PluginHost(*create_plugin_manager(autoload=False, extra_plugins=[("rec", Recorder())]))
    host.stage_started(None, "train", [{"id": "v1"}])
    host.trial_result(None, "train", "lr=0.1", {"step": 1, "metric": 0.5})
    assert seen == [
        ("stage_started", "train", [{"id": "v1"}]),
        ("trial_result", "train", "lr=0.1", 0.5),
    ]


def test_the_host_has_one_method_per_event_hook_with_its_arguments():
    events = [
        n for n in hook_names() if n.endswith(("_started", "_finished", "_result", "_written"))
    ]
    assert len(events) == 6, events
    for hook in events:
        method = getattr(PluginHost, hook[len("flambe_") :])
        spec = list(inspect.signature(getattr(hookspecs, hook)).parameters)
        assert list(inspect.signature(method).parameters)[1:] == spec, hook
    assert not hasattr(PluginHost, "emit")


def test_subscribers_come_and_go_through_the_host():
    seen = []

    class Watcher:
        @hookimpl
        def flambe_stage_finished(self, experiment, stage, status):
            seen.append((stage, status))

    host = PluginHost(*create_plugin_manager(autoload=False))
    watcher = Watcher()
    name = host.subscribe(watcher)
    host.stage_finished(None, "train", "success")
    host.unsubscribe(watcher)
    host.unsubscribe(watcher)  # twice is harmless
    host.stage_finished(None, "eval", "failure")
    assert seen == [("train", "success")]
    assert host.pm.get_plugin(name) is None

    class Typo:
        @hookimpl
        def flambe_stage_finishd(self, experiment, stage, status):
            pass

    try:
        host.subscribe(Typo(), name="typo")
    except ValueError as exc:
        assert "unknown hook 'flambe_stage_finishd'" in str(exc)
        assert "did you mean 'flambe_stage_finished'" in str(exc)
    else:
        raise AssertionError("a misspelled hook was accepted")
    assert host.pm.get_plugin("typo") is None


def test_an_event_hook_that_raises_is_logged_and_the_others_still_run(caplog):
    seen = []

    class Broken:
        @hookimpl
        def flambe_trial_result(self, experiment, stage, variant, result):
            raise ConnectionError("tracking server unreachable")

    class Recorder:
        @hookimpl
        def flambe_trial_result(self, experiment, stage, variant, result):
            seen.append((stage, variant, result["metric"]))

    host = PluginHost(
        *create_plugin_manager(
            autoload=False, extra_plugins=[("recorder", Recorder()), ("broken", Broken())]
        )
    )
    with caplog.at_level("WARNING"):
        host.trial_result(None, "train", "a", {"step": 1, "metric": 0.5})
    assert seen == [("train", "a", 0.5)]
    assert (
        "plugin 'broken' (unknown) failed in flambe_trial_result: ConnectionError: "
        "tracking server unreachable"
    ) in caplog.text


def test_duplicate_tag_names_both_distributions():
    class One:
        @hookimpl
        def flambe_tags(self):
            return {"Clash": "pkg_one.mod:Clash"}

    class Two:
        @hookimpl
        def flambe_tags(self):
            return {"Clash": "pkg_two.mod:Clash"}

    pm, records = create_plugin_manager(
        autoload=False, extra_plugins=[("one", One()), ("two", Two())]
    )
    for record in records:
        if record.name in ("one", "two"):
            record.distribution = f"dist-{record.name}"
    host = PluginHost(pm, records)
    assert "Clash" not in host.tags()  # neither wins; the tag says why when used
    [conflict] = host.conflicts()
    assert isinstance(conflict, DuplicateTagError)
    assert "dist-one" in str(conflict) and "dist-two" in str(conflict)
    assert "!Clash" in str(conflict)
    assert isinstance(host.tag_problem("Clash"), DuplicateTagError)


def test_every_hook_is_documented():
    doc = (ROOT / "docs" / "plugins.md").read_text()
    headings = set(re.findall(r"^### `(flambe_\w+)`", doc, flags=re.M))
    missing = sorted(set(hook_names()) - headings)
    assert not missing, f"hooks without a section in docs/plugins.md: {missing}"
    stale = sorted(headings - set(hook_names()))
    assert not stale, f"docs/plugins.md documents hooks that do not exist: {stale}"


def test_every_hook_spec_has_docstring_with_example():
    for name in hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert doc, f"{name} has no docstring"
        assert "Example" in doc and ">>>" in doc, f"{name}'s docstring has no example"


def test_known_tags_match_first_party_declarations():
    """flambe.plugins.known (used for 'pip install X' hints) lists every first-party tag."""
    host = PluginHost(*create_plugin_manager(autoload=True))
    for tag, target in host.tags().items():
        if target.distribution in FIRST_PARTY.values():
            assert KNOWN_TAGS.get(tag) == target.distribution, (
                f"add {tag!r}: {target.distribution!r} to flambe.plugins.known.KNOWN_TAGS"
            )


def test_plugin_modules_import_nothing_heavy():
    code = (
        "import sys\n"
        "from flambe.plugins.manager import get_host\n"
        "host = get_host(); host.tags(); host.namespaces(); host.commands()\n"
        "heavy = [m for m in ('torch', 'ray', 'transformers', 'flask', 'boto3', 'paramiko')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_plugin_entry_points_match_the_standard_lookup():
    from importlib import metadata

    from flambe.plugins.manager import plugin_entry_points

    fast = sorted((ep.name, ep.value) for ep in plugin_entry_points())
    standard = sorted((ep.name, ep.value) for ep in metadata.entry_points(group="flambe.plugins"))
    assert fast == standard and ("nlp", "flambe.nlp.plugin") in fast


def test_paused_gc_restores_the_collector_state():
    import gc

    from flambe.utils.gcpause import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
