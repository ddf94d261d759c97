"""The window's link to the call database: opening it, recording each call as it happens,
the agent's notes/checklist/details, exports and the outbox, and recovering a call that a
crash interrupted.

Everything that touches the database or the network runs as a job on the worker pool;
what the GUI thread calls (notes, checklist, details) only queues a write on the call's
:class:`~app.store.CallRecorder`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.calls.records import CallInfo, CallRecord
from app.delivery import store_rt_credentials
from app.delivery.outbox import Delivered, Delivery
from app.events import Summary
from app.settings import Settings, data_dir
from app.store import CallRecorder, CallStore, CallSummary
from app.store.sync import SyncResult, TeamSync
from audio.recording import CallAudioWriter
from audio.sides import Side
from ui.workers import WorkerPool

log = logging.getLogger(__name__)

OUTBOX_RETRY_MS = 30_000
PROBLEM_CHECK_MS = 1_000
SAVE_WAIT_S = 10.0
OPEN_WAIT_S = 30.0


@dataclass(frozen=True)
class ExportRequest:
    target: str  # see app.delivery.outbox.TARGETS
    include_transcript: bool = False
    out: Path | None = None


class CallRecords(QObject):
    opened = Signal(list)  # list[CallSummary]: calls a crash interrupted (may be empty)
    open_failed = Signal(str)
    recovered = Signal(object)  # CallRecord, now the window's current call
    exported = Signal(object)  # Delivered
    export_failed = Signal(str)
    outbox_changed = Signal(list)  # list[PendingExport]
    synced = Signal(object)  # SyncResult: what the last copy to the team database did
    saving_problem = Signal(object)  # str while the call's writes are failing, then None

    def __init__(
        self,
        pool: WorkerPool,
        config: Settings,
        open_store: Callable[[str | None], CallStore] = CallStore.open,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self.config = config
        self._open_store = open_store
        self.store: CallStore | None = None
        self._recorder: CallRecorder | None = None
        self._lock = threading.Lock()
        self._settled = threading.Event()  # the database is open, or could not be opened
        self._open_requested = False
        self._audio: CallAudioWriter | None = None
        self._sync: TeamSync | None = None
        self._syncing = False
        self._closed = False
        self._outbox_timer = QTimer(self)
        self._outbox_timer.setInterval(OUTBOX_RETRY_MS)
        self._outbox_timer.timeout.connect(self.retry_outbox)
        self._outbox_timer.timeout.connect(self.sync)
        self._problem: str | None = None
        self._problem_timer = QTimer(self)  # a cheap look at the recorder, not a query
        self._problem_timer.setInterval(PROBLEM_CHECK_MS)
        self._problem_timer.timeout.connect(self._check_saving)
        self._problem_timer.start()

    # -- opening -------------------------------------------------------------------------
    def open(self) -> None:
        self._open_requested = True
        self._pool.submit(
            "open the call database",
            self._open,
            on_success=self._opened,
            on_failure=lambda exc: self.open_failed.emit(
                f"Calls are not being saved: {exc} Your notes are still saved as files."
            ),
        )

    @property
    def team_url(self) -> str | None:
        """The team database (PostgreSQL) this PC's calls are copied to, if any."""
        return self.config.store if self.config.store.startswith("postgresql") else None

    def _open(self) -> list[CallSummary]:
        try:
            # In team mode calls are still written here first (and synced): a call never
            # waits on the network.
            store = self._open_store(None if self.team_url else (self.config.store or None))
            if self.team_url:
                self._sync = TeamSync(store, self.team_url)
            with self._lock:
                self.store = store
            purged = store.purge_expired_audio()  # the retention period is enforced here
            if purged:
                log.info("deleted the kept audio of %d calls past retention", len(purged))
            return store.interrupted_calls()
        finally:
            self._settled.set()

    def _opened(self, interrupted: list[CallSummary]) -> None:
        if self._closed:
            return  # close() has taken it
        self.opened.emit(interrupted)
        self._outbox_timer.start()
        self.retry_outbox()
        self.sync()

    @property
    def available(self) -> bool:
        return self.store is not None

    @property
    def closed(self) -> bool:
        return self._closed

    # -- the call being recorded ---------------------------------------------------------
    @property
    def recorder(self) -> CallRecorder | None:
        with self._lock:
            return self._recorder

    @property
    def call_id(self) -> int | None:
        recorder = self.recorder
        return recorder.call_id if recorder else None

    def start_recording(self, info: CallInfo) -> CallRecorder | None:
        """Worker thread, before the call starts: the previous call's recorder is closed
        (its writes finished) and a new one records this call. None without a database."""
        self._settled.wait(OPEN_WAIT_S)  # a call started right away waits for the database
        store = self.store
        if store is None:
            return None
        recorder = CallRecorder(store, replace(info, agent=info.agent or self.config.agent_name))
        self._swap(recorder)
        if self.config.audio.keep:
            folder = data_dir() / "audio" / info.uid
            self._audio = CallAudioWriter(folder)
            expires = info.started_at + timedelta(days=self.config.audio.retention_days)
            recorder.keep_audio(str(folder), expires)
        return recorder

    @property
    def audio_sink(self) -> Callable[[Side, np.ndarray], None] | None:
        """Where the call's audio goes when the user keeps call audio (else None)."""
        return self._audio.write if self._audio is not None else None

    def end_recording(self, ended_at: datetime | None = None) -> str | None:
        """Worker thread, after the call: mark it ended and wait for its writes; returns
        what is wrong if they cannot be saved (they are kept and retried)."""
        audio, self._audio = self._audio, None
        if audio is not None:
            audio.close()
        recorder = self.recorder
        if recorder is None:
            return None
        recorder.end_call(ended_at)
        if not recorder.flush(SAVE_WAIT_S):
            return f"The call could not be saved yet ({recorder.problem}); Calmline keeps retrying."
        return None

    def _swap(self, recorder: CallRecorder | None) -> None:
        with self._lock:
            previous, self._recorder = self._recorder, recorder
        if previous is not None:
            previous.close(SAVE_WAIT_S)

    def _check_saving(self) -> None:
        recorder = self.recorder
        problem = recorder.problem if recorder is not None else None
        if problem != self._problem:
            self._problem = problem
            self.saving_problem.emit(problem)

    # -- from the GUI thread: queued writes ----------------------------------------------
    def save_notes(self, text: str) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.save_notes(text)

    def set_checklist(self, item: str, done: bool) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.set_checklist(item, done)

    def set_summary(self, summary: Summary) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.set_summary(summary)

    def update_details(self, **fields: str) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.update_info(**fields)

    # -- exports and the outbox ----------------------------------------------------------
    def export(self, request: ExportRequest) -> None:
        if self.store is None or self.recorder is None:
            self.export_failed.emit(
                "There is no saved call to export yet (the call database is not open)."
            )
            return
        self._pool.submit(
            f"export {request.target}",
            self._export,
            self.store,
            self.recorder,
            request,
            on_success=self._exported,
            on_failure=lambda exc: self.export_failed.emit(f"Export failed: {exc}"),
        )

    def _export(self, store: CallStore, recorder: CallRecorder, request: ExportRequest) -> Any:
        recorder.flush(SAVE_WAIT_S)  # the export is made from what is saved
        delivery = Delivery(store, self.config)
        outcome = delivery.export(
            recorder.call_id, request.target, out=request.out,
            include_transcript=request.include_transcript,
        )  # fmt: skip
        return outcome, delivery.outbox()

    def _exported(self, result: tuple[Delivered, list[Any]]) -> None:
        outcome, outbox = result
        self.exported.emit(outcome)
        self.outbox_changed.emit(outbox)

    # -- the team database -----------------------------------------------------------------
    def sync(self) -> None:
        """Copy this PC's new and changed calls to the team database (on a worker)."""
        if self._sync is None or self._closed or self._syncing:
            return
        self._syncing = True
        self._pool.submit(
            "sync with the team database",
            self._sync.sync_once,
            on_success=self._synced,
            on_failure=lambda exc: self._synced(SyncResult(0, 0, str(exc))),
        )

    def _synced(self, result: SyncResult) -> None:
        self._syncing = False
        self.synced.emit(result)

    def retry_outbox(self, force: bool = False) -> None:
        store = self.store
        if store is None or self._closed:
            return
        self._pool.submit(
            "retry the outbox",
            self._retry,
            store,
            force,
            on_success=self._retried,
            on_failure=lambda exc: log.warning("outbox retry failed: %s", exc),
        )

    def _retry(self, store: CallStore, force: bool) -> tuple[list[Delivered], list[Any]]:
        delivery = Delivery(store, self.config)
        return delivery.retry_due(force=force), delivery.outbox()

    def _retried(self, result: tuple[list[Delivered], list[Any]]) -> None:
        outcomes, outbox = result
        for outcome in outcomes:
            self.exported.emit(outcome)
        self.outbox_changed.emit(outbox)

    def store_rt_secret(self, secret: str) -> None:
        """Keep new RT credentials in the keyring, then retry what waits for them."""
        rt = self.config.rt
        self._pool.submit(
            "store RT credentials",
            store_rt_credentials,
            rt.url,
            rt.user,
            secret,
            on_success=lambda _: self.retry_outbox(force=True),
            on_failure=lambda exc: self.export_failed.emit(str(exc)),
        )

    # -- recovery ------------------------------------------------------------------------
    def recover(self, call_id: int) -> None:
        store = self.store
        if store is None:
            return
        self._pool.submit(
            "recover the interrupted call",
            self._recover,
            store,
            call_id,
            on_success=self.recovered.emit,
            on_failure=lambda exc: self.export_failed.emit(f"Recovery failed: {exc}"),
        )

    def _recover(self, store: CallStore, call_id: int) -> CallRecord:
        record = store.recover(call_id)
        self._swap(CallRecorder.attach(store, record))  # the agent can finish its notes
        return record

    # -- closing -------------------------------------------------------------------------
    def close(self) -> None:
        """Finish the writes and close the database, on a worker."""
        self._closed = True
        self._outbox_timer.stop()
        self._problem_timer.stop()
        if not self._open_requested:
            self._settled.set()  # nothing to wait for
        self._pool.submit("close the call database", self._close)

    def _close(self) -> None:
        self._settled.wait(OPEN_WAIT_S)  # an open still under way finishes first
        self._swap(None)
        if self._sync is not None:
            self._sync.sync_once()  # a last copy of the calls; what fails waits locally
            self._sync.close()
        with self._lock:
            store, self.store = self.store, None
        if store is not None:
            store.close()
