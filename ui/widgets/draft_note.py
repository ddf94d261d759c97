"""The drafted ticket note in the notes pane: reason, what was found, steps, outcome and
follow-up as editable items, each with its call time (a link to the transcript line), an
accept and a remove button. Drafts from the call keep arriving; what the agent accepted,
edited or removed stays as they left it (app/summary/editing.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.events import OUTCOME_WORDS, OUTCOMES, SUMMARY_SECTIONS, SUMMARY_TITLES, Summary, clock
from app.summary.editing import EditableNote, ItemKey, NoteItem
from ui.theme import Theme

EMPTY = {
    "reason": "The client's problem, once they tell it.",
    "cause": "What you find, once you say it.",
    "steps": "What you do or ask them to do.",
    "follow_up": "What you promise: an e-mail, a call back…",
}


class ItemText(QPlainTextEdit):
    """An item's text, wrapped over as many lines as it needs (an agent reads the whole
    sentence at a glance), edited in place; Enter finishes the edit."""

    edited = Signal(str)  # by the agent's typing (not when the draft sets it)

    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().setDocumentMargin(2)
        self._setting = False
        self.textChanged.connect(self._on_changed)
        self.document().documentLayout().documentSizeChanged.connect(lambda _size: self._fit())

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:
        self._setting = True
        try:
            self.setPlainText(text)
        finally:
            self._setting = False
        self._fit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.clearFocus()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _on_changed(self) -> None:
        if not self._setting:
            self.edited.emit(self.toPlainText())

    def _fit(self) -> None:
        lines = max(1, round(self.document().size().height()))
        height = lines * self.fontMetrics().lineSpacing() + 6
        if self.height() != height:
            self.setFixedHeight(height)


class ItemRow(QWidget):
    """One item: time link, editable text, accept, remove."""

    def __init__(self, view: DraftNoteView, item: NoteItem) -> None:
        super().__init__()
        self.key = item.key
        self.time = QToolButton()
        self.time.setAutoRaise(True)
        self.time.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.time.setToolTip("Show this line in the transcript")
        self.text = ItemText()
        self.accept = QToolButton()
        self.accept.setText("✓")
        self.accept.setCheckable(True)
        self.accept.setAutoRaise(True)
        self.accept.setToolTip("Keep this item as it is; later drafting leaves it alone")
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setAutoRaise(True)
        self.remove.setToolTip("Leave this item out of the ticket")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        top = Qt.AlignmentFlag.AlignTop
        layout.addWidget(self.time, 0, top)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.accept, 0, top)
        layout.addWidget(self.remove, 0, top)
        self.time.clicked.connect(lambda: view.jump(self.key))
        self.text.edited.connect(lambda text: view.edit(self.key, text))
        self.accept.clicked.connect(lambda: view.accept(self.key))
        self.remove.clicked.connect(lambda: view.remove(self.key))
        self.show_item(item)

    def show_item(self, item: NoteItem) -> None:
        self.time.setText(clock(item.item.t))
        self.time.setEnabled(item.item.segment_id is not None)
        if not self.text.hasFocus() and self.text.text() != item.item.text:
            self.text.setText(item.item.text)
        self.text.setToolTip(item.item.text)
        self.accept.setChecked(item.agents)
        font = self.text.font()
        font.setItalic(item.state == "drafted")
        self.text.setFont(font)


class DraftNoteView(QWidget):
    changed = Signal(object)  # Summary: the note as the agent keeps it, after their change
    line_requested = Signal(int)  # segment id of an item's transcript line

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = EditableNote()
        self._rows: dict[ItemKey, ItemRow] = {}
        self._sections: dict[str, QVBoxLayout] = {}
        self._empty: dict[str, QLabel] = {}
        self._headers: list[QLabel] = []

        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(2)
        for name in ("reason", "cause", "steps", "outcome", "follow_up"):
            header = QLabel(SUMMARY_TITLES[name])
            header.setStyleSheet("font-weight: bold;")
            self._headers.append(header)
            column.addWidget(header)
            if name == "outcome":
                column.addLayout(self._outcome_row())
                continue
            rows = QVBoxLayout()
            rows.setSpacing(0)
            empty = QLabel(EMPTY[name])
            empty.setWordWrap(True)
            rows.addWidget(empty)
            column.addLayout(rows)
            self._sections[name] = rows
            self._empty[name] = empty
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.apply_theme(theme)

    def _outcome_row(self) -> QHBoxLayout:
        self.outcome_status = QComboBox()
        for status in OUTCOMES:
            self.outcome_status.addItem(OUTCOME_WORDS[status], status)
        self.outcome_status.setToolTip("How the call ended; your choice stays")
        self.outcome_status.activated.connect(self._on_outcome_chosen)
        self.outcome_text = QLineEdit()
        self.outcome_text.setFrame(False)
        self.outcome_text.setPlaceholderText("the line that shows it")
        self.outcome_text.textEdited.connect(self._on_outcome_edited)
        row = QHBoxLayout()
        row.addWidget(self.outcome_status)
        row.addWidget(self.outcome_text, 1)
        return row

    # -- from the call -------------------------------------------------------------------
    def merge(self, draft: Summary) -> None:
        if self.note.merge(draft):
            self._refresh()
            if self.note.touched:  # the agent's note now holds the new drafted items too
                self.changed.emit(self.note.kept())

    def reset(self, summary: Summary | None = None) -> None:
        """A new call (or a recovered one, with its stored note)."""
        self.note = EditableNote()
        if summary is not None:
            self.note.merge(summary)
        self._refresh()

    # -- the agent -----------------------------------------------------------------------
    def accept(self, key: ItemKey) -> None:
        self.note.accept(key)
        self._after_agent()

    def edit(self, key: ItemKey, text: str) -> None:
        if text.strip():
            self.note.edit(key, text)
            self._after_agent(refresh=False)  # keep the cursor where the agent types

    def remove(self, key: ItemKey) -> None:
        self.note.remove(key)
        self._after_agent()

    def jump(self, key: ItemKey) -> None:
        segment_id = key[1]
        if segment_id is not None:
            self.line_requested.emit(segment_id)

    def _on_outcome_chosen(self, index: int) -> None:
        self.note.set_outcome(self.outcome_status.itemData(index))
        self._after_agent()

    def _on_outcome_edited(self, text: str) -> None:
        self.note.set_outcome(self.note.outcome.status, text)
        self._after_agent(refresh=False)

    def _after_agent(self, refresh: bool = True) -> None:
        if refresh:
            self._refresh()
        else:
            for row in self._rows.values():
                row.accept.setChecked(self._item(row.key).agents)
        self.changed.emit(self.note.kept())

    def _item(self, key: ItemKey) -> NoteItem:
        return next(i for i in self.note.items(key[0], removed=True) if i.key == key)

    # -- showing it ----------------------------------------------------------------------
    def _refresh(self) -> None:
        for name in SUMMARY_SECTIONS:
            layout = self._sections[name]
            items = self.note.items(name)
            wanted = {i.key for i in items}
            for key in [k for k in self._rows if k[0] == name and k not in wanted]:
                row = self._rows.pop(key)
                layout.removeWidget(row)
                row.deleteLater()
            for item in items:
                row = self._rows.get(item.key)
                if row is None:
                    row = self._rows[item.key] = ItemRow(self, item)
                else:
                    row.show_item(item)
                    layout.removeWidget(row)
            for position, item in enumerate(items):
                layout.insertWidget(position, self._rows[item.key])
            self._empty[name].setVisible(not items)
        outcome = self.note.outcome
        self.outcome_status.setCurrentIndex(OUTCOMES.index(outcome.status))
        if not self.outcome_text.hasFocus():
            self.outcome_text.setText(outcome.text)
            self.outcome_text.setCursorPosition(0)

    def rows(self, section: str) -> list[ItemRow]:
        """The rows shown for ``section``, in order (for tests and keyboard navigation)."""
        return [self._rows[i.key] for i in self.note.items(section)]

    def apply_theme(self, theme: Theme) -> None:
        for label in self._empty.values():
            label.setStyleSheet(f"color: {theme.muted_text}; font-style: italic;")
