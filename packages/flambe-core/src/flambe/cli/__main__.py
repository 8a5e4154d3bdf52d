"""``python -m flambe.cli``: the same as the ``flambe`` command."""

from flambe.cli.main import main

if __name__ == "__main__":
    main()
