"""Messages the agent must see — what went wrong and what to do — plus a progress line."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ui.theme import Theme


class MessageBar(QWidget):
    """Keyed messages ("models", "devices", "call", …), shown together, newest last."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._messages: dict[str, tuple[str, str]] = {}  # key → (level, text)
        self._actions: dict[str, Sequence[tuple[str, Callable[[], None]]]] = {}
        self.buttons: list[QPushButton] = []
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.progress_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(max(6, self.fontMetrics().height() // 2))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.label)
        self._button_row = QHBoxLayout()
        self._button_row.setContentsMargins(0, 0, 0, 0)
        self._button_row.addStretch(1)
        layout.addLayout(self._button_row)
        self.set_progress(None)
        self._refresh()

    def set_progress(self, text: str | None, percent: int = 0) -> None:
        """Show a progress line; ``None`` hides it."""
        shown = text is not None
        self.progress_label.setVisible(shown)
        self.progress.setVisible(shown)
        if shown:
            self.progress_label.setText(text)
            self.progress.setValue(percent)

    def show_message(
        self,
        key: str,
        text: str,
        level: str = "info",
        actions: Sequence[tuple[str, Callable[[], None]]] = (),
    ) -> None:
        """``level``: "info", "warning" or "error". ``actions``: buttons (label, what to do)
        shown under the messages until the message is cleared."""
        self._messages.pop(key, None)
        self._messages[key] = (level, text)
        self._actions.pop(key, None)
        if actions:
            self._actions[key] = actions
        self._refresh()

    def clear_message(self, key: str) -> None:
        self._actions.pop(key, None)
        if self._messages.pop(key, None) is not None:
            self._refresh()

    def _rebuild_buttons(self) -> None:
        for button in self.buttons:
            self._button_row.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        for actions in self._actions.values():
            for label, act in actions:
                button = QPushButton(label)
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # never steals the notes' focus
                button.clicked.connect(act)
                self._button_row.insertWidget(self._button_row.count() - 1, button)
                self.buttons.append(button)

    def text(self) -> str:
        return "\n".join(text for _, text in self._messages.values())

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._refresh()

    def _refresh(self) -> None:
        self._rebuild_buttons()
        self.label.setVisible(bool(self._messages))
        self.label.setText("\n".join(text for _, text in self._messages.values()))
        levels = {level for level, _ in self._messages.values()}
        if "error" in levels:
            style = f"background: {self._theme.error_background}; border-radius: 6px;"
        elif "warning" in levels:
            style = f"color: {self._theme.warning};"
        else:
            style = f"color: {self._theme.muted_text};"
        self.label.setStyleSheet(f"QLabel {{ {style} padding: 4px; }}")
