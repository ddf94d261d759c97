"""The agent's notes: a plain-text editor saved continuously (debounced, written by a worker,
atomically), key moments inserted with their call time, the checklist, and the export of the
ticket update to the clipboard and a file."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.calls.notes import (
    KeyMoment,
    NotesFile,
    notes_path,
    save_notes,
    ticket_path,
    ticket_update_markdown,
)
from app.events import CHECKLIST, CHECKLIST_LABELS, ChecklistTick, Summary, clock
from ui.theme import Theme
from ui.widgets.draft_note import DraftNoteView
from ui.workers import WorkerPool

AUTOSAVE_DELAY_MS = 1000
_LEADING_TIME = re.compile(r"^\[\d+:\d\d\]\s*")


DETAIL_FIELDS = {
    "client_name": "Client",
    "client_contact": "E-mail or phone",
    "ticket_id": "Ticket #",
    "subject": "Subject",
}
DETAILS_DELAY_MS = 800
EXPORT_CHOICES = {  # app.delivery.outbox targets that need the stored call
    "markdown": "Ticket update with the transcript (file)",
    "json": "Call record (JSON file)",
    "email": "Follow-up e-mail draft",
    "rt": "Send to Request Tracker",
    "webhook": "Send to the webhook",
}


class NotesPane(QWidget):
    saved = Signal(object)  # Path: a save finished
    exported = Signal(str)  # the ticket update's Markdown
    text_saving = Signal(str)  # the notes as they are being saved (for the call record)
    checklist_edited = Signal(str, bool)  # the agent ticked or unticked an item by hand
    details_edited = Signal(dict)  # field → text, after a short pause in typing
    export_requested = Signal(str)  # one of EXPORT_CHOICES
    summary_edited = Signal(object)  # Summary: the drafted note as the agent keeps it

    def __init__(
        self, theme: Theme, pool: WorkerPool, notes_dir: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._theme = theme
        self._pool = pool
        self._notes_dir = notes_dir
        self._file: NotesFile | None = None
        self._started: datetime | None = None
        self._sheet_has_call = False
        self._edits = 0
        self._saved_edit = 0
        self._saving = 0  # save jobs not yet reported back
        self.save_failed = False
        self.moments: list[KeyMoment] = []

        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText(
            "Notes for the ticket. Saved as you type; cues and flags are added with their time."
        )
        self.editor.document().setUndoRedoEnabled(True)
        self.editor.textChanged.connect(self._on_edited)

        self.checkboxes: dict[str, QCheckBox] = {}
        checklist = self._checklist = QWidget()
        checklist_layout = QVBoxLayout(checklist)
        for item in CHECKLIST:
            box = QCheckBox(CHECKLIST_LABELS[item])
            box.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            box.toggled.connect(self._update_checklist_title)
            box.clicked.connect(lambda checked, i=item: self.checklist_edited.emit(i, checked))
            checklist_layout.addWidget(box)
            self.checkboxes[item] = box
        checklist_layout.addStretch(1)

        self.tabs = QTabWidget()
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.addTab(self.editor, "Notes")
        self.draft = DraftNoteView(theme)
        self.draft.changed.connect(self.summary_edited)
        self.tabs.addTab(self.draft, "Ticket note")
        self.tabs.setTabToolTip(1, "Drafted from the call: accept, edit or remove each item")
        self.tabs.addTab(checklist, "")
        self.details: dict[str, QLineEdit] = {}
        details = QWidget()
        form = QFormLayout(details)
        for field, label in DETAIL_FIELDS.items():
            line = QLineEdit()
            line.textEdited.connect(self._on_details_edited)
            form.addRow(label, line)
            self.details[field] = line
        self.tabs.addTab(details, "Details")
        self._update_checklist_title()
        self._details_timer = QTimer(self)
        self._details_timer.setSingleShot(True)
        self._details_timer.setInterval(DETAILS_DELAY_MS)
        self._details_timer.timeout.connect(self.send_details)

        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.export_button = QToolButton()
        self.export_button.setText("Export ticket update")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.export_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.export_button.setToolTip(
            "Copy the ticket update (Markdown) and save it as a file; the arrow has more"
        )
        self.export_menu = QMenu(self.export_button)
        self.export_actions = {}
        for target, label in EXPORT_CHOICES.items():
            action = self.export_menu.addAction(label)
            action.triggered.connect(lambda _=False, t=target: self.export_requested.emit(t))
            self.export_actions[target] = action
        self.export_button.setMenu(self.export_menu)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignTop)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)

        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_DELAY_MS)
        self._autosave.timeout.connect(self.save_now)
        self.apply_theme(theme)

    # -- the sheet -----------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        return self._file.path if self._file else None

    @property
    def saving(self) -> bool:
        """Unsaved edits, or a save still being written."""
        return self._edits > self._saved_edit or self._saving > 0

    def begin_call(self, started: datetime) -> None:
        """A call started: notes typed before it belong to it; after an earlier call, the
        pane starts a fresh sheet (the earlier one is saved first)."""
        if self._sheet_has_call:
            self.save_now()
            self._file = None
            self.moments.clear()
            self.editor.blockSignals(True)
            self.editor.clear()
            self.editor.blockSignals(False)
            self._edits = self._saved_edit = 0
            for box in self.checkboxes.values():
                box.setChecked(False)
                box.setToolTip("")
            for line in self.details.values():
                line.clear()
            self.draft.reset()
        self._sheet_has_call = True
        if self._file is None:
            self._open_sheet(started)

    def _open_sheet(self, started: datetime) -> None:
        self._started = started
        self._file = NotesFile(notes_path(self._notes_dir, started))

    def _on_edited(self) -> None:
        if self._file is None:
            self._open_sheet(datetime.now())
        self._edits += 1
        # Throttle, not debounce: an agent typing without a pause is still saved every
        # second, so a crash loses at most about a second of typing.
        if not self._autosave.isActive():
            self._autosave.start()

    def save_now(self) -> None:
        """Write the current text now (on a worker) if anything is unsaved."""
        self._autosave.stop()
        if self._file is None or self._edits <= self._saved_edit:
            return
        self._saving += 1
        self.text_saving.emit(self.editor.toPlainText())
        self._pool.submit(
            "save notes",
            _save_version,
            self._file,
            self.editor.toPlainText(),
            self._edits,
            on_success=self._on_saved,
            on_failure=self._on_save_failed,
        )

    def _on_saved(self, result: tuple[NotesFile, int]) -> None:
        notes_file, edit = result
        self._saving -= 1
        self.save_failed = False
        if notes_file is self._file:
            self._saved_edit = max(self._saved_edit, edit)
        self.status_label.setText(f"Notes saved {datetime.now():%H:%M:%S}")
        self.status_label.setToolTip(str(notes_file.path))
        self.saved.emit(notes_file.path)

    def _on_save_failed(self, exc: BaseException) -> None:
        self._saving -= 1
        self.save_failed = True
        self.show_status(f"Notes NOT saved: {exc}. Free some disk space or check permissions.")
        self._autosave.start()  # try again
        self.saved.emit(None)

    # -- call details ----------------------------------------------------------------------
    def _on_details_edited(self, _text: str) -> None:
        self._details_timer.start()

    def details_values(self) -> dict[str, str]:
        return {field: line.text().strip() for field, line in self.details.items()}

    def send_details(self) -> None:
        """Hand the details on now (after a pause in typing, and at a call's start)."""
        self._details_timer.stop()
        self.details_edited.emit(self.details_values())

    def show_record(
        self,
        notes: str,
        checklist: dict[str, bool],
        details: dict[str, str],
        summary: Summary | None = None,
    ) -> None:
        """Show a stored call's notes, checklist, details and note (a recovered call)."""
        self.draft.reset(summary)
        self.save_now()
        self._file = None
        self._sheet_has_call = True
        self.moments.clear()
        self.editor.blockSignals(True)
        self.editor.setPlainText(notes)
        self.editor.blockSignals(False)
        self._edits = self._saved_edit = 0
        for item, box in self.checkboxes.items():
            box.setChecked(bool(checklist.get(item)))
        for field, line in self.details.items():
            line.setText(details.get(field, ""))

    # -- key moments and checklist -------------------------------------------------------
    def add_moment(self, moment: KeyMoment) -> None:
        """Record ``moment`` for the ticket and insert it as a line of the notes, without
        disturbing the line the agent is typing."""
        self.moments.append(moment)
        line = f"[{clock(moment.t)}] {moment.kind} — {_LEADING_TIME.sub('', moment.text)}"
        document = self.editor.document()
        cursor = QTextCursor(document)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        typing_on_last_line = (
            self.editor.textCursor().blockNumber() == document.blockCount() - 1
            and bool(cursor.block().text().strip())
        )
        if typing_on_last_line:
            cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock)
            cursor.insertText(line + "\n")
        else:
            if document.characterCount() > 1 and cursor.block().text():
                cursor.insertText("\n")
            cursor.insertText(line + "\n")

    def kept_summary(self) -> Summary | None:
        """The drafted note as the agent keeps it; None while nothing is drafted."""
        kept = self.draft.note.kept()
        return None if kept.empty else kept

    def show_summary_tab(self) -> None:
        self.tabs.setCurrentWidget(self.draft)

    def tick_checklist(self, tick: ChecklistTick) -> None:
        box = self.checkboxes.get(tick.item)
        if box is not None and not box.isChecked():
            box.setChecked(True)
            box.setToolTip(f"heard at {clock(tick.t)}")

    def checklist_state(self) -> dict[str, bool]:
        return {item: box.isChecked() for item, box in self.checkboxes.items()}

    def _update_checklist_title(self) -> None:
        done = sum(box.isChecked() for box in self.checkboxes.values())
        self.tabs.setTabText(
            self.tabs.indexOf(self._checklist), f"Checklist {done}/{len(CHECKLIST)}"
        )

    # -- export --------------------------------------------------------------------------
    def export(self, duration_s: float, mood_summary: str | None) -> str:
        """Copy the ticket update to the clipboard and save it next to the notes."""
        if self._file is None:
            self._open_sheet(datetime.now())
        assert self._file is not None and self._started is not None
        markdown = ticket_update_markdown(
            self._started,
            duration_s,
            self.editor.toPlainText(),
            self.moments,
            self.checklist_state(),
            mood_summary,
            self.kept_summary(),
        )
        QGuiApplication.clipboard().setText(markdown)
        target = ticket_path(self._file.path)
        self.show_status("Ticket update copied to the clipboard; saving the file…")
        self._autosave.stop()
        self._saving += 1
        self._pool.submit(
            "save notes and ticket update",
            _save_with_ticket,
            self._file,
            self.editor.toPlainText(),
            self._edits,
            target,
            markdown,
            on_success=lambda saved: self._on_exported(saved, target),
            on_failure=self._on_save_failed,
        )
        self.exported.emit(markdown)
        return markdown

    def _on_exported(self, saved: tuple[NotesFile, int], target: Path) -> None:
        self._on_saved(saved)
        self.show_status(f"Ticket update copied to the clipboard and saved to {target}")

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.status_label.setStyleSheet(f"color: {theme.muted_text};")


def _save_version(notes_file: NotesFile, text: str, edit: int) -> tuple[NotesFile, int]:
    """Worker thread: write one version of the notes (a newer saved version wins)."""
    notes_file.save(text, edit)
    return notes_file, edit


def _save_with_ticket(
    notes_file: NotesFile, text: str, edit: int, target: Path, markdown: str
) -> tuple[NotesFile, int]:
    """Worker thread: the notes as they are now, then the ticket update beside them."""
    saved = _save_version(notes_file, text, edit)
    save_notes(target, markdown)
    return saved
