"""Opening and closing the real window in the tests (offscreen), and the real model loader
cached for the whole run. Imports Qt: only the window's tests import it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace

from app.pipeline.call import CallSetup
from app.store import CallStore
from ui.loading import ModelOptions, load_models
from ui.main_window import MainWindow

REPLAY_PACE = 3.0

_cached_models: list[CallSetup] = []


def cached_load_models(options: ModelOptions, progress) -> CallSetup:
    """The real loader (on the window's worker), run once for the whole test run. It loads
    the real models: a test whose window uses it is a slow test."""
    if not _cached_models:
        _cached_models.append(load_models(options, progress))
    progress("Ready", 100)
    return replace(_cached_models[0], redact=options.redact)  # the window's settings


def open_window(qtbot, settings, tmp_path, **kwargs) -> MainWindow:
    window = MainWindow(settings, tmp_path / "notes", **kwargs)
    window.show()
    qtbot.waitExposed(window)
    window.begin()
    return window


def close_and_wait(qtbot, window: MainWindow, timeout_ms: int = 120_000) -> None:
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=timeout_ms)


def private_store(tmp_path):
    return lambda _url: CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
