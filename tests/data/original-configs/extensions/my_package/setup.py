"""The package of the original documentation's custom-code example (section 14.2)."""

from setuptools import find_packages, setup

setup(
    name="my_package",  # the name of your package
    version="1.0.0",  # the version of your extension (optional)
    packages=find_packages(),
)
