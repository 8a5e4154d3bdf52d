"""From a config file to a runnable, step by step.

The steps ``flambe run`` and ``flambe validate`` share:

1. :func:`load_runnable_config` reads the file, makes its extensions
   importable (installing them with ``-i``), loads the YAML into a schema
   and checks that the schema is one of a :class:`Runnable`. Nothing is
   constructed yet; every problem found is a located
   :class:`~flambe.errors.ConfigError`.
2. :func:`build_runnable` compiles the schema and injects the secrets, the
   extensions and the config text.
3. :func:`run_runnable` calls ``run()`` with the command-line flags its
   signature accepts.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

from flambe.compile.extensions import ensure_extensions
from flambe.errors import ConfigError, FlambeError, RunnableError, SourceLocation

PathLike = Union[str, "os.PathLike[str]"]

RUNNABLE_HINT = (
    "the last document of a config must be a runnable: a tag such as !Experiment, "
    "or a class that subclasses flambe.runnable.Runnable and implements run()"
)


@dataclass
class LoadedRunnable:
    """A runnable config, loaded and checked but not built.

    Attributes
    ----------
    file : str
        The config file.
    text : str
        Its content.
    extensions : dict
        Its extensions header (module name -> location).
    root : Schema
        The schema of the runnable.
    overrides : list of str
        The command-line overrides applied to it (``key.path=value``).

    """

    file: str
    text: str
    root: Any
    extensions: dict[str, str] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)

    @property
    def runnable_class(self) -> type:
        """The class the schema builds."""
        return self.root.component_subclass


def read_config_text(path: PathLike) -> str:
    """The text of a config file; a missing or unreadable file is a ConfigError."""
    file = os.fspath(path)
    if not os.path.exists(file):
        raise ConfigError(
            f"config file {file!r} does not exist",
            hint="check the path; flambe run takes a YAML file",
        )
    if os.path.isdir(file):
        raise ConfigError(f"{file!r} is a folder, not a config file")
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {file!r} cannot be read: {exc}") from exc


def load_runnable_config(
    path: PathLike,
    install_extensions: bool = False,
    require_runnable: bool = True,
    errors: list[FlambeError] | None = None,
    overrides: Sequence[str] = (),
) -> LoadedRunnable:
    """Read, resolve extensions, load and check a runnable config.

    Parameters
    ----------
    path : str or PathLike
        The YAML file.
    install_extensions : bool
        Install missing extensions with pip (``-i``).
    require_runnable : bool
        Check that the root is a Runnable schema.
    errors : list, optional
        Collect the errors of the main document here and go on loading
        (the root may then hold placeholders); by default the first error
        is raised.
    overrides : sequence of str
        ``key.path=value``, ``+key=value`` and ``~key`` overrides, applied to
        the YAML tree before anything is built (see
        :mod:`flambe.compile.overrides`).

    Raises
    ------
    ConfigError
        YAML syntax, unknown tags, links, extensions, or a root that is not
        a runnable (:class:`~flambe.errors.RunnableError`).

    """
    from flambe.compile.yaml import load_config, split_config

    file = os.fspath(path)
    text = read_config_text(file)
    # the header is acted upon before the main document is loaded, because
    # the main document's tags may live in the extensions
    extensions, lines, _, _ = split_config(text, file)
    ensure_extensions(extensions, install=install_extensions, file=file, lines=lines)
    loaded = load_config(text, file=file, errors=errors, overrides=overrides)
    result = LoadedRunnable(
        file=file,
        text=text,
        root=loaded.root,
        extensions=extensions,
        overrides=list(overrides),
    )
    if require_runnable:
        check_runnable_schema(result.root, file)
    return result


def describe_root(root: Any) -> str:
    """How to name the root object of a config in an error message."""
    tag = getattr(root, "_created_with_tag", None)
    cls = getattr(root, "component_subclass", None)
    if tag and cls is not None:
        return f"'{tag}' ({cls.__module__}.{cls.__qualname__})"
    if cls is not None:
        return f"{cls.__module__}.{cls.__qualname__}"
    if isinstance(root, dict):
        return "a plain mapping with no tag"
    if isinstance(root, list):
        return "a plain list with no tag"
    return f"a {type(root).__name__} ({root!r:.40})"


def check_runnable_schema(root: Any, file: str | None = None) -> type:
    """Check that ``root`` is the schema of a concrete Runnable; returns its class.

    Raises
    ------
    RunnableError
        Naming the tag found and what a runnable is.

    """
    from flambe.runnable.runnable import Runnable

    cls = getattr(root, "component_subclass", None)
    location = getattr(root, "location", None)
    if not isinstance(location, SourceLocation):
        location = SourceLocation(file, 1, 1) if file else None
    if not (isinstance(cls, type) and issubclass(cls, Runnable)):
        raise RunnableError(
            f"the top-level object is {describe_root(root)}, which is not a runnable",
            location=location,
            hint=RUNNABLE_HINT,
        )
    abstract = sorted(getattr(cls, "__abstractmethods__", ()) or ())
    if abstract:
        raise RunnableError(
            f"the top-level object {describe_root(root)} is abstract "
            f"(missing: {', '.join(abstract)})",
            location=location,
            hint="use a concrete subclass that implements " + ", ".join(abstract),
        )
    return cls


def build_runnable(loaded: LoadedRunnable, secrets: PathLike | None = None) -> Any:
    """Compile the runnable and inject secrets, extensions and the config text.

    Raises
    ------
    ConfigError
        When compiling fails on the config (arguments, links), or the
        secrets file is missing or malformed.

    """
    from flambe.runnable.runnable import Runnable

    runnable = loaded.root()
    if not isinstance(runnable, Runnable):
        raise RunnableError(
            f"the top-level object built a {type(runnable).__name__}, which is not a runnable",
            hint=RUNNABLE_HINT,
        )
    if secrets is not None:
        runnable.inject_secrets(secrets)
    runnable.inject_extensions(loaded.extensions)
    runnable.inject_content(loaded.text)
    runnable.parse()
    return runnable


def run_kwargs(run: Any, **flags: Any) -> dict[str, Any]:
    """The flags a ``run`` method accepts: those it names, or all with ``**kwargs``."""
    try:
        parameters = inspect.signature(run).parameters
    except (TypeError, ValueError):
        return dict(flags)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(flags)
    accepted = {
        name
        for name, p in parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    return {k: v for k, v in flags.items() if k in accepted}


def run_runnable(
    runnable: Any,
    force: bool = False,
    verbose: bool = False,
    debug: bool = False,
    **options: Any,
) -> Any:
    """Call ``runnable.run`` with the flags it accepts; returns what it returns.

    ``options`` are further flags of the command line (``executor``...), given
    when set and the runnable's ``run`` accepts them.
    """
    given = {k: v for k, v in options.items() if v is not None}
    flags = run_kwargs(runnable.run, force=force, verbose=verbose, debug=debug, **given)
    return runnable.run(**flags)


class SafeExecutionContext:
    """Load and prepare a runnable config, turning failures into exit statuses.

    Kept for code written against the original API; the command line uses
    the functions above. Used as a context manager, an exception raised in
    the block is logged and ends the process: status 22 for a configuration
    error, 130 for Ctrl-C, 1 for anything else.

    Parameters
    ----------
    yaml_file : str
        The config file.

    Examples
    --------
    >>> with SafeExecutionContext("exp.yaml") as ctx:
    ...     runnable, extensions = ctx.preprocess(secrets="secrets.ini")
    ...     runnable.run()

    """

    def __init__(self, yaml_file: str) -> None:
        self.yaml_file = yaml_file
        self.content = ""

    def __enter__(self) -> SafeExecutionContext:
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, tb: Any) -> Literal[False]:
        if exc_value is None:
            return False
        import errno
        import logging

        log = logging.getLogger(__name__)
        if isinstance(exc_value, KeyboardInterrupt):
            log.warning("Exiting early")
            raise SystemExit(130) from exc_value
        log.error("%s", exc_value, exc_info=(exc_type, exc_value, tb))
        code = errno.EINVAL if isinstance(exc_value, ConfigError) else 1
        raise SystemExit(code) from exc_value

    def first_parse(self) -> tuple[str, dict[str, str]]:
        """The config's text and its extensions header, without building anything."""
        from flambe.compile.yaml import split_config

        self.content = read_config_text(self.yaml_file)
        extensions, _, _, _ = split_config(self.content, self.yaml_file)
        return self.content, extensions

    def preprocess(
        self, secrets: PathLike | None = None, install_ext: bool = False, **kwargs: Any
    ) -> tuple[Any, dict[str, str]]:
        """Load, check and build the runnable; returns it and its extensions."""
        loaded = load_runnable_config(self.yaml_file, install_extensions=install_ext)
        self.content = loaded.text
        return build_runnable(loaded, secrets=secrets), loaded.extensions
