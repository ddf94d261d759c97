"""Keeping a call's audio (only when the user turned it on): one FLAC file per side, 16 kHz
mono, written as the audio arrives, both on the call's clock (silence where a side was not
yet open), so a line's start time is also its place in the file."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import soundfile

from audio import SAMPLE_RATE
from audio.sides import Side


class CallAudioWriter:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[Side, soundfile.SoundFile] = {}
        self._lock = threading.Lock()
        self._closed = False

    def path(self, side: Side) -> Path:
        return self.folder / f"{side.value}.flac"

    def write(self, side: Side, samples: np.ndarray) -> None:
        """16 kHz mono float samples of one side, in call order (the pipeline thread)."""
        if not samples.size:
            return
        with self._lock:
            if self._closed:
                return
            handle = self._files.get(side)
            if handle is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                handle = soundfile.SoundFile(
                    self.path(side), "w", SAMPLE_RATE, 1, subtype="PCM_16", format="FLAC"
                )
                self._files[side] = handle
            handle.write(np.clip(samples, -1.0, 1.0))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            files, self._files = self._files, {}
        for handle in files.values():
            handle.close()
