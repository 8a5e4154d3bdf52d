"""A JSON Schema of every registered tag, for completion and checking in editors.

``flambe schema`` writes what this module builds: a JSON Schema (draft 7)
of the configs the installed plugins can read, and the list of their tags
for the YAML language server's ``yaml.customTags`` setting.

The YAML language server (VS Code's YAML extension, and every editor that
runs it) checks a tagged node by its YAML kind only: ``!Trainer {...}`` is
an object, ``!g [1, 2]`` an array, ``!@ model`` a string. A JSON Schema
cannot key on the tag, so the schema is shaped for what it *can* see:

* each class is a definition: an object whose properties are the
  constructor's arguments (type, default, the first line of their
  documentation), with the required ones listed and no other property
  allowed (unless the constructor takes ``**kwargs``); a misspelled
  argument matches no definition and is underlined;
* an argument annotated with a class (``model: torch.nn.Module``) accepts
  any definition of a registered subclass (``anyOf``), so completion
  offers their arguments; the stages of an experiment's ``pipeline`` (and
  its ``search`` and ``schedulers``) accept any component;
* every argument also accepts what the editor sees of a link (a string)
  and of a search option (an array), since ``!@ ...`` and ``!g [...]`` may
  stand for any value; an argument of any type (``Any``, no annotation)
  takes any plain value, and a mapping there must be one of the components;
* the document itself is one of the classes (a runnable such as
  ``!Experiment``, or a cluster), or the extensions header of a
  two-document config.

Reading a class's arguments imports it: classes of the plugins (and their
dependencies, such as torch) are imported, which takes a few seconds.
"""

from __future__ import annotations

import collections.abc
import inspect
import logging
import re
import types
import typing
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

SCHEMA_DRAFT = "http://json-schema.org/draft-07/schema#"
LINK_DEF = "flambe:link"
OPTION_DEF = "flambe:search-option"
EXTENSIONS_DEF = "flambe:extensions-header"
ANY_COMPONENT_DEF = "flambe:any-component"
ANY_VALUE_DEF = "flambe:any-value"

# arguments whose values are components of any class, by the class that takes them
COMPONENT_MAPPINGS: dict[str, tuple[str, ...]] = {
    "flambe.experiment.experiment:Experiment": ("pipeline", "search", "schedulers"),
}

_PLAIN = (str, int, float, bool, type(None))


@dataclass
class TagInfo:
    """A tag and the class (and factory) it builds.

    Attributes
    ----------
    tag : str
        The tag with its ``!``.
    cls : type
        The class.
    factory : str or None
        The factory method (``!Cls.factory``).
    kinds : tuple of str
        The YAML kinds the tag is written on: ``scalar``, ``sequence``, ``mapping``.

    """

    tag: str
    cls: type
    factory: str | None = None
    kinds: tuple[str, ...] = ("mapping",)


@dataclass
class EditorSchema:
    """What ``flambe schema`` writes.

    Attributes
    ----------
    schema : dict
        The JSON Schema.
    custom_tags : list of str
        ``"!Tag kind"`` entries for ``yaml.customTags``.
    skipped : dict
        Tag -> why it is not in the schema (its class could not be imported).

    """

    schema: dict[str, Any]
    custom_tags: list[str]
    skipped: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# which tags there are
# ---------------------------------------------------------------------------


def _kinds(cls: type) -> tuple[str, ...]:
    from flambe.compile.component import Component
    from flambe.compile.link import Link

    if issubclass(cls, Link):
        return ("scalar",)
    if getattr(cls, "_flambe_option", False) or _is_search_option(cls):
        return ("sequence",)
    if issubclass(cls, Component):
        return ("mapping", "scalar")  # `!Accuracy` alone is an empty scalar
    return ("mapping", "sequence", "scalar")


def _is_search_option(cls: type) -> bool:
    try:
        from flambe.experiment.options import SearchOption
    except Exception:  # noqa: BLE001 - the options module is optional here
        return False
    return SearchOption in cls.__mro__  # (an ABC's issubclass is slow on torch's classes)


def namespace_names(namespace: str) -> list[str]:
    """Class names a tag namespace can resolve (``torch.`` and ``ray.``), for the tag list.

    ``!torch.X`` may name any class of torch; the list holds those of the
    modules the resolver looks in first: modules, losses, optimizers and
    learning-rate schedulers. An unknown namespace, or one whose library is
    not installed, lists nothing.
    """
    import importlib

    if namespace == "torch":
        from flambe.compile.namespaces import TORCH_MODULES

        bases = {
            "torch.nn": "torch.nn:Module",
            "torch.optim": "torch.optim:Optimizer",
            "torch.optim.lr_scheduler": "torch.optim.lr_scheduler:LRScheduler",
        }
        modules = [m for m in TORCH_MODULES if m in bases]
    elif namespace == "ray":
        source = _ray_source()
        if source is None:
            return []
        modules = list(getattr(source, "RAY_MODULES", ()))
        bases = {m: "" for m in modules}
    else:
        return []
    names: list[str] = []
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except Exception:  # noqa: BLE001 - the library is not installed or broken
            return []
        base = _import(bases[module_name]) if bases[module_name] else None
        for name, value in sorted(vars(module).items()):
            if name.startswith("_") or not inspect.isclass(value) or name in names:
                continue
            if base is not None and (not issubclass(value, base) or value is base):
                continue
            if base is None and getattr(value, "__module__", "").split(".")[0] != "ray":
                continue
            names.append(name)
    if namespace == "ray":
        names.extend(n for n in getattr(_ray_source(), "RAY_SEARCHERS", {}) if n not in names)
    return names


def _ray_source() -> Any:
    import importlib

    for module in ("flambe.experiment.searchers", "flambe.compile.namespaces"):
        try:
            found = importlib.import_module(module)
        except ImportError:
            continue
        if hasattr(found, "RAY_MODULES"):
            return found
    return None


def _import(path: str) -> Any:
    from flambe.plugins.manager import import_object

    return import_object(path)


def collect_tags(
    host: Any = None, namespaces: Iterable[str] = ("torch", "ray")
) -> tuple[list[TagInfo], dict[str, str]]:
    """Every tag of the installed plugins and of classes registered in this process.

    Returns
    -------
    tuple
        The tags (with their classes and factories), and tag -> error for
        those whose class could not be imported.

    """
    from flambe.compile.registry import get_registry
    from flambe.plugins.manager import get_host

    host = host or get_host()
    registry = get_registry()
    found: list[TagInfo] = []
    skipped: dict[str, str] = {}
    names = list(host.tags())
    for namespace in namespaces:
        if namespace in host.namespaces():
            names.extend(f"{namespace}.{n}" for n in namespace_names(namespace))
    names.extend(n for n in list(registry._by_tag) if n not in names)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        try:
            resolved = registry.resolve("!" + name)
        except Exception as exc:  # noqa: BLE001 - a tag whose class does not import
            skipped["!" + name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            continue
        cls = resolved.cls
        found.append(TagInfo("!" + name, cls, resolved.factory, _kinds(cls)))
        # a wrapped class of a library (!torch.Adam) lists no factory of Component's
        factories = () if getattr(cls, "_flambe_dynamic", False) else registry.factories(cls)
        for factory in sorted(factories):
            found.append(TagInfo(f"!{name}.{factory}", cls, factory, ("mapping", "scalar")))
    return found, skipped


# ---------------------------------------------------------------------------
# classes as JSON Schema
# ---------------------------------------------------------------------------


def first_line(text: str | None) -> str:
    """The first line of a docstring (empty without one)."""
    for line in (text or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


_PARAM = re.compile(r"^(\s*)([A-Za-z_*][\w*, ]*?)\s*(?::\s*(.*))?$")


def parameter_docs(*docstrings: str | None) -> dict[str, str]:
    """The first line of each parameter's description in numpy-style docstrings."""
    found: dict[str, str] = {}
    for doc in docstrings:
        lines = inspect.cleandoc(doc or "").splitlines()
        inside = False
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.strip() in ("Parameters", "Attributes", "Other Parameters"):
                inside = line.strip() != "Attributes"
                i += 2 if i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"} else 1
                continue
            if inside and line and not line.startswith(" "):
                if i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
                    inside = False  # the next section
                    continue
                match = _PARAM.match(line)
                description = ""
                if i + 1 < len(lines) and lines[i + 1].startswith(" "):
                    description = lines[i + 1].strip()
                if match:
                    for name in match.group(2).split(","):
                        name = name.strip().lstrip("*")
                        if name and name not in found:
                            found[name] = description
            i += 1
    return found


class SchemaBuilder:
    """Turns tags into JSON Schema definitions (one per class and factory)."""

    def __init__(self, tags: list[TagInfo]) -> None:
        self.tags = tags
        self.unions: dict[str, dict[str, Any]] = {}  # subclasses of a base, shared
        self.def_of: dict[tuple[type, str | None], str] = {}
        self.kinds = {info.cls: info.kinds for info in reversed(tags) if info.factory is None}
        for info in tags:
            key = (info.cls, info.factory)
            if key not in self.def_of:
                self.def_of[key] = info.tag[1:]

    # -- types --------------------------------------------------------------------------
    def subclass_refs(self, base: type) -> list[dict[str, str]]:
        """``$ref`` of every definition of a subclass of ``base`` that takes arguments."""
        from flambe.compile.component import Component

        refs = []
        for (cls, _factory), name in self.def_of.items():
            origin = getattr(cls, "_flambe_wrapped", cls)
            fits = base in cls.__mro__ or base in getattr(origin, "__mro__", ())
            if fits and Component in cls.__mro__ and "mapping" in self._kinds_of(cls):
                refs.append({"$ref": f"#/definitions/{name}"})
        return refs

    def _kinds_of(self, cls: type) -> tuple[str, ...]:
        return self.kinds.get(cls, ())

    def type_schema(self, annotation: Any, depth: int = 0) -> dict[str, Any]:
        """The JSON Schema of values of a Python annotation (``{}``: anything)."""
        if annotation is inspect.Parameter.empty or annotation is Any or depth > 4:
            return {}
        if annotation is None or annotation is type(None):
            return {"type": "null"}
        simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
        if annotation in simple:
            return {"type": simple[annotation]}
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Union or origin is types.UnionType:
            members = [self.type_schema(a, depth + 1) for a in args]
            if any(not m for m in members):
                return {}
            return {"anyOf": members}
        if origin is typing.Literal:
            return {"enum": [a for a in args if isinstance(a, _PLAIN)]}
        container = origin or annotation
        if container in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
            out: dict[str, Any] = {"type": "object"}
            if len(args) == 2:
                values = self.value_schema(args[1], depth + 1)
                if values:
                    out["additionalProperties"] = values
            return out
        if container in (
            list,
            tuple,
            set,
            frozenset,
            collections.abc.Sequence,
            collections.abc.Iterable,
        ):
            out = {"type": "array"}
            if args and args[-1] is not Ellipsis and (container is not tuple or len(args) == 1):
                items = self.value_schema(args[0], depth + 1)
                if items:
                    out["items"] = items
            return out
        if inspect.isclass(annotation):
            name = f"flambe:subclasses:{annotation.__module__}.{annotation.__qualname__}"
            if name not in self.unions:
                refs = self.subclass_refs(annotation)
                self.unions[name] = {"anyOf": refs} if refs else {}
            if self.unions[name]:
                return {"$ref": f"#/definitions/{name}"}
        return {}

    def value_schema(self, annotation: Any, depth: int = 0) -> dict[str, Any]:
        """What a value may be: its type, or a link or a search option standing for it."""
        typed = self.type_schema(annotation, depth)
        if not typed:
            return {}
        if set(typed) == {"type"}:  # compact: {"type": ["integer", "string", "array"]}
            kinds = [typed["type"]] + [k for k in ("string", "array") if k != typed["type"]]
            return {"type": kinds}
        return {
            "anyOf": [
                typed,
                {"$ref": f"#/definitions/{LINK_DEF}"},
                {"$ref": f"#/definitions/{OPTION_DEF}"},
            ]
        }

    # -- classes ----------------------------------------------------------------------------
    def class_schema(self, info: TagInfo) -> dict[str, Any]:
        """The definition of a tag's class: an object of its constructor's arguments."""
        from flambe.compile.signatures import constructor_signature
        from flambe.compile.typecheck import constructor_function, declared_types

        cls, factory = info.cls, info.factory
        origin = getattr(cls, "_flambe_wrapped", cls)
        function = constructor_function(cls, factory)
        description = first_line(
            (getattr(cls, factory).__doc__ if factory else None) or origin.__doc__
        )
        out: dict[str, Any] = {"title": info.tag}
        if description:
            out["description"] = description
        if "mapping" not in info.kinds:
            out["type"] = "string" if info.kinds == ("scalar",) else "array"
            return out
        out["type"] = "object"
        signature = constructor_signature(cls, factory)
        if signature is None:
            return out
        hints = declared_types(cls, factory, function)
        docs = parameter_docs(origin.__doc__, getattr(function, "__doc__", None))
        mappings = _component_mappings(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        parameters = list(signature.parameters.items())
        if not factory:
            parameters += _forwarded_parameters(cls, function)
        for name, parameter in parameters:
            if name in properties:
                continue
            if parameter.kind is parameter.VAR_KEYWORD:
                # what **kwargs takes beyond the bases' arguments is not known
                out["x-flambe-more-arguments"] = True
                continue
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.POSITIONAL_ONLY):
                continue
            hint = hints.get(name, parameter.annotation)
            properties[name] = self.argument_schema(
                parameter, hint, name in mappings, docs.get(name)
            )
            if _required(parameter):
                required.append(name)
        for name in getattr(cls, "_flambe_extra_arguments", ()):
            properties.setdefault(name, {})
        out["properties"] = properties
        if required:
            out["required"] = required
        out["additionalProperties"] = False
        return out

    def argument_schema(
        self, parameter: inspect.Parameter, hint: Any, is_mapping: bool, doc: str | None
    ) -> dict[str, Any]:
        """The schema of one constructor argument, with its description and default.

        ``is_mapping``: the argument is a mapping of names to components.
        """
        if is_mapping:
            prop: dict[str, Any] = {
                "type": ["object", "null"],
                "additionalProperties": {"$ref": f"#/definitions/{ANY_COMPONENT_DEF}"},
            }
        else:
            # an argument of any type: a plain value, or (a mapping) one of the components
            prop = dict(self.value_schema(hint) or {"$ref": f"#/definitions/{ANY_VALUE_DEF}"})
        if doc:
            prop["description"] = doc
        if not _required(parameter) and _json_plain(parameter.default):
            prop["default"] = _as_json(parameter.default)
        return prop

    def build(self) -> dict[str, Any]:
        """The whole schema: definitions of every class; the document is one of them."""
        definitions: dict[str, Any] = {
            LINK_DEF: {
                "type": "string",
                "description": "a link (!@ stage.attribute) or another single value",
            },
            OPTION_DEF: {
                "type": "array",
                "description": "a search option (!g [...], !s [...], !uniform [...]...)",
            },
            EXTENSIONS_DEF: {
                "type": "object",
                "description": "extensions header: module name -> location (path, pip "
                "requirement or URL)",
                "additionalProperties": {"type": "string"},
            },
        }
        components: list[dict[str, str]] = []
        for info in self.tags:
            name = self.def_of[(info.cls, info.factory)]
            if name in definitions:
                continue
            try:
                definitions[name] = self.class_schema(info)
            except Exception as exc:  # noqa: BLE001 - one odd class must not stop the rest
                logger.debug("no schema for %s: %s", info.tag, exc)
                definitions[name] = {"title": info.tag}
            if definitions[name].get("type") == "object":
                components.append({"$ref": f"#/definitions/{name}"})
        definitions.update((k, v) for k, v in self.unions.items() if v)
        definitions[ANY_COMPONENT_DEF] = {
            "anyOf": [
                *components,
                {"$ref": f"#/definitions/{LINK_DEF}"},
                {"type": "null"},
            ]
        }
        definitions[ANY_VALUE_DEF] = {
            "description": "any value; a mapping is one of the components",
            "anyOf": [{"not": {"type": "object"}}, {"$ref": f"#/definitions/{ANY_COMPONENT_DEF}"}],
        }
        return {
            "$schema": SCHEMA_DRAFT,
            "title": "Flambé config",
            "description": "A runnable (!Experiment, !Builder...), a cluster, or the "
            "extensions header of a two-document config. Generated by 'flambe schema'.",
            "anyOf": [*components, {"$ref": f"#/definitions/{EXTENSIONS_DEF}"}],
            "definitions": definitions,
        }


class _Forwarded(inspect.Parameter):
    """A base class's argument that a constructor's ``**kwargs`` passes on (never required)."""

    __slots__ = ()
    forwarded = True


_OPAQUE_BASES = ("Component", "StatefulMixin", "Registrable", "object", "Module")


def _forwarded_parameters(cls: type, init: Any) -> list[tuple[str, inspect.Parameter]]:
    """The named arguments of the bases whose ``__init__`` a ``**kwargs`` constructor reaches.

    A constructor ``def __init__(self, name, **kwargs)`` usually hands
    ``kwargs`` to its base (``super().__init__(**kwargs)``): the bases'
    arguments are listed too, down the method resolution order, as long as
    each constructor on the way takes ``**kwargs``.
    """
    found: list[tuple[str, inspect.Parameter]] = []
    if init is None or not _takes_kwargs(init):
        return found
    mro = cls.__mro__
    owner = next((k for k in mro if vars(k).get("__init__") is init), None)
    start = mro.index(owner) + 1 if owner is not None else len(mro)
    for klass in mro[start:]:
        if klass.__name__ in _OPAQUE_BASES:
            break
        base_init = vars(klass).get("__init__")
        if base_init is None:
            continue
        try:
            params = list(inspect.signature(base_init).parameters.values())[1:]
        except (TypeError, ValueError):
            break
        for p in params:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                found.append((p.name, _Forwarded(p.name, p.kind, default=p.default)))
        if not _takes_kwargs(base_init):
            break
    return found


def _takes_kwargs(function: Any) -> bool:
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is p.VAR_KEYWORD for p in params)


def _component_mappings(cls: type) -> tuple[str, ...]:
    for path, names in COMPONENT_MAPPINGS.items():
        module, _, qualname = path.partition(":")
        for klass in cls.__mro__:
            if klass.__module__ == module and klass.__qualname__ == qualname:
                return names
    return ()


def _required(parameter: inspect.Parameter) -> bool:
    """Whether a constructor argument must be given (no default, not forwarded to a base)."""
    return parameter.default is inspect.Parameter.empty and not getattr(
        parameter, "forwarded", False
    )


def _json_plain(value: Any) -> bool:
    if isinstance(value, float) and value != value:  # nan
        return False
    if isinstance(value, _PLAIN):
        return not (isinstance(value, float) and value in (float("inf"), float("-inf")))
    if isinstance(value, (list, tuple)):
        return all(_json_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_plain(v) for k, v in value.items())
    return False


def _as_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_as_json(v) for v in value]
    return value


def custom_tags(tags: list[TagInfo]) -> list[str]:
    """``yaml.customTags`` entries: each tag once per YAML kind it is written on."""
    entries: list[str] = []
    for info in tags:
        for kind in info.kinds:
            entry = f"{info.tag} {kind}"
            if entry not in entries:
                entries.append(entry)
    return entries


def editor_schema(host: Any = None, namespaces: Iterable[str] = ("torch", "ray")) -> EditorSchema:
    """The JSON Schema and the custom-tag list of every tag of the installed plugins.

    Parameters
    ----------
    host : PluginHost, optional
        The plugins to describe (those of this process by default).
    namespaces : iterable of str
        Tag namespaces whose classes are listed (``!torch.Adam``...).

    """
    with warnings.catch_warnings():  # deprecated torch classes say so when wrapped
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        tags, skipped = collect_tags(host, namespaces)
    schema = SchemaBuilder(tags).build()
    schema["x-flambe-custom-tags"] = custom_tags(tags)
    return EditorSchema(schema, custom_tags(tags), skipped)


# ---------------------------------------------------------------------------
# a config as the editor sees it
# ---------------------------------------------------------------------------


def editor_view(text: str, file: str = "<string>") -> list[Any]:
    """Each document of a config as the YAML language server validates it.

    Tags are dropped: a tagged mapping is an object, a tagged list an
    array, a tagged single value its text (``!@ model`` is ``"model"``; an
    empty one, ``!Accuracy``, is null). Merge keys (``<<``) are merged.
    """
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    from flambe.compile.compose import compose_all
    from flambe.compile.yaml import STD, Constructor

    nodes, name = compose_all(text, file)
    constructor = Constructor(name)
    memo: dict[int, Any] = {}

    def convert(node: Any) -> Any:
        if id(node) in memo:
            return memo[id(node)]
        tag = node.tag or ""
        custom = not tag.startswith(STD) and tag not in ("", "?", "!")
        if isinstance(node, ScalarNode):
            if custom:
                return node.value if node.value != "" else None
            value = constructor.construct_object(node)
            return value if isinstance(value, _PLAIN) else str(value)
        if isinstance(node, SequenceNode):
            out: Any = []
            memo[id(node)] = out
            out.extend(convert(child) for child in node.value)
            return out
        assert isinstance(node, MappingNode)
        out = {}
        memo[id(node)] = out
        merged: dict[str, Any] = {}
        for key, value in node.value:
            if key.tag == STD + "merge":
                for item in value.value if isinstance(value, SequenceNode) else [value]:
                    for k, v in convert(item).items():
                        merged.setdefault(k, v)
                continue
            out[str(key.value)] = convert(value)
        for k, v in merged.items():
            out.setdefault(k, v)
        return out

    return [convert(node) for node in nodes]
