"""Errors about audio input that the user can act on."""


class AudioInputError(Exception):
    """A device or file that cannot be used; the message says what to do."""
