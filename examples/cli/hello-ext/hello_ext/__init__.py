"""A tiny Flambé extension: ``!hello_ext.Greeter`` writes a greeting to a file."""

from pathlib import Path

from flambe.runnable import Runnable


class Greeter(Runnable):
    """Write ``<greeting>, <name>!`` to ``output``.

    Parameters
    ----------
    name : str
        Who to greet.
    output : str
        The file to write.
    greeting : str
        The greeting word.

    """

    def __init__(self, name: str, output: str, greeting: str = "Hello") -> None:
        super().__init__()
        self.name = name
        self.output = output
        self.greeting = greeting

    def run(self, force: bool = False) -> None:
        path = Path(self.path_from_config(self.output))  # relative: from the config's folder
        if path.exists() and not force:
            raise FileExistsError(f"{path} exists; rerun with --force to overwrite it")
        signature = self.config.get("hello", "signature", fallback="")
        text = f"{self.greeting}, {self.name}!"
        path.write_text(f"{text} {signature}".strip() + "\n")
