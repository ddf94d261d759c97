"""The drafted ticket note in the notes pane: it fills in as the call goes, the agent
accepts, edits and removes items with the mouse and keyboard, later drafts never undo that,
and the exported ticket update holds what the agent kept."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from app.events import SummaryDraft
from app.paths import DEMO_CALL
from app.pipeline.call import CallSetup
from app.pipeline.textcall import coach_transcript, load_turns
from ui.theme import LIGHT
from ui.widgets.notes_pane import NotesPane
from ui.workers import WorkerPool

STARTED = datetime(2026, 12, 1, 14, 5, 6)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pane(qtbot, tmp_path):
    pool = WorkerPool()
    pane = NotesPane(LIGHT, pool, tmp_path / "notes")
    qtbot.addWidget(pane)
    pane.resize(420, 620)
    pane.show()
    pane.begin_call(STARTED)
    yield pane
    qtbot.waitUntil(lambda: not pool.busy)
    pool.release_threads()


def demo_drafts() -> list[SummaryDraft]:
    """The drafts the real stages make from the demo call's lines, in order."""
    drafts: list[SummaryDraft] = []
    turns = load_turns(DEMO_CALL.with_suffix(".txt"))
    coach_transcript(turns, CallSetup(None), [lambda e: drafts.append(e)
                                             if isinstance(e, SummaryDraft) else None])  # fmt: skip
    return drafts


def test_the_note_fills_in_as_the_call_goes_and_keeps_the_agents_work(qtbot, pane):
    drafts = demo_drafts()
    assert len(drafts) > 3  # it grows line by line
    edited: list = []
    pane.summary_edited.connect(edited.append)
    middle = next(i for i, d in enumerate(drafts) if d.summary.steps)
    for draft in drafts[: middle + 1]:
        pane.draft.merge(draft.summary)
    reason = pane.draft.rows("reason")[0]
    assert "VPN keeps dropping" in reason.text.text()
    assert reason.time.text() == "00:07" and not reason.accept.isChecked()

    qtbot.mouseClick(reason.accept, Qt.MouseButton.LeftButton)  # accept
    step = pane.draft.rows("steps")[0]
    step.text.setFocus()
    step.text.selectAll()
    qtbot.keyClicks(step.text, "Checked VPN access")  # edit by typing
    assert edited and edited[-1].steps[0].text == "Checked VPN access"
    for draft in drafts[middle + 1 :]:  # the rest of the call
        pane.draft.merge(draft.summary)
    kept = pane.kept_summary()
    assert kept.reason[0].text == "My VPN keeps dropping, my email won't load."
    assert kept.steps[0].text == "Checked VPN access"
    assert kept.outcome.status == "resolved" and kept.follow_up

    cause = pane.draft.rows("cause")[0]
    qtbot.mouseClick(cause.remove, Qt.MouseButton.LeftButton)  # remove
    assert pane.draft.rows("cause") == [] and pane.kept_summary().cause == ()
    assert edited[-1] == pane.kept_summary()  # what the store is given

    markdown = pane.export(102.0, None)
    qtbot.waitUntil(lambda: not pane.saving)
    assert markdown.index("## Reason for the call") < markdown.index("## Notes")
    assert "Checked VPN access" in markdown
    assert "password expired" not in markdown.split("## Notes")[0]  # the removed cause


def test_the_agents_typing_is_never_overwritten_by_a_new_draft(qtbot, pane):
    drafts = demo_drafts()
    pane.draft.merge(drafts[0].summary)
    row = pane.draft.rows("reason")[0]
    row.text.setFocus()
    row.text.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(row.text, " since")
    qtbot.keyClicks(row.text, " ")  # a draft arrives mid-word: the cursor stays put
    for draft in drafts[1:]:
        pane.draft.merge(draft.summary)
    qtbot.keyClicks(row.text, "9")
    assert pane.draft.rows("reason")[0].text.text().endswith("since 9")
    assert pane.kept_summary().reason[0].text.endswith("since 9")


def test_a_time_link_shows_its_transcript_line(qtbot, pane):
    pane.draft.merge(demo_drafts()[-1].summary)
    asked: list[int] = []
    pane.draft.line_requested.connect(asked.append)
    row = pane.draft.rows("follow_up")[0]
    qtbot.mouseClick(row.time, Qt.MouseButton.LeftButton)
    assert asked == [pane.kept_summary().follow_up[0].segment_id]


def test_the_outcome_can_be_changed_and_stays(qtbot, pane):
    drafts = demo_drafts()
    pane.draft.merge(drafts[-1].summary)
    assert pane.draft.outcome_status.currentData() == "resolved"
    pane.draft.outcome_status.setCurrentIndex(pane.draft.outcome_status.findData("escalated"))
    pane.draft.outcome_status.activated.emit(pane.draft.outcome_status.currentIndex())
    pane.draft.merge(drafts[-1].summary)
    assert pane.kept_summary().outcome.status == "escalated"


def test_screenshot_of_the_drafted_note(qtbot, pane, tmp_path):
    pane.draft.merge(demo_drafts()[-1].summary)
    pane.show_summary_tab()
    qtbot.wait(50)
    shot = tmp_path / "ticket-note.png"
    assert pane.grab().save(str(shot), "PNG")
    if os.environ.get("CALMLINE_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, REPO / "docs" / "ticket-note.png")
