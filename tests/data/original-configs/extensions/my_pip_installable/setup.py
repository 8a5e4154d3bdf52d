"""The pip installable of the original documentation's script example (section 13.1)."""

from setuptools import find_packages, setup

setup(name="my_pip_installable", version="1.0.0", packages=find_packages())
