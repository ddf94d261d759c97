"""Keeping words on the side where they were spoken.

Two-channel captures bleed: the agent's voice leaks into the client line, quieter. An
utterance is crosstalk when, over its own loudest frames, the other side is much louder
relative to how loud each side usually speaks. Genuine double-talk is kept: each speaker
is at their usual level on their own channel.

An agent on speakers is the other case: the mic hears the client's line again, later and
quieter, as loud as the speakers are. It is an echo (:func:`is_echo`) when the utterance's
level follows the other side's, frame by frame, at some delay up to 320 ms; the agent
talking over the client has an envelope of their own and is kept.

Double-talk joins the two cases: the agent starts while the client's bleed is already an
utterance on the agent's line, and a decoder would write the client's words into the agent's
line. :func:`own_voice_spans` keeps the stretches where the side's own voice is heard.
"""

from __future__ import annotations

import collections
import statistics

import numpy as np

DEFAULT_SPEECH_DBFS = -25.0
MARGIN_DB = 15.0
MIN_OTHER_DBFS = -50.0
# Speakers instead of a headset: the mic hears the client's line back, delayed (output
# buffers, the air, the room) and quieter. Its level then follows the other side's, a few
# frames later.
ECHO_MAX_LAG_FRAMES = 10  # 320 ms of 32 ms frames
ECHO_MIN_CORRELATION = 0.8
ECHO_MIN_DROP_DB = 3.0  # an echo is quieter than what it echoes
LEVEL_FLOOR_DBFS = -70.0
# Only the other side heard for this long at an utterance's edge (or, inside it, the longer
# gap) is cut off: shorter stretches are pauses between one's own words.
EDGE_FRAMES = 6  # 192 ms
GAP_FRAMES = 19  # 608 ms
MIN_SPAN_FRAMES = 8  # 256 ms: a shorter remainder is not a line
OWN_RANGE_DB = 20.0  # a frame this far under one's usual speaking level is not one's voice


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


def own_voice_spans(
    own: np.ndarray, other: np.ndarray, own_typical: float, other_typical: float
) -> list[tuple[int, int]]:
    """Frame ranges ``[a, b)`` of an utterance (frame levels of both sides, dBFS) where its
    own speaker talks. A frame is the other side's when the other is at speaking level and,
    relative to how loud each side usually speaks, much louder than this side (its bleed, or
    this side silent while the other talks); it is this side's when this side is near its own
    speaking level. A stretch of neither, mostly the other's voice, is cut off at either edge
    and splits the utterance when inside; what is left shorter than a syllable is dropped.
    Returns ``[(0, len(own))]`` when nothing is cut."""
    n = min(own.size, other.size)
    whole = [(0, int(own.size))]
    if n == 0:
        return whole
    relative = own[:n] - own_typical
    others = (other[:n] >= MIN_OTHER_DBFS) & ((other[:n] - other_typical) - relative > MARGIN_DB)
    if not others.any():
        return whole
    voiced = np.concatenate([~others & (relative > -OWN_RANGE_DB), np.ones(own.size - n, bool)])
    others = np.concatenate([others, np.zeros(own.size - n, dtype=bool)])
    cuts = []
    index = 0
    while index < voiced.size:
        if voiced[index]:
            index += 1
            continue
        end = index
        while end < voiced.size and not voiced[end]:
            end += 1
        at_edge = index == 0 or end == voiced.size
        long_enough = end - index >= (EDGE_FRAMES if at_edge else GAP_FRAMES)
        if long_enough and others[index:end].mean() >= 0.5:
            cuts.append((index, end))
        index = end
    if not cuts:
        return whole
    spans, start = [], 0
    for cut_start, cut_end in cuts:
        spans.append((start, cut_start))
        start = cut_end
    spans.append((start, voiced.size))
    return [(a, b) for a, b in spans if b - a >= MIN_SPAN_FRAMES]


def is_echo(own: np.ndarray, other_before: np.ndarray) -> bool:
    """``own``: frame levels (dBFS) over the utterance; ``other_before``: the other side's,
    from ``ECHO_MAX_LAG_FRAMES`` frames before the utterance to its end."""
    n = own.size
    lags = other_before.size - n
    if n < 8 or lags < 0:
        return False
    own_db = np.maximum(own, LEVEL_FLOOR_DBFS)
    if own_db.std() < 1.0:
        return False
    for lag in range(min(lags, ECHO_MAX_LAG_FRAMES) + 1):
        start = lags - lag  # the other side ``lag`` frames earlier
        other = np.maximum(other_before[start : start + n], LEVEL_FLOOR_DBFS)
        if other.std() < 1.0:
            continue
        correlation = float(np.corrcoef(own_db, other)[0, 1])
        if correlation < ECHO_MIN_CORRELATION:
            continue
        own_loud, mask = loud_level(own_db)
        if float(np.median(other[mask])) - own_loud >= ECHO_MIN_DROP_DB:
            return True
    return False
