"""Images for Flambé: image datasets, CNN encoders and image classifiers.

Part of the ``flambe-vision`` distribution, which contributes this subpackage to
the ``flambe`` namespace. Importing it is cheap: the classes live in
submodules and are imported when a config or your code first uses them.
"""

__version__ = "0.2.0"
