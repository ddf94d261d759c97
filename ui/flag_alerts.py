"""Live flag alerts in the window: :class:`app.store.alerts.FlagListener` on a QThread of its
own (never the GUI thread); what it finds reaches the GUI thread as plain data by signal."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal

from app.store.alerts import THREAD_NAME, FlagAlert, FlagListener

STOP_WAIT_MS = 10_000  # at most the connection timeout (5 s) plus one poll


class _ListenerThread(QThread):
    def __init__(self, listener: FlagListener, stop: threading.Event) -> None:
        super().__init__()
        self.setObjectName(THREAD_NAME)
        self._listener = listener
        self._stop = stop

    def run(self) -> None:
        self._listener.run(self._stop)


class FlagAlerts(QObject):
    """Start with :meth:`start`; ``alert`` carries each new flag (a FlagAlert), ``state``
    whether alerts work (bool) and why not (str). :meth:`stop` before the owner goes."""

    alert = Signal(object)
    state = Signal(bool, str)

    def __init__(self, store_url: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stop = threading.Event()
        # The callbacks run on the listener's thread: emitting queues them to the GUI thread.
        self.listener = FlagListener(store_url, self._emit_alert, self.state.emit)
        self._thread = _ListenerThread(self.listener, self._stop)

    def _emit_alert(self, alert: FlagAlert) -> None:
        self.alert.emit(alert)

    def start(self) -> None:
        self._stop.clear()
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def stop(self) -> None:
        self._stop.set()
        self._thread.wait(STOP_WAIT_MS)
