"""Reviewing calls afterwards: the agent's call history (search, filters, the review of one
call) and, for supervisors, the flagged-calls queue with review outcomes and the team's
weekly figures. Every database query runs on the worker pool. A supervisor on the team
database is alerted live when a new flag comes in (ui.flag_alerts, on a thread of its own)."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QSystemTrayIcon,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.calls.exports import FLAG_WORDS, mood_word
from app.calls.records import CallRecord
from app.events import clock
from app.store import CallStore, CallSummary
from app.store.alerts import FlagAlert, alert_message
from app.store.review import (
    REVIEW_OUTCOMES,
    AgentWeek,
    FlaggedCall,
    add_review,
    flagged_queue,
    to_csv,
    weekly_stats,
)
from app.store.search import CallFilter, list_filtered, search_calls
from app.store.team import team_role
from audio.sides import Side
from ui.flag_alerts import FlagAlerts
from ui.theme import Theme, current_theme, scaled_font
from ui.widgets.mood_view import mood_colour
from ui.workers import WorkerPool

Loaded = tuple[list[CallSummary], list[FlaggedCall], list[AgentWeek]]
ALERT_SHOWN_MS = 15_000  # how long the desktop notification stays
MOOD_FILTERS = {"any mood": None, "upset or worse": -0.15, "very upset": -0.45}
SENTIMENT_TINT = {"negative": 0.18, "positive": 0.10}  # alpha of the tint behind a line


class RowsModel(QAbstractTableModel):
    """A read-only table of plain records, one column per (title, getter)."""

    def __init__(self, columns: Sequence[tuple[str, Callable[[Any], str]]]) -> None:
        super().__init__()
        self._columns = list(columns)
        self.rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(self._columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and index.isValid():
            return self._columns[index.column()][1](self.rows[index.row()])
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._columns[section][0]
        return None


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _mood(value: float | None) -> str:
    return "—" if value is None else mood_word(value)


CALL_COLUMNS: list[tuple[str, Callable[[CallSummary], str]]] = [
    ("Date", lambda c: f"{c.started_at:%Y-%m-%d %H:%M}"),
    ("Client", lambda c: c.client_name or "—"),
    ("Ticket", lambda c: c.ticket_id or "—"),
    ("Length", lambda c: _duration(c.duration_s)),
    ("Worst mood", lambda c: _mood(c.worst_mood)),
    ("Flags", lambda c: ", ".join(sorted({FLAG_WORDS.get(f, f) for f in c.flags})) or "—"),
]
QUEUE_COLUMNS: list[tuple[str, Callable[[FlaggedCall], str]]] = [
    ("When", lambda f: f"{f.started_at:%Y-%m-%d %H:%M}"),
    ("Agent", lambda f: f.agent),
    ("Why", lambda f: ", ".join(FLAG_WORDS.get(r, r) for r in f.reasons)),
    ("What was said", lambda f: f"“{f.excerpt}”"),
    ("Review", lambda f: (f.review_outcome or "waiting").replace("_", " ")),
]


def _share(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


WEEK_COLUMNS: list[tuple[str, Callable[[AgentWeek], str]]] = [
    ("Agent", lambda w: w.agent),
    ("Week of", lambda w: f"{w.week:%Y-%m-%d}"),
    ("Calls", lambda w: str(w.calls)),
    ("Flagged", lambda w: str(w.flagged_calls)),
    ("Flags", lambda w: str(w.flags)),
    ("Average mood", lambda w: "—" if w.average_mood is None else f"{w.average_mood:+.2f}"),
    ("Agent talk share", lambda w: _share(w.talk.agent_share)),
    ("Agent overtalk", lambda w: f"{w.talk.agent_overtalk_s:.0f} s"),
]


def _table(model: RowsModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class CallReview(QWidget):
    """One call: transcript (client lines tinted by sentiment), the mood timeline with its
    cues and flags (click a mark to jump to the line), the notes and the exports made."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.record: CallRecord | None = None
        self.title = QLabel("Choose a call")
        self.title.setFont(scaled_font(self.font(), 1.2, bold=True))
        self.talk = QLabel("")
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setYRange(-1, 1, padding=0.05)
        self.plot.hideAxis("left")
        self.plot.setMaximumHeight(self.fontMetrics().height() * 8)
        self.plot.setBackground(theme.surface)
        self._marks = pg.ScatterPlotItem(size=12, hoverable=True)
        self._marks.sigClicked.connect(self._on_mark_clicked)
        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)
        self.notes = QPlainTextEdit()
        self.notes.setReadOnly(True)
        self.exports = QLabel("")
        self.exports.setWordWrap(True)
        tabs = QTabWidget()
        tabs.addTab(self.transcript, "Transcript")
        tabs.addTab(self.notes, "Notes")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.talk)
        layout.addWidget(self.plot)
        layout.addWidget(tabs, 1)
        layout.addWidget(self.exports)

    def show_record(self, record: CallRecord) -> None:
        self.record = record
        info = record.info
        who = info.client_name or "unknown client"
        ticket = f", ticket {info.ticket_id}" if info.ticket_id else ""
        self.title.setText(f"{info.started_at:%A %d %B %Y, %H:%M} — {who}{ticket}")
        self.talk.setText(record.talk.describe())
        self.transcript.setHtml(self._transcript_html(record))
        self.notes.setPlainText(record.notes or "(no notes)")
        done = [e for e in record.exports]
        self.exports.setText(
            "Exports: " + "; ".join(f"{e.target} {e.status} {e.result}".strip() for e in done)
            if done
            else "Not exported yet."
        )
        self._draw_timeline(record)

    def _transcript_html(self, record: CallRecord) -> str:
        lines = []
        for s in record.segments:
            label = (s.sentiment or {}).get("label")
            background = ""
            if s.speaker == "client" and label in SENTIMENT_TINT:
                value = -1.0 if label == "negative" else 1.0
                tint = mood_colour(self._theme, value)
                rgba = f"{tint.red()},{tint.green()},{tint.blue()},{SENTIMENT_TINT[label]}"
                background = f"background-color: rgba({rgba});"
            speaker = "You" if s.speaker == "agent" else "Client"
            colour = self._theme.speaker[Side(s.speaker)]
            lines.append(
                f'<p style="margin:2px 0; {background}"><a name="seg-{s.seq}"></a>'
                f'<span style="color:{self._theme.muted_text}">{clock(s.start)}</span> '
                f'<b style="color:{colour}">{speaker}:</b> {html.escape(s.text)}</p>'
            )
        return "".join(lines) or "<p>(no transcript)</p>"

    def _draw_timeline(self, record: CallRecord) -> None:
        self.plot.clear()
        self.plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(self._theme.muted_text)))
        if record.mood:
            self.plot.plot([m.t for m in record.mood], [m.value for m in record.mood],
                           pen=pg.mkPen(self._theme.text, width=2))  # fmt: skip
        marks = []
        for cue in record.cues:
            marks.append({"pos": (cue.t, 0.8), "symbol": "t", "data": cue.segment_seq,
                          "brush": pg.mkBrush(self._theme.cue_border)})  # fmt: skip
        for flag in record.flags:
            marks.append({"pos": (flag.t, -0.8), "symbol": "x", "data": flag.segment_seq,
                          "brush": pg.mkBrush(self._theme.abuse_border)})  # fmt: skip
        self._marks.setData(marks)
        self.plot.addItem(self._marks)
        self.plot.setXRange(0, max(60.0, record.duration_s), padding=0.02)

    def _on_mark_clicked(self, _item: Any, points: Any, *_: Any) -> None:
        if len(points) and points[0].data() is not None:
            self.jump_to(int(points[0].data()))

    def jump_to(self, segment_seq: int) -> None:
        self.transcript.scrollToAnchor(f"seg-{segment_seq}")


class HistoryWindow(QMainWindow):
    """Call history and supervision, on the database at ``store_url`` (None: this PC's)."""

    loaded = Signal()  # a query's results are on screen (for tests)
    alerted = Signal(str)  # a live flag alert was shown (its text)

    def __init__(self, pool: WorkerPool, store_url: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Calmline — call history")
        self.resize(1000, 700)
        self._pool = pool
        self._store_url = store_url
        self.store: CallStore | None = None
        self.theme = current_theme()
        self.flag_alerts: FlagAlerts | None = None  # supervisors on the team database
        self._tray: QSystemTrayIcon | None = None

        # -- calls tab
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Search transcripts, notes, clients, tickets…")
        self.search_box.returnPressed.connect(self.refresh)
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addMonths(-3))
        self.date_to = QDateEdit(today)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.dateChanged.connect(self.refresh)
        self.flagged_only = QCheckBox("Flagged only")
        self.flagged_only.toggled.connect(self.refresh)
        self.mood_filter = QComboBox()
        self.mood_filter.addItems(list(MOOD_FILTERS))
        self.mood_filter.currentIndexChanged.connect(self.refresh)
        filters = QHBoxLayout()
        filters.addWidget(self.search_box, 2)
        filters.addWidget(QLabel("from"))
        filters.addWidget(self.date_from)
        filters.addWidget(QLabel("to"))
        filters.addWidget(self.date_to)
        filters.addWidget(self.flagged_only)
        filters.addWidget(self.mood_filter)
        self.calls_model = RowsModel(CALL_COLUMNS)
        self.calls_view = _table(self.calls_model)
        self.calls_view.selectionModel().currentRowChanged.connect(
            lambda current, _: self._open_call(self.calls_model, current.row(), self.review)
        )
        self.review = CallReview(self.theme)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.calls_view)
        split.addWidget(self.review)
        split.setSizes([450, 550])
        calls_tab = QWidget()
        calls_layout = QVBoxLayout(calls_tab)
        calls_layout.addLayout(filters)
        calls_layout.addWidget(split, 1)

        # -- flagged tab (supervisors)
        self.queue_model = RowsModel(QUEUE_COLUMNS)
        self.queue_view = _table(self.queue_model)
        self.queue_view.selectionModel().currentRowChanged.connect(
            lambda current, _: self._open_call(self.queue_model, current.row(), self.queue_review)
        )
        self.queue_review = CallReview(self.theme)
        self.show_reviewed = QCheckBox("Show reviewed calls")
        self.show_reviewed.toggled.connect(self.refresh)
        self.outcome = QComboBox()
        self.outcome.addItems([o.replace("_", " ") for o in REVIEW_OUTCOMES])
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("What was decided (optional)")
        self.mark_reviewed = QPushButton("Mark reviewed")
        self.mark_reviewed.clicked.connect(self._mark_reviewed)
        self.queue_csv = QPushButton("Export CSV…")
        self.queue_csv.clicked.connect(lambda: self._export_csv(self.queue_model.rows, "flagged"))
        form = QFormLayout()
        form.addRow("Outcome", self.outcome)
        form.addRow("Comment", self.comment)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_reviewed)
        buttons.addStretch(1)
        buttons.addWidget(self.queue_csv)
        buttons.addWidget(self.mark_reviewed)
        queue_side = QWidget()
        queue_layout = QVBoxLayout(queue_side)
        queue_layout.setContentsMargins(0, 0, 0, 0)
        queue_layout.addWidget(self.queue_view, 1)
        queue_layout.addLayout(form)
        queue_layout.addLayout(buttons)
        queue_split = QSplitter(Qt.Orientation.Horizontal)
        queue_split.addWidget(queue_side)
        queue_split.addWidget(self.queue_review)
        queue_split.setSizes([500, 500])
        flagged_tab = QWidget()
        QVBoxLayout(flagged_tab).addWidget(queue_split)

        # -- team figures
        self.weeks_model = RowsModel(WEEK_COLUMNS)
        self.weeks_view = _table(self.weeks_model)
        weeks_csv = QPushButton("Export CSV…")
        weeks_csv.clicked.connect(lambda: self._export_csv(self.weeks_model.rows, "weekly"))
        weeks_tab = QWidget()
        weeks_layout = QVBoxLayout(weeks_tab)
        weeks_layout.addWidget(self.weeks_view, 1)
        weeks_layout.addWidget(weeks_csv, 0, Qt.AlignmentFlag.AlignRight)

        self.tabs = QTabWidget()
        self.tabs.addTab(calls_tab, "Calls")
        self.tabs.addTab(flagged_tab, "Flagged calls")
        self.tabs.addTab(weeks_tab, "Team figures")
        self.status = QLabel("Opening the call database…")
        self.alerts_state = QLabel("")  # live flag alerts: on, or paused and why
        self.alerts_state.setWordWrap(True)
        # Where a live alert shows when there is no system tray for a desktop notification.
        self.alert_text = QLabel("")
        self.alert_text.setWordWrap(True)
        self.alert_text.setStyleSheet(
            f"color: {self.theme.text}; border: 2px solid {self.theme.abuse_border}; padding: 6px"
        )
        dismiss = QPushButton("Dismiss")
        self.alert_banner = QWidget()
        banner = QHBoxLayout(self.alert_banner)
        banner.setContentsMargins(0, 0, 0, 0)
        banner.addWidget(self.alert_text, 1)
        banner.addWidget(dismiss)
        dismiss.clicked.connect(self.alert_banner.hide)
        self.alert_banner.hide()
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.alerts_state)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.alert_banner)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(status_row)
        self.setCentralWidget(central)

    # -- loading ---------------------------------------------------------------------------
    def begin(self) -> None:
        self._pool.submit(
            "open the call database",
            CallStore.open,
            self._store_url,
            on_success=self._store_opened,
            on_failure=lambda exc: self.status.setText(f"Cannot open the calls: {exc}"),
        )

    def _store_opened(self, store: CallStore) -> None:
        self.store = store
        self.status.setText(f"Calls in {store.where}")
        self.refresh()
        if store.engine.dialect.name == "postgresql" and self._store_url:
            self._pool.submit(
                "find the team role",
                team_role,
                self._store_url,
                on_success=self._role_known,
                on_failure=lambda exc: self.alerts_state.setText(f"No live flag alerts: {exc}"),
            )

    # -- live flag alerts (supervisors on the team database) ---------------------------------
    def _role_known(self, role: str) -> None:
        if role != "supervisor" or self.store is None or self.flag_alerts is not None:
            return  # agents review their own calls; the window may be closed already
        assert self._store_url is not None
        self.flag_alerts = FlagAlerts(self._store_url, self)
        self.flag_alerts.alert.connect(self._flag_alert)
        self.flag_alerts.state.connect(self._alerts_state)
        self.alerts_state.setText("Starting live flag alerts…")
        self.flag_alerts.start()

    def _alerts_state(self, working: bool, message: str) -> None:
        self.alerts_state.setText(message[:1].upper() + message[1:])

    def _flag_alert(self, alert: FlagAlert) -> None:
        if self.flag_alerts is None:
            return  # queued before the window closed
        text = alert_message(alert)
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                icon = self.windowIcon()
                if icon.isNull():
                    icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
                self._tray = QSystemTrayIcon(icon, self)
                self._tray.messageClicked.connect(self._show_queue)
            self._tray.show()
            self._tray.showMessage(
                "Calmline", text, QSystemTrayIcon.MessageIcon.Warning, ALERT_SHOWN_MS
            )
        else:
            self.alert_text.setText(text)
            self.alert_banner.show()
        self.alerted.emit(text)
        self.refresh()

    def _show_queue(self) -> None:
        self.tabs.setCurrentIndex(1)
        self.show()
        self.raise_()
        self.activateWindow()

    def filters(self) -> CallFilter:
        def at(edit: QDateEdit, end: bool) -> datetime:
            day = edit.date().toPython()
            return datetime.combine(day, time.max if end else time.min).astimezone(UTC)

        return CallFilter(
            since=at(self.date_from, False),
            until=at(self.date_to, True),
            flagged=self.flagged_only.isChecked(),
            worst_mood_below=MOOD_FILTERS[self.mood_filter.currentText()],
        )

    def refresh(self) -> None:
        store = self.store
        if store is None:
            return
        self._pool.submit(
            "search calls",
            _load,
            store,
            self.search_box.text().strip(),
            self.filters(),
            self.show_reviewed.isChecked(),
            on_success=self._loaded,
            on_failure=lambda exc: self.status.setText(f"Search failed: {exc}"),
        )

    def _loaded(self, result: Loaded) -> None:
        calls, queue, weeks = result
        self.calls_model.set_rows(calls)
        self.queue_model.set_rows(queue)
        self.weeks_model.set_rows(weeks)
        waiting = sum(1 for f in queue if f.review_outcome is None)
        self.tabs.setTabText(1, f"Flagged calls ({waiting})")
        self.status.setText(f"{len(calls)} call(s) shown; {waiting} flagged call(s) to review")
        self.loaded.emit()

    def _open_call(self, model: RowsModel, row: int, review: CallReview) -> None:
        if self.store is None or not 0 <= row < len(model.rows):
            return
        chosen = model.rows[row]
        call_id = chosen.call_id if isinstance(chosen, FlaggedCall) else chosen.id
        self._pool.submit(
            "open call",
            self.store.get,
            call_id,
            on_success=lambda record: record and review.show_record(record),
        )

    # -- supervising -----------------------------------------------------------------------
    def _mark_reviewed(self) -> None:
        row = self.queue_view.currentIndex().row()
        if self.store is None or not 0 <= row < len(self.queue_model.rows):
            self.status.setText("Choose a flagged call first.")
            return
        flagged = self.queue_model.rows[row]
        outcome = REVIEW_OUTCOMES[self.outcome.currentIndex()]
        self._pool.submit(
            "review call",
            add_review,
            self.store,
            flagged.call_id,
            outcome,
            self.comment.text().strip(),
            on_success=lambda _: (self.comment.clear(), self.refresh()),
            on_failure=lambda exc: self.status.setText(f"The review was not saved: {exc}"),
        )

    def _export_csv(self, rows: list[Any], name: str) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export CSV", f"calmline-{name}.csv", "CSV (*.csv)"
        )
        if path:
            self.write_csv(rows, Path(path))

    def write_csv(self, rows: list[Any], path: Path) -> None:
        self._pool.submit(
            "export CSV",
            lambda: path.write_text(to_csv(rows), encoding="utf-8"),
            on_success=lambda _: self.status.setText(f"Saved {path}"),
            on_failure=lambda exc: self.status.setText(f"Could not save {path}: {exc}"),
        )

    def closeEvent(self, event: Any) -> None:
        alerts, self.flag_alerts = self.flag_alerts, None
        if alerts is not None:
            alerts.stop()
        if self._tray is not None:
            self._tray.hide()
        store, self.store = self.store, None
        if store is not None:
            self._pool.submit("close the call database", store.close)
        super().closeEvent(event)


def _load(store: CallStore, query: str, filters: CallFilter, include_reviewed: bool) -> Loaded:
    """Worker thread: the calls matching the search, the flagged queue, the weekly figures."""
    return (
        find_calls(store, query, filters),
        flagged_queue(store, include_reviewed),
        weekly_stats(store),
    )


def find_calls(store: CallStore, query: str, filters: CallFilter) -> list[CallSummary]:
    """The calls matching the search words (best first) within the filters."""
    if not query.strip():
        return list_filtered(store, filters)
    hits = search_calls(store, query, filters)
    found = list_filtered(store, filters, limit=len(hits), call_ids=[h.call_id for h in hits])
    by_id = {s.id: s for s in found}
    return [by_id[h.call_id] for h in hits if h.call_id in by_id]
