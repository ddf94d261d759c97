"""Calmline's Qt-free core: the live call pipeline and the command line."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("calmline")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
