"""Transcript, cue banner, phrases and mood widgets on their own (offscreen)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from app.events import Committed, Cue, CueCleared, MoodUpdate, Partial, Segment, Trend
from audio.sides import Side
from ui.theme import LIGHT
from ui.widgets.cue_banner import IDLE_TEXT, CueBanner
from ui.widgets.mood_view import MoodView, mood_word
from ui.widgets.phrases_panel import PhrasesPanel
from ui.widgets.transcript_view import TranscriptView

CUE = Cue(30.0, "anger", "Steady voice — one thing at a time", ("One.", "Two.", "Three."), 4)


def test_interim_text_is_replaced_when_the_line_is_committed(qtbot):
    view = TranscriptView(LIGHT)
    qtbot.addWidget(view)
    view.add_segment(Segment(1, Side.AGENT, 0.5, 4.8, "Good afternoon, help desk."))
    view.set_interim(Partial(Side.CLIENT, 5.6, "Finally I have"))
    assert view.plain_text().splitlines()[-1] == "00:05  Client: Finally I have …"
    view.set_interim(Partial(Side.CLIENT, 5.6, "Finally I have been waiting"))
    view.add_segment(Segment(2, Side.CLIENT, 5.6, 12.6, "Finally! I've been waiting all day."))
    assert view.plain_text().splitlines() == [
        "00:00  You: Good afternoon, help desk.",
        "00:05  Client: Finally! I've been waiting all day.",
    ]
    view.set_interim(Partial(Side.AGENT, 13.0, "I'm sorry"))
    view.set_interim(Partial(Side.AGENT, 13.0, ""))  # cleared
    assert view.plain_text().count("\n") == 1


def test_auto_scroll_pauses_when_scrolled_up_and_jump_to_live_resumes(qtbot):
    view = TranscriptView(LIGHT)
    qtbot.addWidget(view)
    view.resize(300, 150)
    view.show()
    for n in range(40):
        view.add_segment(Segment(n, Side(("agent", "client")[n % 2]), n, n + 1, f"line {n}"))
    bar = view.text.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0 and view.following
    bar.setValue(0)
    assert not view.following and view.jump_button.isVisible()
    view.add_segment(Segment(99, Side.CLIENT, 50, 51, "new line"))
    assert bar.value() == 0, "reading further up is not interrupted"
    qtbot.mouseClick(view.jump_button, Qt.MouseButton.LeftButton)
    assert bar.value() == bar.maximum() and not view.jump_button.isVisible()


def test_cue_banner_shows_one_cue_and_clears_on_its_own_cleared_event(qtbot):
    banner = CueBanner(LIGHT)
    qtbot.addWidget(banner)
    assert banner.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert banner.dismiss_button.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert banner.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    banner.show_cue(CUE)
    assert banner.message_label.text() == CUE.message
    banner.clear_cue(CueCleared(31.0, "profanity", "replaced"))  # not the cue in front
    assert banner.cue is CUE
    with qtbot.waitSignal(banner.dismiss_clicked):
        qtbot.mouseClick(banner.dismiss_button, Qt.MouseButton.LeftButton)
    banner.clear_cue(CueCleared(32.0, "anger", "dismissed"))
    assert banner.cue is None and banner.message_label.text() == IDLE_TEXT


def test_phrase_click_copies_and_can_add_to_notes(qtbot):
    panel = PhrasesPanel(LIGHT)
    qtbot.addWidget(panel)
    panel.show()
    panel.set_phrases(CUE.phrases)
    assert panel.phrases() == ["One.", "Two.", "Three."]
    with qtbot.waitSignal(panel.phrase_copied) as copied:
        qtbot.mouseClick(panel.buttons[1], Qt.MouseButton.LeftButton)
    assert copied.args == ["Two."]
    assert QGuiApplication.clipboard().text() == "Two."
    panel.add_to_notes.setChecked(True)
    with qtbot.waitSignal(panel.phrase_for_notes) as for_notes:
        panel.use_phrase(2)
    assert for_notes.args == ["Three."]
    panel.set_phrases(())
    assert not panel.isVisible()


def test_mood_level_in_words_and_timeline_relaxing_towards_neutral(qtbot):
    view = MoodView(LIGHT)
    qtbot.addWidget(view)
    view.add_update(MoodUpdate(10.0, -0.6, Trend.FALLING, 2))
    assert view.word_label.text() == "Very upset"
    assert view.trend_label.text() == "▼ falling"
    view.set_call_time(70.0)
    xs, ys = view.timeline()
    assert xs[0] == 10.0 and xs[-1] == 70.0
    assert ys[-1] == -0.3  # one half-life later
    view.add_update(MoodUpdate(80.0, 0.5, Trend.RISING, 9))
    assert view.summary() == "started very upset, ended happy"
    assert [mood_word(v) for v in (-0.3, 0.0, 0.3)] == ["Upset", "Neutral", "Content"]


def test_a_degraded_part_of_the_call_is_shown_without_stopping_it(
    qtbot, tmp_path, no_thread_left_running
):
    from PySide6.QtCore import QSettings
    from support.window import close_and_wait

    from app.events import Degraded
    from ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, tmp_path / "notes")
    window.show()
    qtbot.waitExposed(window)
    window._on_event(Degraded("client mood", "client mood failed (onnxruntime: bad input)."))
    window._on_event(Degraded("client mood", "client mood failed (onnxruntime: bad input)."))
    text = window.messages.text()
    assert text.count("client mood failed") == 1 and "The call goes on" in text
    window._on_event(Committed(Segment(1, Side.CLIENT, 0.0, 1.0, "Still transcribing.")))
    assert "Still transcribing." in window.transcript.plain_text()
    close_and_wait(qtbot, window)


def test_a_lost_line_is_shown_as_an_error_noted_and_cleared_when_back(
    qtbot, tmp_path, no_thread_left_running, monkeypatch
):
    from PySide6.QtCore import QSettings
    from support.window import close_and_wait

    import ui.main_window
    from app.events import InputLost, InputRestored
    from ui.main_window import MainWindow

    monkeypatch.setattr(ui.main_window, "RESTORED_SHOWN_MS", 200)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, tmp_path / "notes")
    window.show()
    qtbot.waitExposed(window)
    window._on_event(InputLost(Side.CLIENT, 42.0, "device 2: USB headset", "unplugged"))
    assert "Client line lost — unplugged (device 2: USB headset)." in window.messages.text()
    assert "Your side keeps transcribing." in window.messages.text()
    assert window.theme.error_background in window.messages.label.styleSheet()
    window._on_event(InputRestored(Side.CLIENT, 55.0, "device 2: USB headset", 13.0))
    assert window.messages.text() == "Client line back after 13 s (device 2: USB headset)."
    qtbot.waitUntil(lambda: window.messages.text() == "", timeout=3000)
    lines = [m.line() for m in window.notes.moments]
    assert lines == ["[00:42] input — Client line lost: unplugged",
                     "[00:55] input — Client line back after 13 s"]  # fmt: skip
    close_and_wait(qtbot, window)


def test_a_revised_line_replaces_the_lines_it_covers_in_place(qtbot):
    view = TranscriptView(LIGHT)
    qtbot.addWidget(view)
    view.add_segment(Segment(1, Side.CLIENT, 2.0, 3.0, "There you go."))
    view.add_segment(Segment(2, Side.AGENT, 3.5, 4.0, "Mm-hm."))
    view.add_segment(Segment(3, Side.CLIENT, 4.2, 8.0, "Welcome to the new demo."))
    view.set_interim(Partial(Side.AGENT, 9.0, "So"))
    revised = Segment(1, Side.CLIENT, 2.0, 8.0, "Hey guys, welcome to the new demo.", revised=True)
    view.revise_segment(revised, (1, 3))
    assert view.plain_text().splitlines() == [
        "00:02  Client: Hey guys, welcome to the new demo.",
        "00:03  You: Mm-hm.",
        "00:09  You: So …",
    ]
    assert view.committed_lines == 2
    view.add_segment(Segment(4, Side.AGENT, 9.0, 10.0, "So, let's look."))
    assert view.plain_text().splitlines()[-1] == "00:09  You: So, let's look."
    view.revise_segment(Segment(9, Side.AGENT, 0, 1, "unknown"), (9,))  # nothing to replace
    assert view.committed_lines == 3
