"""The history window on the real team database (scripts/postgres-server.sh start): a
supervisor's window alerts live when an agent's flag comes in and refreshes the flagged
queue; an agent's window does not listen. The listener's thread stops with the window."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re
from collections.abc import Iterator

import pytest
from support.team import flagged_call

from app.store import CallStore
from ui.history import HistoryWindow
from ui.workers import WorkerPool


@pytest.fixture
def open_history(qtbot, no_thread_left_running) -> Iterator:
    opened: list[tuple[HistoryWindow, WorkerPool]] = []

    def open_as(url: str) -> HistoryWindow:
        pool = WorkerPool()
        window = HistoryWindow(pool, url)
        qtbot.addWidget(window)
        window.show()
        with qtbot.waitSignal(window.loaded, timeout=10_000):
            window.begin()
        qtbot.waitUntil(lambda: not pool.busy, timeout=10_000)  # the role is known
        opened.append((window, pool))
        return window

    yield open_as
    for window, pool in opened:
        window.close()
        qtbot.waitUntil(lambda pool=pool: not pool.busy, timeout=10_000)
        pool.release_threads()


def test_a_supervisors_window_alerts_live_and_refreshes_the_queue(qtbot, team_db, open_history):
    window = open_history(team_db.supervisor)
    alerts = window.flag_alerts
    assert alerts is not None
    qtbot.waitUntil(alerts.listener.connected.is_set, timeout=10_000)
    # the label follows by a queued signal from the listener's thread
    qtbot.waitUntil(lambda: window.alerts_state.text() == "Live flag alerts on", timeout=5_000)
    assert not window.alert_banner.isVisible()

    store = CallStore.open(team_db.agent_a)
    try:
        with qtbot.waitSignal(window.alerted, timeout=5_000) as shown:
            call_id = flagged_call(store, "ana", "You are an idiot!")
        qtbot.waitUntil(
            lambda: call_id in [f.call_id for f in window.queue_model.rows], timeout=10_000
        )
    finally:
        store.close()
    message = shown.args[0]
    assert re.fullmatch(
        r"Flagged call: abusive language — agent ana, \d\d:\d\d: “You are an idiot!”", message
    )
    # No system tray on the test display: the alert is shown in the window.
    assert window.alert_banner.isVisible() and window.alert_text.text() == message
    assert window.queue_model.rows[0].excerpt == "You are an idiot!"
    assert window.tabs.tabText(1) == f"Flagged calls ({len(window.queue_model.rows)})"

    window.close()  # the listener's thread stops with the window
    assert window.flag_alerts is None and not alerts.running


def test_an_agents_window_does_not_listen(team_db, open_history):
    window = open_history(team_db.agent_b)
    assert window.flag_alerts is None and window.alerts_state.text() == ""


def test_with_a_system_tray_the_alert_is_a_desktop_notification(
    qtbot, team_db, open_history, monkeypatch
):
    from PySide6.QtWidgets import QSystemTrayIcon

    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(
        QSystemTrayIcon, "showMessage", lambda _tray, title, text, *_: shown.append((title, text))
    )
    window = open_history(team_db.supervisor)
    assert window.flag_alerts is not None
    qtbot.waitUntil(window.flag_alerts.listener.connected.is_set, timeout=10_000)
    store = CallStore.open(team_db.agent_b)
    try:
        with qtbot.waitSignal(window.alerted, timeout=5_000):
            flagged_call(store, "bob", "Put your manager on")
    finally:
        store.close()
    assert len(shown) == 1 and shown[0][0] == "Calmline"
    assert re.fullmatch(
        r"Flagged call: abusive language — agent bob, \d\d:\d\d: “Put your manager on”", shown[0][1]
    )
    assert not window.alert_banner.isVisible()
