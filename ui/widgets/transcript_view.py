"""The live transcript: committed lines per speaker, interim text in a lighter style at the
end (replaced as it changes, removed when committed), revised lines rewritten in place, and
auto-scroll that pauses while the agent reads further up, with a "Jump to live" button."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPushButton, QTextBrowser, QVBoxLayout, QWidget

from app.events import Partial, Segment, clock
from audio.sides import Side
from ui.theme import Theme

LABELS = {Side.AGENT: "You", Side.CLIENT: "Client"}
BOTTOM_SLACK_PX = 4


class TranscriptView(QWidget):
    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._interims: dict[Side, Partial] = {}
        self._interim_start = 0  # document position where the interim lines begin
        self._segments: list[Segment] = []  # committed lines, in the order shown
        self._positions: list[int] = []  # document position where each of them begins
        self._following = True
        self._scrolling_to_live = False

        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the notes
        self.text.setPlaceholderText("The conversation appears here when a call starts.")
        self.text.document().setUndoRedoEnabled(False)
        self.text.document().setDocumentMargin(6)
        self.jump_button = QPushButton("↓ Jump to live")
        self.jump_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.jump_button.setVisible(False)
        self.jump_button.clicked.connect(self.jump_to_live)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.jump_button, 0, Qt.AlignmentFlag.AlignRight)

        bar = self.text.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)

    # -- content -------------------------------------------------------------------------
    @property
    def committed_lines(self) -> int:
        return len(self._segments)

    @property
    def following(self) -> bool:
        return self._following

    def add_segment(self, segment: Segment) -> None:
        self._interims.pop(segment.speaker, None)
        self._rewrite_from(len(self._segments), [segment])

    def revise_segment(self, segment: Segment, replaces: tuple[int, ...]) -> None:
        """Lines ``replaces`` become ``segment``: the document is rewritten from the first
        of them (a revision covers the speaker's last few lines, so little is redrawn)."""
        gone = set(replaces) | {segment.id}
        first = next((i for i, s in enumerate(self._segments) if s.id in gone), None)
        if first is None:
            return
        kept = [s for s in self._segments[first:] if s.id not in gone]
        self._rewrite_from(first, sorted([segment, *kept], key=lambda s: s.start))

    def set_interim(self, partial: Partial) -> None:
        if partial.text:
            self._interims[partial.speaker] = partial
        elif self._interims.pop(partial.speaker, None) is None:
            return
        self._rewrite_from(len(self._segments), [])

    def clear(self) -> None:
        self._interims.clear()
        self._interim_start = 0
        self._segments.clear()
        self._positions.clear()
        self.text.clear()
        self.jump_to_live()

    def plain_text(self) -> str:
        return self.text.toPlainText()

    def show_line(self, segment_id: int) -> bool:
        """Scroll to line ``segment_id`` and select it (a note item's link); live following
        pauses until "Jump to live". False if the line is not shown."""
        index = next((i for i, s in enumerate(self._segments) if s.id == segment_id), None)
        if index is None:
            return False
        self._following = False
        self.jump_button.setVisible(True)
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(self._positions[index])
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        self.text.setTextCursor(cursor)
        self.text.ensureCursorVisible()
        return True

    def _rewrite_from(self, index: int, lines: list[Segment]) -> None:
        """Replace committed lines ``index``… (and the interim lines after them) by
        ``lines``, then write the interim lines again."""
        start = self._positions[index] if index < len(self._positions) else self._interim_start
        cursor = QTextCursor(self.text.document())
        cursor.beginEditBlock()
        cursor.setPosition(start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        del self._segments[index:], self._positions[index:]
        for line in lines:
            self._positions.append(cursor.position())
            self._segments.append(line)
            self._write_line(cursor, line.start, line.speaker, line.text, False)
        self._interim_start = cursor.position()
        for partial in sorted(self._interims.values(), key=lambda p: p.start):
            self._write_line(
                cursor, partial.start, partial.speaker, partial.text.rstrip(" .…") + " …", True
            )
        cursor.endEditBlock()
        if self._following:
            self._scroll_to_bottom()

    def _write_line(
        self, cursor: QTextCursor, start: float, speaker: Side, text: str, interim: bool
    ) -> None:
        if cursor.position() > 0:
            block = QTextBlockFormat()
            block.setTopMargin(4)
            cursor.insertBlock(block)
        colour = QColor(self._theme.speaker[speaker])
        muted = QColor(self._theme.muted_text)
        time_format = QTextCharFormat()
        time_format.setForeground(muted)
        time_format.setFontPointSize(max(1.0, self.font().pointSizeF() * 0.85))
        cursor.insertText(f"{clock(start)}  ", time_format)
        label_format = QTextCharFormat()
        label_format.setForeground(colour)
        label_format.setFontWeight(QFont.Weight.Bold)
        cursor.insertText(f"{LABELS[speaker]}: ", label_format)
        text_format = QTextCharFormat()
        if interim:
            text_format.setForeground(muted)
            text_format.setFontItalic(True)
        cursor.insertText(text, text_format)

    # -- scrolling -----------------------------------------------------------------------
    def _at_bottom(self) -> bool:
        bar = self.text.verticalScrollBar()
        return bar.value() >= bar.maximum() - BOTTOM_SLACK_PX

    def _on_scrolled(self, _value: int) -> None:
        if self._scrolling_to_live:
            return
        self._following = self._at_bottom()
        self.jump_button.setVisible(not self._following)

    def _on_range_changed(self, _minimum: int, _maximum: int) -> None:
        if self._following:
            self._scroll_to_bottom()

    def _scroll_to_bottom(self) -> None:
        bar = self.text.verticalScrollBar()
        self._scrolling_to_live = True
        try:
            bar.setValue(bar.maximum())
        finally:
            self._scrolling_to_live = False

    def jump_to_live(self) -> None:
        self._following = True
        self.jump_button.setVisible(False)
        self._scroll_to_bottom()

    def apply_theme(self, theme: Theme) -> None:
        """New colours apply to the lines written from now on."""
        self._theme = theme
