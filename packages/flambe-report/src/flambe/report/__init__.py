"""The Flambé report site: follow an experiment's progress in a browser.

Part of the ``flambe-report`` distribution, which contributes this subpackage to
the ``flambe`` namespace. Importing it is cheap: the classes live in
submodules and are imported when a config or your code first uses them.
"""

__version__ = "0.2.0"
