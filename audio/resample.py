"""Any input rate and channel count → 16 kHz mono float32, in streaming blocks."""

from __future__ import annotations

import numpy as np
import soxr

from audio import SAMPLE_RATE


def to_mono(block: np.ndarray) -> np.ndarray:
    """Average the channels of a (frames, channels) block; 1-D input passes through."""
    block = np.asarray(block, dtype=np.float32)
    if block.ndim == 1:
        return block
    if block.shape[1] == 1:
        return block[:, 0]
    return block.mean(axis=1, dtype=np.float32)


class StreamResampler:
    """Converts a stream of blocks at ``input_rate`` to 16 kHz without edge artefacts."""

    def __init__(self, input_rate: int) -> None:
        self.input_rate = int(input_rate)
        self._stream = (
            None
            if self.input_rate == SAMPLE_RATE
            else soxr.ResampleStream(self.input_rate, SAMPLE_RATE, 1, dtype="float32")
        )

    def process(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        mono = np.ascontiguousarray(to_mono(block), dtype=np.float32)
        if self._stream is None:
            return mono
        return self._stream.resample_chunk(mono, last=last)

    def flush(self) -> np.ndarray:
        return self.process(np.zeros(0, dtype=np.float32), last=True)


def resample_to_16k(samples: np.ndarray, input_rate: int) -> np.ndarray:
    """Whole-array conversion (offline analysis)."""
    mono = np.ascontiguousarray(to_mono(samples), dtype=np.float32)
    if int(input_rate) == SAMPLE_RATE:
        return mono
    return soxr.resample(mono, int(input_rate), SAMPLE_RATE).astype(np.float32, copy=False)
