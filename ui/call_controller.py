"""The window's link to the call: owns the CallSession and the jobs around it.

Every slow step runs as a job on the worker pool — listing devices, loading models, opening
the inputs and starting the session, and ``session.stop()`` (which waits until everything
captured is transcribed). The session's pipeline thread hands its events to
:attr:`CallController.event_received`, a signal queued to the GUI thread carrying the plain
dataclasses. While a call runs, a 10 Hz timer polls :meth:`CallSession.status`.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.pipeline.call import CallSetup, replay_sources
from app.pipeline.session import CallSession, Listener
from app.store import CallStore
from audio.devices import InputDevice, list_capture_devices
from audio.errors import AudioInputError
from audio.monitor import InputMonitor, switch_monitor
from audio.sides import Side
from audio.sources import AudioSource, call_file_channels, open_input
from models.errors import ModelError
from ui.call_records import CallRecords
from ui.loading import ModelOptions, load_models
from ui.workers import Progress, WorkerPool

log = logging.getLogger(__name__)

STATUS_POLL_MS = 100


class CallState(enum.Enum):
    LOADING = "loading"  # models are loading
    UNAVAILABLE = "unavailable"  # models failed to load: no call possible
    READY = "ready"
    STARTING = "starting"
    LIVE = "live"
    FINISHING = "finishing"  # capture stopped, transcribing what was captured


@dataclass(frozen=True)
class ReplayCall:
    """A recorded call replayed through the live path (the demo)."""

    path: Path
    pace: float = 1.0
    agent_channel: str = "left"


@dataclass(frozen=True)
class DeviceCall:
    agent_device: int | str
    client_device: int | str


@dataclass(frozen=True)
class CallOutcome:
    call_seconds: float
    problems: list[str] = field(default_factory=list)


@dataclass
class Services:
    """What the controller reaches outside the process through; tests substitute them."""

    list_devices: Callable[[], list[InputDevice]] = list_capture_devices
    load_models: Callable[[ModelOptions, Progress], CallSetup] = load_models
    open_device: Callable[[Side, int | str], AudioSource] = open_input
    open_store: Callable[[str | None], CallStore] = CallStore.open


def describe_error(exc: BaseException) -> str:
    """A message the agent can act on."""
    if isinstance(exc, ModelError):
        return f"A model could not be loaded: {exc}"
    if isinstance(exc, AudioInputError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}): {exc}. Details are in the log."


class CallController(QObject):
    state_changed = Signal(object)  # CallState
    loading_progress = Signal(str, int)
    models_loaded = Signal(object)  # CallSetup
    models_failed = Signal(str)
    devices_listed = Signal(list)  # list[InputDevice]
    devices_failed = Signal(str)
    call_started = Signal(object)  # datetime the call started
    call_failed = Signal(str)  # the call could not start
    recording_failed = Signal(str)  # the call runs but is not being saved (from any thread)
    call_finished = Signal(object)  # CallOutcome
    status_polled = Signal(object)  # SessionStatus
    levels_polled = Signal(object)  # dict[Side, float]: input levels (dBFS) between calls
    inputs_checked = Signal(object)  # dict[Side, str]: inputs that cannot be opened (or {})
    event_received = Signal(object)  # Committed, Partial, MoodUpdate, Cue, … (from any thread)

    def __init__(
        self,
        pool: WorkerPool,
        options: ModelOptions | None = None,
        services: Services | None = None,
        parent: QObject | None = None,
        records: CallRecords | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self._records = records
        self._options = options or ModelOptions()
        self._services = services or Services()
        self._state = CallState.LOADING
        self._models: CallSetup | None = None
        self._session: CallSession | None = None
        self._stop_requested = False
        # The input check between calls: one switch job at a time; the latest wish wins.
        self._monitor: InputMonitor | None = None
        self._monitor_wanted: dict[Side, int | str] | None = None
        self._monitor_switching = False
        self._pending_call: DeviceCall | ReplayCall | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(STATUS_POLL_MS)
        self._poll.timeout.connect(self._poll_status)

    # -- state ---------------------------------------------------------------------------
    @property
    def state(self) -> CallState:
        return self._state

    @property
    def models(self) -> CallSetup | None:
        return self._models

    @property
    def in_call(self) -> bool:
        return self._state in (CallState.STARTING, CallState.LIVE, CallState.FINISHING)

    def _set_state(self, state: CallState) -> None:
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state)

    # -- loading -------------------------------------------------------------------------
    def load_models(self) -> None:
        self._set_state(CallState.LOADING)
        self._pool.submit(
            "load models",
            self._services.load_models,
            self._options,
            on_success=self._models_ready,
            on_failure=self._models_failed,
            on_progress=self.loading_progress.emit,
        )

    def _models_ready(self, models: CallSetup) -> None:
        self._models = models
        self._set_state(CallState.READY)
        self.models_loaded.emit(models)

    def _models_failed(self, exc: BaseException) -> None:
        self._set_state(CallState.UNAVAILABLE)
        self.models_failed.emit(describe_error(exc))

    def list_devices(self) -> None:
        self._pool.submit(
            "list devices",
            self._services.list_devices,
            on_success=self.devices_listed.emit,
            on_failure=lambda exc: self.devices_failed.emit(describe_error(exc)),
        )

    # -- the call ------------------------------------------------------------------------
    def start(self, call: DeviceCall | ReplayCall) -> None:
        if self._state is not CallState.READY or self._models is None:
            return
        self._stop_requested = False
        self._set_state(CallState.STARTING)
        if self._monitor is not None or self._monitor_switching:
            self._pending_call = call  # the call opens the devices once the check let go
            self._drive_monitor()
            return
        self._launch(call)

    def _launch(self, call: DeviceCall | ReplayCall) -> None:
        assert self._models is not None
        self._pool.submit(
            "start call",
            self._open_and_start,
            call,
            self._models,
            on_success=self._started,
            on_failure=self._start_failed,
        )

    def _open_and_start(self, call: DeviceCall | ReplayCall, setup: CallSetup) -> CallSession:
        """Worker thread: open both inputs and start the pipeline."""
        pace = 1.0
        if isinstance(call, ReplayCall):
            pace = call.pace
            sources: dict[Side, AudioSource] = dict(
                replay_sources(call_file_channels(call.path, call.agent_channel), pace)
            )
        else:
            sources = {
                Side.AGENT: self._services.open_device(Side.AGENT, call.agent_device),
                Side.CLIENT: self._services.open_device(Side.CLIENT, call.client_device),
            }
        # the recorder first: queued, so the pipeline never waits on the disk
        listeners: list[Listener] = [self.event_received.emit]
        if self._records is not None:
            kind = "replay" if isinstance(call, ReplayCall) else "live"
            devices = {side.value: src.description for side, src in sources.items()}
            info = setup.call_info(kind, devices, started_at=datetime.now().astimezone())
            try:
                recorder = self._records.start_recording(info)
            except Exception as exc:  # the call goes on; the window says it is not saved
                log.warning("the call cannot be recorded: %s", exc)
                self.recording_failed.emit(f"This call is not being saved: {exc}")
                recorder = None
            if recorder is not None:
                listeners.insert(0, recorder)
        audio_sink = self._records.audio_sink if self._records is not None else None
        session = setup.session(sources, listeners, pace=pace, audio_sink=audio_sink)
        session.start()
        return session

    def _started(self, session: CallSession) -> None:
        self._session = session
        self._set_state(CallState.LIVE)
        self._poll.start()
        self.call_started.emit(datetime.now())
        if self._stop_requested:
            self.stop()

    def _start_failed(self, exc: BaseException) -> None:
        self._set_state(CallState.READY)
        self.call_failed.emit(describe_error(exc))
        self._drive_monitor()

    # -- the input check between calls -------------------------------------------------------
    def check_inputs(self, devices: dict[Side, int | str] | None) -> None:
        """Show the levels of these inputs until a call starts (None: release them)."""
        self._monitor_wanted = dict(devices) if devices else None
        self._drive_monitor()

    @property
    def checking_inputs(self) -> bool:
        """Devices are held open (or being switched) for the input check."""
        return self._monitor is not None or self._monitor_switching

    def _drive_monitor(self) -> None:
        if self._monitor_switching:
            return  # the running switch calls back here when done
        wanted = self._monitor_wanted if not self.in_call else None
        current = self._monitor.devices if self._monitor is not None else None
        if wanted == current:
            if self._pending_call is not None and self._monitor is None:
                call, self._pending_call = self._pending_call, None
                self._launch(call)
            return
        self._monitor_switching = True
        old, self._monitor = self._monitor, None
        self._pool.submit(
            "check inputs",
            switch_monitor,
            old,
            wanted,
            self._services.open_device,
            on_success=self._monitor_switched,
            on_failure=self._monitor_failed,
        )

    def _monitor_switched(self, monitor: InputMonitor | None) -> None:
        self._monitor_switching = False
        self._monitor = monitor
        if monitor is not None:
            self.inputs_checked.emit(dict(monitor.errors))
            self._poll.start()
        self._drive_monitor()

    def _monitor_failed(self, exc: BaseException) -> None:
        self._monitor_switching = False
        self.devices_failed.emit(describe_error(exc))
        self._monitor_wanted = None
        self._drive_monitor()

    def stop(self) -> None:
        """Stop capturing; the rest of the call is transcribed on a worker, then
        :attr:`call_finished` is emitted."""
        if self._state is CallState.STARTING:
            self._stop_requested = True
            return
        if self._state is not CallState.LIVE or self._session is None:
            return
        self._set_state(CallState.FINISHING)
        self._pool.submit(
            "finish call",
            self._stop_and_drain,
            self._session,
            on_success=self._finished,
            on_failure=self._finish_failed,
        )

    def _stop_and_drain(self, session: CallSession) -> CallOutcome:
        """Worker thread: stop capture, transcribe what was captured, save, collect
        problems."""
        session.stop()
        status = session.status()
        problems = [f"{side.value} side: {error}" for side, error in status.errors.items()]
        dropped = {s: c.frames_dropped for s, c in status.capture.items() if c.frames_dropped}
        if dropped:
            problems.append(
                "Some audio was dropped because transcription fell behind: "
                + ", ".join(f"{side.value} {frames} frames" for side, frames in dropped.items())
            )
        if session.failure is not None:
            problems.append(describe_error(session.failure))
        if self._records is not None:
            unsaved = self._records.end_recording()
            if unsaved:
                problems.append(unsaved)
        return CallOutcome(status.call_seconds, problems)

    def _finished(self, outcome: CallOutcome) -> None:
        self._poll.stop()
        self._session = None
        self._set_state(CallState.READY)
        self.call_finished.emit(outcome)
        self._drive_monitor()

    def _finish_failed(self, exc: BaseException) -> None:
        self._finished(CallOutcome(0.0, [describe_error(exc)]))

    def dismiss_cue(self) -> None:
        if self._session is not None:
            self._session.dismiss_cue()

    def _poll_status(self) -> None:
        if self._monitor is not None and not self.in_call:
            errors = dict(self._monitor.errors)
            self.levels_polled.emit(self._monitor.levels())
            if self._monitor.errors != errors:
                self.inputs_checked.emit(dict(self._monitor.errors))
            return
        session = self._session
        if session is None or self._state is not CallState.LIVE:
            return
        self.status_polled.emit(session.status())
        if not session.running:  # the replay ended, or the inputs went away
            self.stop()
