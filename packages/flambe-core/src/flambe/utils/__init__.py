"""Small helpers shared across flambe-core (file system paths, ...)."""
