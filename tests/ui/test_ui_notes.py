"""Notes on disk and the ticket update (app/calls/notes.py), and the notes pane's autosave,
key moments and export (offscreen)."""

from __future__ import annotations

import os
from datetime import datetime

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication

from app.calls.notes import (
    KeyMoment,
    NotesFile,
    notes_path,
    save_notes,
    ticket_path,
    ticket_update_markdown,
)
from app.events import ChecklistTick
from ui.theme import LIGHT
from ui.widgets.notes_pane import NotesPane
from ui.workers import WorkerPool

STARTED = datetime(2025, 3, 4, 14, 5, 6)


def test_save_notes_is_atomic_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "notes" / "call.md"
    save_notes(path, "first")
    save_notes(path, "second")
    assert path.read_text(encoding="utf-8") == "second"
    assert [p.name for p in path.parent.iterdir()] == ["call.md"]


def test_an_older_version_never_overwrites_a_newer_one(tmp_path):
    notes = NotesFile(tmp_path / "call.md")
    assert notes.save("newer", version=2)
    assert not notes.save("older", version=1)
    assert notes.path.read_text(encoding="utf-8") == "newer"


def test_ticket_update_has_summary_notes_moments_flags_and_checklist():
    moments = [
        KeyMoment(26.0, "cue", "Steady voice — one thing at a time"),
        KeyMoment(38.5, "flag", "asked for a manager: “get me your manager”"),
    ]
    markdown = ticket_update_markdown(
        STARTED, 125.0, "VPN password expired.", moments, {"listened": True}, "started upset"
    )
    first_lines = markdown.splitlines()
    assert first_lines[0] == "# Ticket update"
    assert first_lines[2].startswith("Phone call on 2025-03-04 at 14:05, 2 min 05 s; 1 flag")
    assert "client mood: started upset" in first_lines[2]
    assert "VPN password expired." in markdown
    assert "- [00:26] cue — Steady voice — one thing at a time" in markdown
    assert "- [00:38] asked for a manager: “get me your manager”" in markdown
    assert "- [x] Listened to the whole problem" in markdown
    assert "- [ ] Planned the follow-up" in markdown


def test_paths_of_notes_and_ticket(tmp_path):
    notes = notes_path(tmp_path, STARTED)
    assert notes.name == "2025-03-04_14-05-06.md"
    assert ticket_path(notes).name == "2025-03-04_14-05-06-ticket.md"


@pytest.fixture
def pane(qtbot, tmp_path):
    pool = WorkerPool()
    pane = NotesPane(LIGHT, pool, tmp_path / "notes")
    qtbot.addWidget(pane)
    pane.show()
    yield pane
    qtbot.waitUntil(lambda: not pool.busy)
    pool.release_threads()


def test_typing_is_saved_after_a_pause_by_a_worker(qtbot, pane):
    pane.begin_call(STARTED)
    qtbot.keyClicks(pane.editor, "Client could not log in")
    assert pane.saving
    qtbot.waitUntil(lambda: not pane.saving, timeout=5_000)
    assert pane.path.read_text(encoding="utf-8") == "Client could not log in"


def test_typing_without_a_pause_is_still_saved_every_second(qtbot, pane):
    pane.begin_call(STARTED)
    keystrokes = QTimer()
    keystrokes.setInterval(100)  # a steady typist: ten keys a second, never a pause
    keystrokes.timeout.connect(lambda: pane.editor.insertPlainText("x"))
    keystrokes.start()
    try:
        qtbot.waitUntil(lambda: pane.path.exists(), timeout=2_500)
    finally:
        keystrokes.stop()
    assert pane.path.read_text(encoding="utf-8").startswith("x")


def test_key_moment_goes_above_the_line_being_typed(qtbot, pane):
    pane.begin_call(STARTED)
    pane.editor.setFocus()
    qtbot.keyClicks(pane.editor, "half a thou")
    pane.add_moment(KeyMoment(65.0, "flag", "abusive language: “idiot”"))
    assert pane.editor.toPlainText() == "[01:05] flag — abusive language: “idiot”\nhalf a thou"
    qtbot.keyClicks(pane.editor, "ght")
    assert pane.editor.toPlainText().endswith("half a thought")


def test_checklist_ticks_automatically_and_by_hand(qtbot, pane):
    pane.tick_checklist(ChecklistTick(12.0, "acknowledged", 3))
    assert pane.checkboxes["acknowledged"].isChecked()
    assert pane.checkboxes["acknowledged"].toolTip() == "heard at 00:12"
    checklist_tab = pane.tabs.indexOf(pane.checkboxes["follow_up"].parentWidget())
    pane.tabs.setCurrentIndex(checklist_tab)
    qtbot.mouseClick(pane.checkboxes["follow_up"], Qt.MouseButton.LeftButton)
    assert pane.checklist_state()["follow_up"]
    assert pane.tabs.tabText(checklist_tab) == "Checklist 2/5"


def test_export_copies_and_writes_the_ticket_update(qtbot, pane):
    pane.begin_call(STARTED)
    qtbot.keyClicks(pane.editor, "Reset the password.")
    markdown = pane.export(90.0, None)
    assert QGuiApplication.clipboard().text() == markdown
    ticket = ticket_path(pane.path)
    qtbot.waitUntil(lambda: "saved to" in pane.status_label.text(), timeout=5_000)
    assert ticket.read_text(encoding="utf-8") == markdown
    assert "Reset the password." in markdown


def test_a_new_call_starts_a_fresh_sheet_after_saving_the_last(qtbot, pane):
    pane.begin_call(STARTED)
    qtbot.keyClicks(pane.editor, "first call")
    first = pane.path
    pane.begin_call(datetime(2025, 3, 4, 15, 0, 0))
    assert pane.editor.toPlainText() == ""
    assert pane.path != first
    qtbot.waitUntil(lambda: first.exists() and first.read_text(encoding="utf-8") == "first call")
