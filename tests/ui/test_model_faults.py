"""Models that cannot be loaded, for real: damaged copies of the shipped model files go
through the window's real loader. Without the client-mood model the call runs with
transcripts and coaching and the window says what is missing; without speech-to-text no
call can start, and the window says which file is damaged and what to do."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil

import pytest
from support.window import REPLAY_PACE, close_and_wait, open_window, private_store

from app.paths import DEMO_CALL
from models.sentiment import default_model_dir
from models.whisper_files import resolve_whisper
from ui.call_controller import CallState, ReplayCall, Services
from ui.loading import ModelOptions, load_models


def damaged_copy(folder, name: str, destination, keep_bytes: int):
    """A copy of a model folder whose file ``name`` is cut short, like a broken download."""
    shutil.copytree(folder, destination)
    target = destination / name
    target.write_bytes(target.read_bytes()[:keep_bytes])
    return destination


@pytest.mark.slow
@pytest.mark.reliability("fault", "The client-mood model is damaged when Calmline starts")
def test_a_damaged_mood_model_leaves_a_working_call(
    qtbot, settings, tmp_path, no_thread_left_running, reliability_note
):
    broken = damaged_copy(default_model_dir(), "model.onnx", tmp_path / "mood", 100_000)
    options = ModelOptions(sentiment=str(broken))
    services = Services(load_models=load_models, open_store=private_store(tmp_path))
    window = open_window(qtbot, settings, tmp_path, options=options, services=services,
                         replay=ReplayCall(DEMO_CALL, REPLAY_PACE))  # fmt: skip
    qtbot.waitUntil(lambda: window.controller.state is CallState.LIVE, timeout=120_000)
    message = window.messages.text()
    assert "Client mood unavailable" in message and "model.onnx" in message
    assert window.mood.word_label.text() == "Client mood unavailable"
    qtbot.waitUntil(lambda: window.cue_banner.cue is not None, timeout=120_000)
    qtbot.waitUntil(lambda: window.controller.state is CallState.READY, timeout=180_000)
    lines = window.transcript.committed_lines
    assert lines >= 10 and "Client:" in window.transcript.plain_text()
    close_and_wait(qtbot, window)
    reliability_note(
        f"mood model cut to 100 kB: window said so; the demo call still gave {lines} lines "
        f"and the coach's cues"
    )


@pytest.mark.reliability("fault", "The speech-to-text model is damaged when Calmline starts")
def test_a_damaged_whisper_model_names_the_file_and_the_fix(
    qtbot, settings, tmp_path, no_thread_left_running
):
    shipped = resolve_whisper("tiny.en").path
    broken = damaged_copy(shipped, "model.bin", tmp_path / "whisper", 1_000_000)
    options = ModelOptions(whisper=str(broken))
    services = Services(load_models=load_models, list_devices=list)
    window = open_window(qtbot, settings, tmp_path, options=options, services=services)
    qtbot.waitUntil(lambda: window.controller.state is CallState.UNAVAILABLE, timeout=60_000)
    message = window.messages.text()
    assert "A model could not be loaded" in message and str(broken) in message
    assert "damaged" in message and "reinstall" in message
    assert not window.call_bar.start_button.isEnabled()
    close_and_wait(qtbot, window)
