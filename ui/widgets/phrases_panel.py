"""Suggested phrases for the current cue: click (or Alt+1…3) copies one to the clipboard;
optionally it is also added to the notes. Nothing here takes keyboard focus."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.theme import Theme, scaled_font

MAX_PHRASES = 3


class PhraseButton(QFrame):
    """A clickable, word-wrapped phrase (a QPushButton cannot wrap its text)."""

    clicked = Signal()

    def __init__(self, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("phrase")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"Copy to the clipboard (Alt+{number})")
        self.number_label = QLabel(f"{number}")
        self.number_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text_label = QLabel("")
        self.text_label.setWordWrap(True)
        self.text_label.setFont(scaled_font(self.font(), 1.1))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 5, 8, 5)
        layout.addWidget(self.number_label)
        layout.addWidget(self.text_label, 1)

    @property
    def phrase(self) -> str:
        return self.text_label.text()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)


class PhrasesPanel(QWidget):
    phrase_copied = Signal(str)  # the phrase now on the clipboard
    phrase_for_notes = Signal(str)  # the same, when "also add to notes" is ticked

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.header = QLabel("Say it like this — click to copy")
        self.add_to_notes = QCheckBox("also add to notes")
        self.add_to_notes.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.buttons = [PhraseButton(n + 1) for n in range(MAX_PHRASES)]
        header = QHBoxLayout()
        header.addWidget(self.header)
        header.addStretch(1)
        header.addWidget(self.add_to_notes)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(header)
        for number, button in enumerate(self.buttons):
            button.clicked.connect(lambda number=number: self.use_phrase(number))
            layout.addWidget(button)
        self.set_phrases(())
        self.apply_theme(theme)

    def set_phrases(self, phrases: tuple[str, ...]) -> None:
        shown = phrases[:MAX_PHRASES]
        for button, phrase in zip(self.buttons, shown, strict=False):
            button.text_label.setText(phrase)
        for index, button in enumerate(self.buttons):
            button.setVisible(index < len(shown))
        self.setVisible(bool(shown))

    def phrases(self) -> list[str]:
        return [b.phrase for b in self.buttons if not b.isHidden()]

    def use_phrase(self, index: int) -> None:
        """Copy phrase ``index`` (0-based) to the clipboard, if it is shown."""
        if index >= len(self.buttons) or self.buttons[index].isHidden():
            return
        phrase = self.buttons[index].phrase
        QGuiApplication.clipboard().setText(phrase)
        self.phrase_copied.emit(phrase)
        if self.add_to_notes.isChecked():
            self.phrase_for_notes.emit(phrase)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.header.setStyleSheet(f"color: {theme.muted_text};")
        self.setStyleSheet(
            f"#phrase {{ border: 1px solid {theme.cue_border}; border-radius: 6px; }}"
            f"#phrase:hover {{ background: {theme.cue_background}; }}"
        )
        for button in self.buttons:
            button.number_label.setStyleSheet(f"color: {theme.muted_text}; font-weight: bold;")
