"""The history window on a real SQLite file: search and filters, one call's review (tinted
transcript, timeline marks that jump to the line), and the supervisor's flagged queue with
a review outcome and a CSV export."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import io
from datetime import datetime, timedelta

import pytest

from app.calls.records import CallInfo, CallRecord, CueRecord, FlagRecord, MoodPoint, SegmentRecord
from app.store import CallStore
from app.store.calls import new_uid
from ui.history import HistoryWindow
from ui.workers import WorkerPool


def segments(*lines: tuple[str, str, str | None]) -> tuple[SegmentRecord, ...]:
    return tuple(
        SegmentRecord(n + 1, speaker, n * 5.0, n * 5.0 + 4, text,
                      sentiment={"label": label, "scores": {}} if label else None)
        for n, (speaker, text, label) in enumerate(lines)
    )  # fmt: skip


@pytest.fixture
def db_url(tmp_path) -> str:
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    now = datetime.now().astimezone()
    store.save_record(CallRecord(
        info=CallInfo(uid=new_uid(), started_at=now - timedelta(days=2), agent="sam",
                      client_name="Marie Dupont", ticket_id="4521"),
        segments=segments(("agent", "Help desk, how can I help?", None),
                          ("client", "The printer on floor three jams again.", "negative"),
                          ("client", "Thanks, it prints now.", "positive")),
        notes="Printer jam; replaced the roller.",
    ))  # fmt: skip
    store.save_record(CallRecord(
        info=CallInfo(uid=new_uid(), started_at=now - timedelta(days=1), agent="ana",
                      client_name="Lee Wong"),
        segments=segments(("agent", "Service desk.", None),
                          ("client", "My VPN drops every hour.", "negative"),
                          ("client", "Are you an idiot?", "negative"),
                          ("agent", "Let's keep this respectful.", None)),
        cues=(CueRecord(15.0, "abuse", "Not personal — set a boundary", (), 3),),
        flags=(FlagRecord(15.0, "abusive_language", "Are you an idiot?", 3),),
        mood=(MoodPoint(9.0, -0.5, "falling"), MoodPoint(14.0, -0.8, "falling")),
    ))  # fmt: skip
    store.close()
    return f"sqlite:///{tmp_path / 'calls.db'}"


@pytest.fixture
def history(qtbot, db_url, no_thread_left_running):
    pool = WorkerPool()
    window = HistoryWindow(pool, db_url)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.begin()
    yield window
    window.close()
    qtbot.waitUntil(lambda: not pool.busy, timeout=10_000)
    pool.release_threads()


def test_search_and_filters_find_the_right_calls(qtbot, history):
    clients = lambda: [c.client_name for c in history.calls_model.rows]  # noqa: E731
    assert clients() == ["Lee Wong", "Marie Dupont"]  # newest first
    history.search_box.setText("printer")
    with qtbot.waitSignal(history.loaded, timeout=10_000):
        history.search_box.returnPressed.emit()
    assert clients() == ["Marie Dupont"]
    history.search_box.setText("roller")  # in the notes
    with qtbot.waitSignal(history.loaded, timeout=10_000):
        history.refresh()
    assert clients() == ["Marie Dupont"]
    history.search_box.setText("")
    with qtbot.waitSignal(history.loaded, timeout=10_000):
        history.flagged_only.setChecked(True)
    assert clients() == ["Lee Wong"]


def test_a_call_opens_with_tinted_lines_and_marks_that_jump(qtbot, history):
    history.calls_view.selectRow(0)
    qtbot.waitUntil(lambda: history.review.record is not None, timeout=10_000)
    review = history.review
    assert "Lee Wong" in review.title.text()
    assert review.talk.text().startswith("You talked ") and "over the client" in review.talk.text()
    page = review.transcript.toHtml()
    assert "Are you an idiot?" in page and "rgba(" in page  # client lines tinted
    assert len(review._marks.points()) == 2  # the cue and the flag
    review.transcript.verticalScrollBar().setValue(0)
    review.jump_to(3)  # what clicking a mark does


def test_supervisor_reviews_a_flagged_call_and_exports_csv(qtbot, history, tmp_path):
    assert history.tabs.tabText(1) == "Flagged calls (1)"
    flagged = history.queue_model.rows[0]
    assert flagged.excerpt == "Are you an idiot?" and flagged.agent == "ana"
    history.queue_view.selectRow(0)
    qtbot.waitUntil(lambda: history.queue_review.record is not None, timeout=10_000)
    assert "Are you an idiot?" in history.queue_review.transcript.toPlainText()
    history.outcome.setCurrentText("coaching")
    history.comment.setText("Boundary set well; no further action.")
    with qtbot.waitSignal(history.loaded, timeout=10_000):
        history.mark_reviewed.click()
    assert history.queue_model.rows == [] and history.tabs.tabText(1) == "Flagged calls (0)"
    with qtbot.waitSignal(history.loaded, timeout=10_000):
        history.show_reviewed.setChecked(True)
    assert history.queue_model.rows[0].review_outcome == "coaching"

    target = tmp_path / "weekly.csv"
    history.write_csv(history.weeks_model.rows, target)
    qtbot.waitUntil(target.exists, timeout=10_000)
    table = list(csv.reader(io.StringIO(target.read_text())))
    assert table[0][0] == "agent" and {row[0] for row in table[1:]} == {"sam", "ana"}


def test_the_history_opened_again_after_closing_loads_its_calls(
    qtbot, db_url, tmp_path, no_thread_left_running
):
    from PySide6.QtCore import QSettings
    from support.window import close_and_wait

    from app.settings import Settings
    from ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, tmp_path / "notes", config=Settings(store=db_url))
    window.show()
    qtbot.waitExposed(window)
    for _ in range(2):
        window.open_history()
        history = window._history
        qtbot.waitUntil(lambda h=history: h.store is not None and len(h.calls_model.rows) == 2,
                        timeout=10_000)  # fmt: skip
        history.close()
        qtbot.waitUntil(lambda h=history: not h.isVisible(), timeout=5_000)
    close_and_wait(qtbot, window)
