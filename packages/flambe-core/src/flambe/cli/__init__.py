"""The ``flambe`` command line (``flambe run``, ``flambe validate``, ``flambe plugins``...).

Run it as the ``flambe`` console script or as ``python -m flambe.cli``.
See ``docs/cli.md`` for every command, flag and exit code.
"""
