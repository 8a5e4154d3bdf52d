"""A minimal third-party Flambé plugin: ``!hello.Greeter`` writes a greeting to a file."""

__version__ = "0.1.0"
