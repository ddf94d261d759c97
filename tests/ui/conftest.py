"""Fixtures of the window's tests: its settings file, and no thread outliving a test."""

from __future__ import annotations

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture
def settings(tmp_path) -> QSettings:
    """The window's own settings (geometry, inputs), in a file of the test's."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def no_thread_left_running(qapp):
    """napari-style: no Python thread, QThread or pool thread outlives the test."""
    import gc

    from PySide6.QtCore import QThread

    from ui.workers import WorkerPool

    before = {t.ident for t in threading.enumerate()}
    yield
    qapp.processEvents()
    leftover = [
        t.name
        for t in threading.enumerate()
        if t.ident not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]
    running_qthreads = [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, QThread) and obj is not qapp.thread() and obj.isRunning()
    ]
    assert not leftover, f"threads left running: {leftover}"
    assert not running_qthreads, f"QThreads left running: {running_qthreads}"
    from shiboken6 import isValid

    pools = [obj for obj in gc.get_objects() if isinstance(obj, WorkerPool) and isValid(obj)]
    assert not [p.running_jobs() for p in pools if p.busy], "worker jobs still running"
    assert all(p.active_threads == 0 for p in pools), "worker-pool threads still running"
