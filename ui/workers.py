"""Background jobs: one worker per long job, on a private thread pool.

Each job reports through Qt signals that carry plain data (a result object or the
exception), delivered on the GUI thread. The pool keeps every job referenced until its
``finished`` signal has been delivered, so no report is lost, and says when it is idle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

THREAD_NAME = "calmline-jobs"
Progress = Callable[[str, int], None]


class JobSignals(QObject):
    progress = Signal(str, int)  # what is happening, percent done
    succeeded = Signal(object)  # the job's return value
    failed = Signal(object)  # the exception
    finished = Signal()


class Job(QRunnable):
    """Runs ``work(*args)`` (or ``work(*args, progress=...)``) on a pool thread."""

    def __init__(self, name: str, work: Callable[..., Any], *args: Any, reports_progress: bool):
        super().__init__()
        self.setAutoDelete(False)  # the pool's Python side owns it until `finished`
        self.name = name
        self.signals = JobSignals()
        self._work = work
        self._args = args
        self._reports_progress = reports_progress

    def run(self) -> None:
        try:
            if self._reports_progress:
                result = self._work(*self._args, progress=self.signals.progress.emit)
            else:
                result = self._work(*self._args)
        except Exception as exc:
            log.info("job %s failed: %s", self.name, exc, exc_info=True)
            self.signals.failed.emit(exc)
        else:
            self.signals.succeeded.emit(result)
        finally:
            self.signals.finished.emit()


class WorkerPool(QObject):
    """A private thread pool for the window's jobs (models, devices, start/stop, saves)."""

    idle = Signal()  # the last running job has finished

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setObjectName(THREAD_NAME)  # the OS-level name of its threads
        self._pool.setMaxThreadCount(max_threads)
        self._jobs: set[Job] = set()

    def submit(
        self,
        name: str,
        work: Callable[..., Any],
        *args: Any,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Progress | None = None,
    ) -> Job:
        job = Job(name, work, *args, reports_progress=on_progress is not None)
        if on_success is not None:
            job.signals.succeeded.connect(on_success)
        if on_failure is not None:
            job.signals.failed.connect(on_failure)
        if on_progress is not None:
            job.signals.progress.connect(on_progress)
        job.signals.finished.connect(lambda: self._finished(job))
        self._jobs.add(job)
        self._pool.start(job)
        return job

    def _finished(self, job: Job) -> None:
        self._jobs.discard(job)
        if not self._jobs:
            self.idle.emit()

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    @property
    def active_threads(self) -> int:
        return self._pool.activeThreadCount()

    def running_jobs(self) -> list[str]:
        return sorted(job.name for job in self._jobs)

    def release_threads(self) -> None:
        """Let the idle pool threads exit now (they would linger for 30 s otherwise)."""
        if not self._jobs:
            self._pool.waitForDone(1000)
