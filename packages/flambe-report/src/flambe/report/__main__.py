"""``python -m flambe.report OUTPUT_FOLDER``: the same as ``flambe site``."""

from flambe.report.cli import main

if __name__ == "__main__":
    main()
