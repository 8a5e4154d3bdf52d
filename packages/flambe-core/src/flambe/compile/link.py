"""Links: ``!@ root[key][key].attr.attr`` references to other parts of a config.

Bracket segments walk the *config tree* (the keywords of schemas, mappings
and lists); dot segments read attributes of the *compiled* object found
there. The root names a key of an enclosing mapping, found by lexical
scoping (the nearest enclosing mapping that has it): a pipeline stage, a
top-level keyword of a saved object, or an earlier sibling.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from flambe.compile import bases
from flambe.compile.registrable import Registrable, alias
from flambe.compile.schema import Schema
from flambe.errors import LinkError, MalformedLinkError, SourceLocation, UnpreparedLinkError

_ATTR = r"[^\[\]\.\s]+"
_LINK_RE = re.compile(rf"^(?P<root>{_ATTR})(?P<keys>(\[[^\[\]]+\])*)(?P<attrs>(\.{_ATTR})*)$")
_KEY_RE = re.compile(r"\[([^\[\]]+)\]")


def parse_link_str(
    link_str: str, location: SourceLocation | None = None
) -> tuple[list[str], list[str]]:
    """Split ``root[a][b].x.y`` into ``(['root', 'a', 'b'], ['x', 'y'])``.

    Raises
    ------
    MalformedLinkError
        When the string does not follow ``root[key]...[key].attr...attr``.

    """
    text = link_str.strip()
    match = _LINK_RE.match(text)
    if not match:
        raise MalformedLinkError(
            f"malformed link '{link_str}'",
            location,
            hint="a link reads root[key][key].attr.attr: a root name, then any keys in brackets, "
            "then any attributes after dots (e.g. !@ model[embedder].hidden_size)",
        )
    schematic = [match.group("root")] + _KEY_RE.findall(match.group("keys"))
    attrs = [a for a in match.group("attrs").split(".") if a]
    return schematic, attrs


def create_link_str(schematic_path: Sequence[str], attr_path: Sequence[str] | None = None) -> str:
    """The inverse of :func:`parse_link_str`."""
    if not schematic_path:
        raise MalformedLinkError("a link needs a root", hint="give at least the root name")
    text = schematic_path[0] + "".join(f"[{k}]" for k in schematic_path[1:])
    if attr_path:
        text += "." + ".".join(attr_path)
    return text


_UNSET = object()


@alias("@")
@alias("link")
class Link(Registrable):
    """A reference to another part of the config, resolved when compiling.

    Parameters
    ----------
    schematic_path : sequence of str
        The root followed by the bracket keys.
    attr_path : sequence of str, optional
        Attributes read on the compiled object found at the end of the keys.
    target : Any, optional
        The object the root names (bound when the config is loaded).
    local : bool
        False for links to resources or other global values.

    """

    def __init__(
        self,
        schematic_path: Sequence[str],
        attr_path: Sequence[str] | None = None,
        target: Any = None,
        local: bool = True,
    ) -> None:
        self.schematic_path = list(schematic_path)
        self.attr_path = list(attr_path or [])
        self.target = target
        self.target_leaf: Any = None
        self.local = local
        self._resolved: Any = _UNSET
        self.post_init_hooks: list[Callable[[Any], None]] = []
        self._created_with_tag: str | None = None
        self._source: SourceLocation | None = None

    @classmethod
    def parse(cls, link_str: str, location: SourceLocation | None = None) -> Link:
        """Build a link from its string form."""
        schematic, attrs = parse_link_str(link_str, location)
        link = cls(schematic, attrs)
        link._source = location
        return link

    @property
    def root_schema(self) -> str:
        """The root name (kept under the original's name)."""
        return self.schematic_path[0]

    @property
    def link_str(self) -> str:
        """The link as written after its tag: ``stage[key].attr``."""
        return create_link_str(self.schematic_path, self.attr_path)

    @property
    def resolved(self) -> Any:
        """The value the link resolved to (``None`` until it is resolved)."""
        return None if self._resolved is _UNSET else self._resolved

    @property
    def is_resolved(self) -> bool:
        """Whether the link has been resolved (a link to ``None`` counts)."""
        return self._resolved is not _UNSET

    def __repr__(self) -> str:
        return f"link({self.link_str})"

    def __call__(self, stash: dict | None = None) -> Any:
        """Resolve the link (once) and return the value it points to.

        Parameters
        ----------
        stash : dict, optional
            Unused: links read the compiled config, not the stash.

        Returns
        -------
        Any
            The value.
        """
        if self._resolved is not _UNSET:  # a link to None is cached too
            return self._resolved
        value = self._resolve()
        self._resolved = value
        for hook in self.post_init_hooks:
            hook(value)
        return value

    def _resolve(self) -> Any:
        if self.target is None:
            raise UnpreparedLinkError(
                f"link '!@ {self.link_str}' is not bound: no enclosing mapping has a key "
                f"'{self.root_schema}'",
                self._source,
                hint="the root of a link must name an earlier stage, resource or sibling keyword",
            )
        current = _normalize(self.target)
        for key in self.schematic_path[1:]:
            current = _normalize(_child(current, key, self))
        self.target_leaf = current
        if isinstance(current, Schema):
            if current._compiled is None:
                raise UnpreparedLinkError(
                    f"link '!@ {self.link_str}' points to '{self._bracket_str()}', which is not "
                    "compiled yet",
                    self._source,
                    hint="a link can only point to something defined before it: an earlier stage "
                    "or an earlier sibling, never a later one or one of its own parents",
                )
            current = current._compiled
        for attr in self.attr_path:
            try:
                current = getattr(current, attr)
            except AttributeError as exc:
                raise LinkError(
                    f"link '!@ {self.link_str}': {type(current).__name__} object has no "
                    f"attribute {attr!r}",
                    self._source,
                    hint="dot segments read attributes of the compiled object; use brackets to "
                    "walk config keys",
                ) from exc
        return current

    def _bracket_str(self) -> str:
        return create_link_str(self.schematic_path)

    def bind(self, target: Any) -> None:
        """Set the object the root names."""
        self.target = target

    @classmethod
    def to_yaml(cls, representer: Any, node: Any, tag: str) -> Any:
        """Represent ``node`` as its link string under ``tag``."""
        return representer.represent_link(node, tag)

    @classmethod
    def from_yaml(cls, constructor: Any, node: Any, factory_name: str | None) -> Link:
        """Build a link from a scalar node holding its string."""
        location = constructor.location(node)
        text = constructor.construct_scalar(node)
        if not isinstance(text, str) or not text.strip():
            raise MalformedLinkError("a link needs a string such as 'stage[key].attr'", location)
        return cls.parse(text, location)

    def __deepcopy__(self, memo: dict) -> Link:
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for key, value in vars(self).items():
            if key in ("_resolved", "target_leaf"):
                continue
            setattr(new, key, copy.deepcopy(value, memo))
        new._resolved = _UNSET
        new.target_leaf = None
        return new


def _normalize(value: Any) -> Any:
    """Follow links to their values and compiled components back to their schemas."""
    if isinstance(value, Link):
        value = value()
    if bases.is_component(value) and getattr(value, "_schema", None) is not None:
        return value._schema
    return value


def _child(container: Any, key: str, link: Link) -> Any:
    try:
        if isinstance(container, Schema):
            return container.keywords[key]
        if isinstance(container, (list, tuple)):
            return container[int(key)]
        return container[key]
    except (KeyError, IndexError, ValueError, TypeError):
        raise LinkError(
            f"could not resolve link '!@ {link.link_str}': no key '{key}' (Check all !@ entries.)",
            link._source,
            hint="bracket segments must name config keys that exist under the root",
        ) from None


@alias("call")
class FunctionCallLink(Link):
    """A link whose resolved value is called with no arguments (``!call``)."""

    def _resolve(self) -> Any:
        return super()._resolve()()


@alias("$")
class PickledDataLink(Registrable):
    """A value kept in a saved object's stash rather than written as YAML (``!$ 0``).

    Parameters
    ----------
    obj_id : str
        The value's key in the stash.
    value : Any, optional
        The value itself, when known.

    """

    def __init__(self, obj_id: str, value: Any = None) -> None:
        self.obj_id = str(obj_id)
        self.value = value
        self._has_value = value is not None
        self._created_with_tag: str | None = None

    def __call__(self, stash: dict | None = None) -> Any:
        """Return the stashed value, read from ``stash`` when it holds this entry.

        Parameters
        ----------
        stash : dict, optional
            Values saved beside a config, by id.

        Returns
        -------
        Any
            The value.
        """
        if stash is not None and self.obj_id in stash:
            found = stash[self.obj_id]
            if self._has_value and not _same(found, self.value):
                warnings.warn(
                    f"stash entry {self.obj_id} differs from the first value read; "
                    "keeping the first",
                    stacklevel=2,
                )
                return self.value
            self.value, self._has_value = found, True
        if not self._has_value:
            raise LinkError(
                f"stash entry '{self.obj_id}' is missing",
                hint="load the object with the stash.pkl saved beside its config",
            )
        return self.value

    @classmethod
    def to_yaml(cls, representer: Any, node: Any, tag: str) -> Any:
        """Represent ``node`` as its stash id under ``tag``."""
        return representer.represent_scalar(tag, node.obj_id)

    @classmethod
    def from_yaml(cls, constructor: Any, node: Any, factory_name: str | None) -> PickledDataLink:
        """Build a stash reference from a scalar node holding its id."""
        return cls(str(constructor.construct_scalar(node)))


def _same(a: Any, b: Any) -> bool:
    try:
        import torch

        if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
            return (
                isinstance(a, torch.Tensor)
                and isinstance(b, torch.Tensor)
                and a.shape == b.shape
                and bool(torch.equal(a, b))
            )
    except ImportError:  # pragma: no cover
        pass
    try:
        return bool(a == b)
    except Exception:
        return a is b
