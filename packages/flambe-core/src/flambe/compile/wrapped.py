"""Home of the component wrappers of third-party classes (``!torch.Linear``...).

Wrappers are made on demand; this module resolves their names so that they
pickle by reference (a wrapper named ``torch__nn__modules__linear___Linear``
is rebuilt from ``torch.nn.modules.linear.Linear``).
"""

from __future__ import annotations

import importlib
from typing import Any

from flambe.compile.component import dynamic_component


def __getattr__(name: str) -> Any:
    module_part, sep, qual_part = name.partition("___")
    if not sep:
        raise AttributeError(name)
    obj: Any = importlib.import_module(module_part.replace("__", "."))
    for attr in qual_part.split("__"):
        obj = getattr(obj, attr)
    return dynamic_component(obj, tag=None)


def wrapper_of(class_: type) -> type:
    """Return the component wrapper of ``class_`` (made once; the tag registry asks here).

    Parameters
    ----------
    class_ : type
        A class that is not a component (``torch.nn.Linear``).

    Returns
    -------
    type
        Its wrapper, a component subclass of it.

    """
    return dynamic_component(class_, tag=None)
