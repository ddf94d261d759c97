"""Errors about model files that the user can act on."""


class ModelError(Exception):
    """A model that cannot be used; the message names the file, what was expected, the fix."""
