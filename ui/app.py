"""The QApplication: names for QSettings, style, and the window wired to its controller."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from types import TracebackType

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

ORGANISATION = "Calmline"
APPLICATION = "Calmline"


def create_application(argv: Sequence[str] = ()) -> QApplication:
    """The one QApplication (reused if it exists), named so QSettings has a home."""
    app = QApplication.instance() or QApplication(["calmline", *argv])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Calmline")
    app.setStyle("Fusion")  # follows the system colour scheme on every platform
    return app


def user_settings() -> QSettings:
    """The user's settings (window geometry, always-on-top, last devices)."""
    return QSettings(ORGANISATION, APPLICATION)


def install_exception_hook(show: Callable[[str], None]) -> None:
    """Uncaught exceptions (in slots too) are logged and shown, never swallowed."""

    def hook(kind: type[BaseException], exc: BaseException, trace: TracebackType | None) -> None:
        log.error("uncaught exception", exc_info=(kind, exc, trace))
        show(
            f"Something went wrong inside Calmline ({kind.__name__}: {exc}). "
            "The call goes on; details are in the log."
        )

    sys.excepthook = hook
