"""Keeping words on the side where they were spoken.

Two-channel captures bleed: the agent's voice leaks into the client line, quieter. An
utterance is crosstalk when, over its own loudest frames, the other side is much louder
relative to how loud each side usually speaks. Genuine double-talk is kept: each speaker
is at their usual level on their own channel.
"""

from __future__ import annotations

import collections
import statistics

import numpy as np

DEFAULT_SPEECH_DBFS = -25.0
MARGIN_DB = 15.0
MIN_OTHER_DBFS = -50.0


class SpeechLevel:
    """Running typical speech level of one side (median of recent kept utterances)."""

    def __init__(self, history: int = 20) -> None:
        self._recent: collections.deque[float] = collections.deque(maxlen=history)

    @property
    def typical(self) -> float:
        return statistics.median(self._recent) if self._recent else DEFAULT_SPEECH_DBFS

    def add(self, level: float) -> None:
        self._recent.append(level)


def loud_level(own: np.ndarray) -> tuple[float, np.ndarray]:
    """Median level of the loudest half of the frames, and that half's mask."""
    if own.size == 0:
        return -120.0, np.zeros(0, dtype=bool)
    mask = own >= np.median(own)
    return float(np.median(own[mask])), mask


def is_crosstalk(
    own: np.ndarray, other: np.ndarray, own_typical: float, other_typical: float
) -> bool:
    """``own``/``other``: frame levels (dBFS) of both sides over the utterance's time span."""
    n = min(own.size, other.size)
    if n == 0:
        return False
    own_level, mask = loud_level(own[:n])
    other_level = float(np.median(other[:n][mask]))
    if other_level < MIN_OTHER_DBFS:
        return False
    return (other_level - other_typical) - (own_level - own_typical) > MARGIN_DB
