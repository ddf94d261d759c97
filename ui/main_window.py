"""The Calmline window: call bar, messages, cue and phrases, client mood, live transcript and
notes — compact enough to sit beside the phone software."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, assert_never

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QInputDialog,
    QLineEdit,
    QMainWindow,
    QMenu,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.calls.exports import key_moment
from app.calls.mapping import cue_record, flag_record, incident_record
from app.calls.notes import KeyMoment
from app.calls.records import CallRecord
from app.delivery.outbox import Delivered
from app.events import (
    ChecklistTick,
    Committed,
    Cue,
    CueCleared,
    Degraded,
    Discarded,
    Event,
    Flag,
    IncidentNote,
    InputLost,
    InputRestored,
    MoodUpdate,
    Partial,
    Revised,
    Segment,
    SpeechStarted,
    SummaryDraft,
)
from app.pipeline.call import CallSetup
from app.pipeline.session import SessionStatus
from app.settings import Settings
from app.store import CallSummary
from app.store.sync import SyncResult
from audio.devices import InputDevice
from audio.sides import Side
from ui.call_controller import (
    CallController,
    CallOutcome,
    CallState,
    DeviceCall,
    ReplayCall,
    Services,
)
from ui.call_records import CallRecords, ExportRequest
from ui.history import HistoryWindow
from ui.loading import ModelOptions
from ui.theme import Theme, current_theme
from ui.widgets.call_bar import CallBar
from ui.widgets.cue_banner import CueBanner
from ui.widgets.message_bar import MessageBar
from ui.widgets.mood_view import MoodView
from ui.widgets.notes_pane import NotesPane
from ui.widgets.phrases_panel import MAX_PHRASES, PhrasesPanel
from ui.widgets.transcript_view import TranscriptView
from ui.workers import WorkerPool

DEFAULT_SIZE = (460, 820)
MINIMUM_SIZE = (380, 600)
SPLITTER_SIZES = [160, 320, 160]  # mood, transcript, notes (scaled to the space there is)
RESTORED_SHOWN_MS = 8000  # "the line is back" needs no action: it fades after a while


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: QSettings,
        notes_dir: Path,
        options: ModelOptions | None = None,
        services: Services | None = None,
        replay: ReplayCall | None = None,
        config: Settings | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.replay = replay
        self.config = config or Settings()
        self.theme: Theme = current_theme()
        self.pool = WorkerPool(self)
        services = services or Services()
        self.records = CallRecords(self.pool, self.config, services.open_store, self)
        # the window's calls take out the personal data settings.toml names
        options = replace(options or ModelOptions(), redact=tuple(self.config.redact))
        self.controller = CallController(self.pool, options, services, self, self.records)
        self._call_seconds = 0.0
        self._close_requested = False
        self._ready_to_close = False
        self._devices: list[InputDevice] = []
        self._history: HistoryWindow | None = None

        self.setWindowTitle("Calmline")
        self.setMinimumSize(*MINIMUM_SIZE)
        self.call_bar = CallBar(self.theme)
        self.messages = MessageBar(self.theme)
        self.cue_banner = CueBanner(self.theme)
        self.phrases = PhrasesPanel(self.theme)
        self.mood = MoodView(self.theme)
        self.transcript = TranscriptView(self.theme)
        self.notes = NotesPane(self.theme, self.pool, notes_dir)
        self._build_layout()
        self._build_actions()
        self._connect()
        self._restore_settings()
        self.notes.editor.setFocus()

    # -- construction --------------------------------------------------------------------
    def _build_layout(self) -> None:
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.mood)
        splitter.addWidget(self.transcript)
        splitter.addWidget(self.notes)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setStretchFactor(2, 3)
        splitter.setSizes(SPLITTER_SIZES)
        self.splitter = splitter

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        layout.addWidget(self.call_bar)
        layout.addWidget(self.messages)
        layout.addWidget(self.cue_banner)
        layout.addWidget(self.phrases)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _build_actions(self) -> None:
        call_menu = self.menuBar().addMenu("&Call")
        self.start_action = self._action(call_menu, "&Start call", "Ctrl+Return", self._start)
        self.stop_action = self._action(call_menu, "S&top call", "Ctrl+.", self._stop)
        self.dismiss_action = self._action(call_menu, "&Dismiss cue", "Esc", self._dismiss_cue)
        self.export_action = self._action(call_menu, "&Export ticket update", "Ctrl+E",
                                          self._export)  # fmt: skip
        call_menu.addSeparator()
        self._action(call_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        view_menu = self.menuBar().addMenu("&View")
        self.on_top_action = view_menu.addAction("Always on &top")
        self.on_top_action.setCheckable(True)
        self.on_top_action.toggled.connect(self._set_on_top)
        self.refresh_action = self._action(view_menu, "&Refresh inputs", "F5",
                                           self.controller.list_devices)  # fmt: skip
        self.history_action = self._action(view_menu, "Call &history…", "Ctrl+H",
                                           self.open_history)  # fmt: skip
        for number in range(MAX_PHRASES):
            action = QAction(self)
            action.setShortcut(QKeySequence(f"Alt+{number + 1}"))
            action.triggered.connect(lambda _=False, n=number: self.phrases.use_phrase(n))
            self.addAction(action)

    @staticmethod
    def _action(menu: QMenu, text: str, shortcut: Any, slot: Callable[[], Any]) -> QAction:
        action = menu.addAction(text)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda *_: slot())
        return action

    def _connect(self) -> None:
        c = self.controller
        c.state_changed.connect(self._on_state)
        c.loading_progress.connect(self.messages.set_progress)
        c.models_loaded.connect(self._on_models_loaded)
        c.models_failed.connect(self._on_models_failed)
        c.devices_listed.connect(self._on_devices)
        c.devices_failed.connect(lambda text: self.messages.show_message("devices", text, "error"))
        c.call_started.connect(self._on_call_started)
        c.call_failed.connect(self._on_call_failed)
        c.call_finished.connect(self._on_call_finished)
        c.status_polled.connect(self._on_status)
        c.levels_polled.connect(self._on_levels)
        c.inputs_checked.connect(self._on_inputs_checked)
        c.event_received.connect(self._on_event)
        self.call_bar.start_clicked.connect(self._start)
        self.call_bar.stop_clicked.connect(self._stop)
        self.call_bar.devices_chosen.connect(self._on_devices_chosen)
        self.cue_banner.dismiss_clicked.connect(self._dismiss_cue)
        self.phrases.phrase_copied.connect(
            lambda phrase: self.notes.show_status(f"Copied: “{phrase}”")
        )
        self.phrases.phrase_for_notes.connect(
            lambda phrase: self.notes.add_moment(KeyMoment(self._call_seconds, "said", phrase))
        )
        self.notes.export_button.clicked.connect(self._export)
        self.notes.export_requested.connect(self._export_to)
        self.notes.text_saving.connect(self.records.save_notes)
        self.notes.checklist_edited.connect(self.records.set_checklist)
        self.notes.details_edited.connect(lambda fields: self.records.update_details(**fields))
        self.notes.summary_edited.connect(self.records.set_summary)
        self.notes.draft.line_requested.connect(self.transcript.show_line)
        self.records.opened.connect(self._on_records_opened)
        self.records.open_failed.connect(
            lambda text: self.messages.show_message("records", text, "warning")
        )
        self.records.recovered.connect(self._show_record)
        self.records.exported.connect(self._on_exported)
        self.records.export_failed.connect(
            lambda text: self.messages.show_message("export", text, "error")
        )
        self.records.outbox_changed.connect(self._on_outbox)
        self.records.synced.connect(self._on_synced)
        self.records.saving_problem.connect(self._on_saving_problem)
        c.recording_failed.connect(
            lambda text: self.messages.show_message("records", text, "warning")
        )
        self.notes.saved.connect(lambda _path: self._continue_closing())
        self.pool.idle.connect(self._continue_closing)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_colour_scheme)

    def _restore_settings(self) -> None:
        splitter_state = self.settings.value("window/splitter", QByteArray(), type=QByteArray)
        if not splitter_state.isEmpty():
            self.splitter.restoreState(splitter_state)
        on_top = self.settings.value("window/always_on_top", False, type=bool)
        self.on_top_action.setChecked(bool(on_top))
        # after the window flags: changing them can reset the geometry
        geometry = self.settings.value("window/geometry", QByteArray(), type=QByteArray)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(*DEFAULT_SIZE)
        self.phrases.add_to_notes.setChecked(
            bool(self.settings.value("phrases/add_to_notes", False, type=bool))
        )

    # -- start-up ------------------------------------------------------------------------
    def begin(self) -> None:
        """After the window is shown: load models, open the call database and find inputs,
        all in the background."""
        self.records.open()
        self.controller.load_models()
        if self.replay is None:
            self.controller.list_devices()
        else:
            name = self.replay.path.name
            self.call_bar.show_replay({side: f"{name} — {side.value} channel" for side in Side})

    def _on_models_loaded(self, models: CallSetup) -> None:
        self.messages.set_progress(None)
        for index, warning in enumerate(models.warnings):
            self.messages.show_message(f"models-{index}", warning, "warning")
        if models.sentiment is None:
            reason = next((w for w in models.warnings if "mood" in w), "turned off")
            self.mood.set_unavailable(reason)
        self._update_actions()
        if self.replay is not None:
            self.controller.start(self.replay)

    def _on_models_failed(self, message: str) -> None:
        self.messages.set_progress(None)
        self.messages.show_message(
            "models",
            f"{message}\nCalls cannot start until this is fixed; then restart Calmline.",
            "error",
        )
        self._update_actions()

    def _on_devices(self, devices: list[InputDevice]) -> None:
        self._devices = devices
        preferred = {
            side: str(self.settings.value(f"devices/{side.value}", "") or "") for side in Side
        }
        self.call_bar.set_devices(devices, preferred)
        if devices:
            self.messages.clear_message("devices")
        else:
            self.messages.show_message(
                "devices",
                "No audio inputs found. Plug in your headset and connect the phone line "
                "(or its loopback device), then choose View ▸ Refresh inputs (F5).",
                "error",
            )
        self._on_devices_chosen()

    def _on_devices_chosen(self, *_: Any) -> None:
        """Show the chosen inputs' levels right away, before the call starts."""
        self._update_actions()
        agent = self.call_bar.chosen_device(Side.AGENT)
        client = self.call_bar.chosen_device(Side.CLIENT)
        if self.replay is None and not self._close_requested and None not in (agent, client):
            self.controller.check_inputs({Side.AGENT: agent, Side.CLIENT: client})
        else:
            self.controller.check_inputs(None)

    def _on_levels(self, levels: dict[Side, float]) -> None:
        for side, level in levels.items():
            self.call_bar.meters[side].set_level(level)

    def _on_inputs_checked(self, errors: dict[Side, str]) -> None:
        for side in Side:
            if side in errors:
                self.messages.show_message(f"input-{side.value}", errors[side], "error")
            else:
                self.messages.clear_message(f"input-{side.value}")

    # -- the call ------------------------------------------------------------------------
    def _can_start(self) -> bool:
        if self.controller.state is not CallState.READY:
            return False
        if self.replay is not None:
            return True
        agent = self.call_bar.chosen_device(Side.AGENT)
        client = self.call_bar.chosen_device(Side.CLIENT)
        return agent is not None and client is not None

    def _update_actions(self, *_: Any) -> None:
        state = self.controller.state
        live = state is CallState.LIVE
        can_start = self._can_start()
        self.start_action.setEnabled(can_start)
        self.stop_action.setEnabled(live)
        if state is CallState.FINISHING:
            self.call_bar.set_finishing()
        else:
            self.call_bar.start_button.setEnabled(can_start or live)

    def _on_state(self, state: CallState) -> None:
        if state is CallState.LIVE:
            self.call_bar.set_live(True)
        elif state in (CallState.READY, CallState.UNAVAILABLE):
            self.call_bar.set_live(False)
        self._update_actions()

    def _start(self) -> None:
        if not self._can_start():
            return
        self.messages.clear_message("call")
        if self.replay is not None:
            self.controller.start(self.replay)
            return
        agent = self.call_bar.chosen_device(Side.AGENT)
        client = self.call_bar.chosen_device(Side.CLIENT)
        assert agent is not None and client is not None
        for side in Side:
            self.settings.setValue(f"devices/{side.value}", self.call_bar.chosen_name(side))
        if agent == client:
            self.messages.show_message(
                "call",
                "Both sides use the same input: the transcript will mix both voices. Pick "
                "the phone line (or its loopback) for the client.",
                "warning",
            )
        self.controller.start(DeviceCall(agent, client))

    def _stop(self) -> None:
        self.controller.stop()

    def _on_call_started(self, started: Any) -> None:
        self.transcript.clear()
        self.mood.clear()
        self.cue_banner.clear_cue()
        self.phrases.set_phrases(())
        self.notes.begin_call(started)
        self.notes.send_details()  # details typed before the call belong to it
        if self.notes.editor.toPlainText().strip():
            self.records.save_notes(self.notes.editor.toPlainText())
        self._call_seconds = 0.0
        self.setWindowTitle("Calmline — on a call")

    def _on_call_failed(self, message: str) -> None:
        self.messages.show_message("call", message, "error")
        self._continue_closing()

    def _on_call_finished(self, outcome: CallOutcome) -> None:
        self.setWindowTitle("Calmline")
        self.records.sync()
        self.cue_banner.clear_cue()
        self.phrases.set_phrases(())
        self.notes.save_now()
        self.notes.show_summary_tab()  # the drafted note is what the agent reviews now
        text = (
            "Call ended; everything captured is transcribed. Check the drafted ticket note, "
            "then export."
        )
        level = "info"
        if outcome.problems:
            text = "Call ended. " + " ".join(outcome.problems)
            level = "warning"
        self.messages.show_message("call", text, level)
        self._continue_closing()

    def _on_status(self, status: SessionStatus) -> None:
        self._call_seconds = status.call_seconds
        self.call_bar.show_status(status)
        self.mood.set_call_time(status.call_seconds)
        for side, error in status.errors.items():
            self.messages.show_message(f"input-{side.value}", error, "error")

    # -- the call database -------------------------------------------------------------
    def _on_records_opened(self, interrupted: list[CallSummary]) -> None:
        self.messages.clear_message("records")
        if not interrupted:
            return
        latest = interrupted[0]
        self.messages.show_message(
            "recover",
            f"Calmline closed unexpectedly during a call on {latest.started_at:%A at %H:%M} "
            f"({latest.segments} lines saved). Recover it to finish its notes and export it?",
            "warning",
            actions=[
                ("Recover the call", lambda: self._recover(latest.id)),
                ("Not now", lambda: self.messages.clear_message("recover")),
            ],
        )

    def _recover(self, call_id: int) -> None:
        self.messages.clear_message("recover")
        if self.controller.in_call:
            self.messages.show_message(
                "recover", "Finish this call first; then recover the other one.", "warning"
            )
            return
        self.records.recover(call_id)

    def _show_record(self, record: CallRecord) -> None:
        """A stored call becomes the window's current call (notes, checklist, transcript)."""
        self.transcript.clear()
        for s in record.segments:
            self.transcript.add_segment(
                Segment(s.seq, Side(s.speaker), s.start, s.end, s.text, s.latency_s, s.sentiment)
            )
        info = record.info
        details = {"client_name": info.client_name, "client_contact": info.client_contact,
                   "ticket_id": info.ticket_id, "subject": info.subject}  # fmt: skip
        self.notes.show_record(record.notes, record.checklist, details, record.summary)
        self._call_seconds = record.duration_s
        self.messages.show_message(
            "recover",
            f"Recovered the call of {info.started_at:%A %H:%M}: finish the notes, then export.",
        )

    def _export_to(self, target: str) -> None:
        self.notes.save_now()
        self.notes.send_details()
        self.notes.show_status(f"Exporting ({target})…")
        self.records.export(ExportRequest(target, include_transcript=target == "markdown"))

    def _on_exported(self, outcome: Delivered) -> None:
        level = {"done": "info", "pending": "warning", "auth": "warning"}.get(outcome.status)
        names = {"rt": "Request Tracker", "webhook": "Webhook", "email": "E-mail draft",
                 "json": "Call record", "markdown": "Ticket update"}  # fmt: skip
        text = f"{names.get(outcome.target, outcome.target)}: {outcome.message}"
        if level is None:
            self.messages.show_message("export", text, "error")
        elif level == "warning":
            self.messages.show_message("export", text, level)
        else:
            self.messages.clear_message("export")
            self.notes.show_status(text)
        if outcome.status == "done" and outcome.target == "email":
            QDesktopServices.openUrl(QUrl.fromLocalFile(outcome.result))  # the mail client

    def _on_outbox(self, waiting: list) -> None:
        if not waiting:
            self.messages.clear_message("outbox")
            return
        needs_credentials = any(w.status == "auth" for w in waiting)
        text = (
            f"{len(waiting)} export{'s' if len(waiting) != 1 else ''} waiting in the outbox "
            f"({waiting[-1].last_error})."
        )
        actions = [("Retry now", lambda: self.records.retry_outbox(force=True))]
        if needs_credentials:
            text += " Enter the Request Tracker password, then it is sent."
            actions.insert(0, ("Enter RT password…", self._ask_rt_password))
        else:
            text += " Calmline retries by itself."
        self.messages.show_message("outbox", text, "warning", actions=actions)

    def _on_saving_problem(self, problem: str | None) -> None:
        if problem is None:
            self.messages.clear_message("saving")
            return
        self.messages.show_message(
            "saving",
            f"The call cannot be saved right now — {problem}. Calmline keeps it in memory and "
            "retries; nothing is lost while this window stays open.",
            "error",
        )

    def _on_synced(self, result: SyncResult) -> None:
        if result.error:
            self.messages.show_message(
                "team",
                f"The team database cannot be reached ({result.error}). {result.waiting} "
                "call(s) are kept on this PC and copied when it is back.",
                "warning",
            )
        else:
            self.messages.clear_message("team")

    def open_history(self) -> None:
        """The call history (and, for supervisors, the flagged calls) in its own window."""
        if self._history is not None and not self._history.isVisible():
            # Closing it closed its database and its live alerts: open a fresh one.
            self._history.deleteLater()
            self._history = None
        if self._history is None:
            url = self.records.team_url or (self.config.store or None)
            self._history = HistoryWindow(self.pool, url)
            self._history.begin()
        self._history.show()
        self._history.raise_()
        self._history.refresh()

    def _ask_rt_password(self) -> None:
        """A 401 asks for the credentials again; they go to the keyring (on a worker)."""
        rt = self.config.rt
        secret, ok = QInputDialog.getText(
            self,
            "Request Tracker",
            f"Password for {rt.user or 'your user'} at {rt.url or 'RT'}\n"
            "(kept in the system keyring, never in a file):",
            QLineEdit.EchoMode.Password,
        )
        if ok and secret:
            self.records.store_rt_secret(secret)

    def _dismiss_cue(self) -> None:
        self.controller.dismiss_cue()

    def _export(self) -> None:
        self.notes.export(self._call_seconds, self.mood.summary())

    # -- events from the call ------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        match event:
            case Revised():
                self.transcript.revise_segment(event.segment, event.replaces)
            case Committed():
                self.transcript.add_segment(event.segment)
                self.call_bar.note_latency(event.segment.latency_s)
            case Partial():
                self.transcript.set_interim(event)
            case MoodUpdate():
                self.mood.add_update(event)
            case Cue():
                self.cue_banner.show_cue(event)
                self.phrases.set_phrases(event.phrases)
                self._add_moment(key_moment(cue_record(event)))
            case CueCleared():
                self.cue_banner.clear_cue(event)
                if self.cue_banner.cue is None:
                    self.phrases.set_phrases(())
            case Flag():
                self._add_moment(key_moment(flag_record(event)))
            case IncidentNote():
                self._add_moment(key_moment(incident_record(event)))
            case ChecklistTick():
                self.notes.tick_checklist(event)
            case Degraded():
                self.messages.show_message(
                    f"degraded-{event.component}",
                    f"{event.message} The call goes on with what still works.",
                    "warning",
                )
            case InputLost() | InputRestored():
                self._on_input_change(event)
            case SummaryDraft():
                self.notes.draft.merge(event.summary)
            case Discarded() | SpeechStarted():
                pass  # nothing to show: no words yet (or none were heard)
            case _:
                assert_never(event)

    def _add_moment(self, moment: KeyMoment | None) -> None:
        if moment is not None:
            self.notes.add_moment(moment)

    def _on_input_change(self, event: InputLost | InputRestored) -> None:
        key = f"input-{event.speaker.value}"
        what = "Client line" if event.speaker is Side.CLIENT else "Agent microphone"  # ticket
        if isinstance(event, InputLost):
            self.messages.show_message(key, event.message, "error")
            self.notes.add_moment(KeyMoment(event.t, "input", f"{what} lost: {event.reason}"))
            return
        self.messages.show_message(key, event.message, "info")
        back = f"{what} back after {event.after_s:.0f} s"
        self.notes.add_moment(KeyMoment(event.t, "input", back))

        def clear_if_still_shown() -> None:
            if event.message in self.messages.text().splitlines():
                self.messages.clear_message(key)

        QTimer.singleShot(RESTORED_SHOWN_MS, clear_if_still_shown)

    # -- window --------------------------------------------------------------------------
    def _set_on_top(self, on_top: bool) -> None:
        self.settings.setValue("window/always_on_top", on_top)
        if bool(self.windowFlags() & Qt.WindowType.WindowStaysOnTopHint) != on_top:
            visible = self.isVisible()
            self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on_top)  # hides the window
            if visible:
                self.show()

    def _on_colour_scheme(self, *_: Any) -> None:
        self.theme = current_theme()
        for widget in (self.call_bar, self.messages, self.cue_banner, self.phrases, self.mood,
                       self.transcript, self.notes):  # fmt: skip
            widget.apply_theme(self.theme)

    @property
    def closing(self) -> bool:
        return self._close_requested

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing during a call: stop capture, finish transcribing, save the notes, then
        close — all on workers; the window says it is finishing meanwhile."""
        if self._ready_to_close:
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/splitter", self.splitter.saveState())
            self.settings.setValue("phrases/add_to_notes", self.phrases.add_to_notes.isChecked())
            self.settings.sync()
            self.pool.release_threads()
            event.accept()
            return
        event.ignore()
        if not self._close_requested:
            self._close_requested = True
            self.controller.check_inputs(None)
            self.notes.send_details()
            if self._history is not None:
                self._history.close()
            self.notes.save_failed = False  # try once more
            self.notes.save_now()
            if self.controller.in_call:
                self.messages.show_message(
                    "closing",
                    "Finishing… transcribing what was captured and saving your notes. "
                    "Calmline closes by itself in a moment.",
                )
                self.controller.stop()
        self._continue_closing()

    def _continue_closing(self) -> None:
        if not self._close_requested or self._ready_to_close:
            return
        if self.controller.in_call:
            if self.controller.state is CallState.LIVE:
                self.controller.stop()
            return
        if self.notes.save_failed:
            self._close_requested = False
            self._on_devices_chosen()
            self.messages.show_message(
                "closing",
                "Your notes could not be saved, so Calmline stayed open. Copy them somewhere "
                "safe (or free disk space), then close again.",
                "error",
            )
            return
        if self.notes.saving:
            self.notes.save_now()
            return
        if self.pool.busy or self.controller.checking_inputs:
            return
        if not self.records.closed:
            self.records.close()  # finishes the call's writes on a worker, then idle again
            return
        self._ready_to_close = True
        QTimer.singleShot(0, self.close)  # not from inside closeEvent: Qt ignores that
