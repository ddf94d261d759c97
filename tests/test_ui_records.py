"""The window and the call database: a call interrupted by a crash is offered for recovery,
recovered into the window, finished and saved; details typed by the agent are stored."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QSettings
from sqlalchemy import text
from test_ui_window import close_and_wait

from app.records import CallInfo, SegmentRecord
from app.store import CallStore
from app.store.calls import new_uid
from ui.call_controller import CallState, Services
from ui.loading import LoadedModels
from ui.main_window import MainWindow


def no_models(options, progress) -> LoadedModels:
    return LoadedModels(engine=object(), sentiment=None, playbook=None)


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'calls.db'}"


def interrupted_call(db_url: str) -> int:
    store = CallStore.open(db_url)
    call_id = store.start_call(
        CallInfo(
            uid=new_uid(),
            started_at=datetime(2026, 3, 4, 14, 5, tzinfo=UTC),
            client_name="Marie Dupont",
            ticket_id="4521",
        )
    )
    store.add_segment(call_id, SegmentRecord(1, "agent", 0.5, 3.0, "Help desk, how can I help?"))
    store.add_segment(call_id, SegmentRecord(2, "client", 4.0, 9.0, "My VPN keeps dropping."))
    store.save_notes(call_id, "VPN drops", 3)
    with store.engine.begin() as connection:  # as if its process had been killed
        connection.execute(text("UPDATE calls SET owner_pid = 999999999"))
    store.close()
    return call_id


def test_an_interrupted_call_is_offered_recovered_and_finished(
    qtbot, tmp_path, db_url, no_thread_left_running
):
    call_id = interrupted_call(db_url)
    services = Services(
        list_devices=list, load_models=no_models, open_store=lambda _: CallStore.open(db_url)
    )
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, tmp_path / "notes", services=services)
    window.show()
    qtbot.waitExposed(window)
    window.begin()
    qtbot.waitUntil(lambda: "closed unexpectedly" in window.messages.text(), timeout=10_000)
    recover = next(b for b in window.messages.buttons if b.text() == "Recover the call")
    with qtbot.waitSignal(window.records.recovered, timeout=10_000):
        recover.click()
    assert "My VPN keeps dropping." in window.transcript.plain_text()
    assert window.notes.editor.toPlainText() == "VPN drops"
    assert window.notes.details["ticket_id"].text() == "4521"

    window.notes.editor.moveCursor(window.notes.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(window.notes.editor, "; password expired, reset")
    qtbot.keyClicks(window.notes.details["client_contact"], "marie@example.com")
    qtbot.waitUntil(lambda: window.controller.state is CallState.READY, timeout=10_000)
    close_and_wait(qtbot, window)

    store = CallStore.open(db_url)
    record = store.get(call_id)
    store.close()
    assert record.info.status == "recovered"
    assert record.notes == "VPN drops; password expired, reset"
    assert record.info.client_contact == "marie@example.com"
