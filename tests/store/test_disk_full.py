"""A full disk while a call is being saved, for real: a small tmpfs filled up. Writes fail,
are kept in memory and retried, the agent is told, and nothing is lost once there is space
again — the call record (SQLite) and the notes file alike."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.calls.records import CallInfo
from app.events import Committed, Segment
from app.store import CallRecorder, CallStore
from app.store.calls import new_uid
from audio.sides import Side
from ui.theme import LIGHT
from ui.widgets.notes_pane import NotesPane
from ui.workers import WorkerPool


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MB tmpfs (needs root, as in CI), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs to fill up (run the tests as root): {done.stderr}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte; remove the returned file to free the space again."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(descriptor, b"\0" * 4096)
    except OSError:  # ENOSPC: full
        pass
    finally:
        os.close(descriptor)
    return filler


@pytest.mark.reliability(
    "fault", "Disk full while a call is saved (filled tmpfs): 40 lines and notes"
)
def test_call_writes_wait_in_memory_while_the_disk_is_full(
    small_disk, monkeypatch, reliability_note
):
    monkeypatch.setattr("app.store.recorder.RETRY_FIRST_S", 0.05)
    monkeypatch.setattr("app.store.recorder.RETRY_MAX_S", 0.2)
    store = CallStore.open(f"sqlite:///{small_disk / 'calls.db'}")
    recorder = CallRecorder(store, CallInfo(uid=new_uid(), started_at=datetime.now(UTC)))
    filler = fill(small_disk)
    long_line = "the printer on the third floor jams again " * 40
    for n in range(1, 41):
        recorder(Committed(Segment(n, Side.CLIENT, n, n + 1, f"{n}: {long_line}")))
    recorder.save_notes("Printer jams; replaced the roller. " * 50)
    assert not recorder.flush(timeout=2), "the disk is full: writes must be waiting"
    assert recorder.problem and "full" in recorder.problem.lower()
    assert recorder.unsaved > 0

    filler.unlink()  # space is back
    assert recorder.finish(timeout=30)
    assert recorder.problem is None
    record = store.get(recorder.call_id)
    assert [s.seq for s in record.segments] == list(range(1, 41))
    assert record.notes.startswith("Printer jams") and record.info.status == "ended"
    reliability_note("40 of 40 lines and the notes kept once space was back; 0 lost")
    store.close()


@pytest.mark.reliability("fault", "Disk full while the agent types notes")
def test_notes_typed_while_the_disk_is_full_are_saved_when_space_is_back(qtbot, small_disk):
    pool = WorkerPool()
    pane = NotesPane(LIGHT, pool, small_disk / "notes")
    qtbot.addWidget(pane)
    pane.begin_call(datetime(2026, 3, 4, 14, 5))
    filler = fill(small_disk)
    qtbot.keyClicks(pane.editor, "Client could not log in; ")
    qtbot.waitUntil(lambda: pane.save_failed, timeout=10_000)
    assert "NOT saved" in pane.status_label.text()
    qtbot.keyClicks(pane.editor, "password reset.")
    filler.unlink()
    qtbot.waitUntil(lambda: not pane.saving and not pane.save_failed, timeout=15_000)
    assert pane.path.read_text(encoding="utf-8") == "Client could not log in; password reset."
    qtbot.waitUntil(lambda: not pool.busy)
    pool.release_threads()


@pytest.mark.reliability("fault", "Disk full: the window warns, then clears when space is back")
def test_the_window_warns_while_the_call_cannot_be_saved(qtbot, small_disk, monkeypatch, tmp_path):
    from PySide6.QtCore import QSettings

    from app.pipeline.call import CallSetup
    from ui.call_controller import Services
    from ui.main_window import MainWindow

    monkeypatch.setattr("app.store.recorder.RETRY_FIRST_S", 0.05)
    monkeypatch.setattr("app.store.recorder.RETRY_MAX_S", 0.2)
    services = Services(
        list_devices=list,
        load_models=lambda options, progress: CallSetup(object(), None, None),
        open_store=lambda _: CallStore.open(f"sqlite:///{small_disk / 'calls.db'}"),
    )
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, small_disk / "notes", services=services)
    qtbot.addWidget(window)
    window.begin()
    qtbot.waitUntil(lambda: window.records.available, timeout=10_000)
    recorder = window.records.start_recording(CallInfo(uid=new_uid(), started_at=datetime.now(UTC)))
    filler = fill(small_disk)
    recorder(Committed(Segment(1, Side.CLIENT, 0.0, 2.0, "x" * 3000)))
    qtbot.waitUntil(lambda: "cannot be saved" in window.messages.text(), timeout=10_000)
    filler.unlink()
    qtbot.waitUntil(lambda: "cannot be saved" not in window.messages.text(), timeout=15_000)
    assert window.records.end_recording() is None
    assert [s.text for s in window.records.store.get(recorder.call_id).segments] == ["x" * 3000]
