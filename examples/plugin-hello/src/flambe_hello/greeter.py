"""The one runnable of the plugin."""

from __future__ import annotations

from pathlib import Path

from flambe.runnable import Runnable


class Greeter(Runnable):
    """Write a greeting to a file.

    Parameters
    ----------
    name : str
        Who to greet.
    path : str
        The file to write; its folder must exist. A relative path starts from
        the config's folder.
    greeting : str
        The word of greeting.

    """

    def __init__(self, name: str, path: str, greeting: str = "Hello") -> None:
        super().__init__()
        self.name = name
        self.path = path
        self.greeting = greeting

    def message(self) -> str:
        """The greeting, e.g. ``Hello, world!``."""
        return f"{self.greeting}, {self.name}!"

    def run(self, force: bool = False, **kwargs: object) -> None:
        """Write :meth:`message` and a newline to ``path``."""
        Path(self.path_from_config(self.path)).write_text(self.message() + "\n")
