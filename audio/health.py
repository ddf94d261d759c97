"""What a live input (a device or a loopback) says about itself while the call runs:
whether it delivers, why not, how often that changed — kept the same way for both."""

from __future__ import annotations

from dataclasses import dataclass

from audio.buffer import CaptureBuffer, CaptureStats
from audio.sides import Side


@dataclass(frozen=True)
class InputHealth:
    """Whether a live input is delivering. ``changes`` counts every loss and return, so a
    reader polling it sees each one once."""

    lost: str | None  # why the input is lost; None while it delivers
    changes: int
    since: float  # monotonic time of the last change


class WatchedInput:
    """The state every live input keeps for the session and the window: lost or not (and
    why), each change counted once. Subclasses set ``side``, ``description``, ``buffer``
    and call :meth:`_init_health`, then :meth:`_mark_lost` / :meth:`_mark_back`."""

    side: Side
    description: str
    buffer: CaptureBuffer

    def _init_health(self, now: float) -> None:
        self._lost: str | None = None
        self._changes = 0
        self._since = now

    def _mark_lost(self, reason: str, now: float) -> None:
        self._lost, self._since, self._changes = reason, now, self._changes + 1

    def _mark_back(self, now: float) -> None:
        self._lost, self._since, self._changes = None, now, self._changes + 1

    @property
    def finished(self) -> bool:
        return self.buffer.closed

    @property
    def error(self) -> str | None:
        """Why the input was lost, if it still was when the call ended."""
        if self._lost is None:
            return None
        return f"{self.side.value} input lost ({self.description}): {self._lost}"

    @property
    def health(self) -> InputHealth:
        return InputHealth(self._lost, self._changes, self._since)

    def stats(self) -> CaptureStats:
        return self.buffer.stats()
