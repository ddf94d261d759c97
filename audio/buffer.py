"""The bounded hand-off between an audio callback and the transcription thread.

The callback side (:meth:`CaptureBuffer.push`) only copies the block into a deque and
updates counters: no allocation-heavy work, no locks held for long, never blocks. When the
consumer falls more than ``max_seconds`` behind, the *newest* block is dropped and counted:
what was already queued is older and still useful for the transcript.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

import numpy as np

from audio.levels import rms_dbfs


@dataclass(frozen=True)
class CaptureStats:
    frames_captured: int
    frames_dropped: int
    overflows: int
    level_dbfs: float
    queued_seconds: float


class CaptureBuffer:
    def __init__(self, samplerate: int, max_seconds: float = 30.0) -> None:
        self.samplerate = int(samplerate)
        self.max_frames = int(max_seconds * samplerate)
        self._blocks: collections.deque[np.ndarray] = collections.deque()
        self._queued_frames = 0
        self._lock = threading.Lock()
        self._frames_captured = 0
        self._frames_dropped = 0
        self._overflows = 0
        self._level_dbfs = rms_dbfs(np.zeros(0))
        self._closed = False
        self.first_frame_time: float | None = None  # monotonic time of the first frame

    def push(self, block: np.ndarray, overflowed: bool = False) -> None:
        """Called from the audio thread: copy, count, return."""
        frames = len(block)
        if self.first_frame_time is None:
            self.first_frame_time = time.monotonic() - frames / self.samplerate
        copy = np.array(block, dtype=np.float32, copy=True)
        with self._lock:
            if overflowed:
                self._overflows += 1
            self._frames_captured += frames
            if self._queued_frames + frames > self.max_frames:
                self._frames_dropped += frames
                return
            self._blocks.append(copy)
            self._queued_frames += frames
        # Level is informational; computed outside the lock on the small block.
        self._level_dbfs = rms_dbfs(copy)

    def drain(self) -> np.ndarray:
        """All queued frames as one (frames, channels) or (frames,) array; empty if none."""
        with self._lock:
            blocks = list(self._blocks)
            self._blocks.clear()
            self._queued_frames = 0
        if not blocks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(blocks)

    def close(self) -> None:
        self._closed = True

    @property
    def closed(self) -> bool:
        """True once the producer has said it will push nothing more."""
        return self._closed

    def stats(self) -> CaptureStats:
        with self._lock:
            return CaptureStats(
                frames_captured=self._frames_captured,
                frames_dropped=self._frames_dropped,
                overflows=self._overflows,
                level_dbfs=self._level_dbfs,
                queued_seconds=self._queued_frames / self.samplerate,
            )
