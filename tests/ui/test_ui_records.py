"""The window and the call database: a call interrupted by a crash is offered for recovery,
recovered into the window, finished and saved; details typed by the agent are stored."""

from __future__ import annotations

import json
import os
import socket
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from PySide6.QtCore import QSettings
from sqlalchemy import text
from support.window import close_and_wait

from app.calls.records import CallInfo, SegmentRecord
from app.pipeline.call import CallSetup
from app.settings import Settings, WebhookSettings
from app.store import CallStore
from app.store.calls import new_uid
from ui.call_controller import CallState, Services
from ui.main_window import MainWindow


def no_models(options, progress) -> CallSetup:
    return CallSetup(engine=object(), sentiment=None, playbook=None)


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


@pytest.mark.reliability(
    "recovery", "Restart after a crash: the window offers the interrupted call"
)
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Hook(BaseHTTPRequestHandler):
    received: list[dict] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_an_export_to_a_helpdesk_that_is_down_waits_and_is_sent_on_retry(
    qtbot, tmp_path, db_url, no_thread_left_running
):
    interrupted_call(db_url)
    port = free_port()
    config = Settings(webhook=WebhookSettings(url=f"http://127.0.0.1:{port}/calmline"))
    services = Services(
        list_devices=list, load_models=no_models, open_store=lambda _: CallStore.open(db_url)
    )
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, tmp_path / "notes", services=services, config=config)
    window.show()
    qtbot.waitExposed(window)
    window.begin()
    qtbot.waitUntil(lambda: bool(window.messages.buttons), timeout=10_000)
    with qtbot.waitSignal(window.records.recovered, timeout=10_000):
        window.messages.buttons[0].click()  # "Recover the call"

    with qtbot.waitSignal(window.records.outbox_changed, timeout=30_000):
        window.notes.export_actions["webhook"].trigger()
    assert "waiting in the outbox" in window.messages.text()
    retry = next(b for b in window.messages.buttons if b.text() == "Retry now")

    Hook.received = []
    server = HTTPServer(("127.0.0.1", port), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        retry.click()
        qtbot.waitUntil(lambda: "outbox" not in window.messages.text(), timeout=30_000)
    finally:
        server.shutdown()
        server.server_close()
    assert Hook.received[0]["call"]["notes"] == "VPN drops"
    close_and_wait(qtbot, window)
