"""Two-sided streaming transcription as plain calls: ``feed()`` audio, ``step()`` for events.

No threads and no clocks in here: :class:`app.session.CallSession` runs it against real
sources, tests drive it with arrays. One ``step()`` does at most one decode, chosen so that
latency stays bounded:

1. a finished utterance waiting to be committed (oldest first, either side) always wins;
2. otherwise an interim hypothesis for a side that is still speaking, when it is due;
   interims are skipped entirely while commits are waiting, and spaced out further when
   decoding is slow, so falling behind sheds interim work instead of drifting.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from app.crosstalk import SpeechLevel, is_crosstalk, loud_level
from app.transcript import Committed, Degraded, Discarded, Event, Partial, Segment
from audio.sides import Side
from audio.vad import FRAME, SAMPLE_RATE, Segmenter, Utterance, VadSettings
from models.stt import Decoded, is_invented

log = logging.getLogger(__name__)


class Decoder(Protocol):
    def decode(self, audio: np.ndarray, beam_size: int = 5, previous: str = "") -> Decoded: ...


@dataclass(frozen=True)
class LiveSettings:
    vad: VadSettings = field(default_factory=VadSettings)
    beam_size: int = 5
    interim_beam_size: int = 1
    interim_every_s: float = 1.0  # of new speech, at least
    min_interim_audio_s: float = 0.8
    quiet_dbfs: float = -55.0  # an utterance quieter than this is line noise


@dataclass
class DecodeStats:
    commits: int = 0
    interims: int = 0
    interims_skipped: int = 0
    discarded: int = 0
    failures: int = 0  # decodes that raised (the utterance is retried once, then skipped)
    decode_seconds: float = 0.0


class LiveTranscriber:
    def __init__(
        self,
        decoder: Decoder,
        settings: LiveSettings | None = None,
        segmenter_factory: Callable[[VadSettings], Segmenter] = Segmenter,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.settings = settings or LiveSettings()
        self._decoder = decoder
        self._timer = timer
        self._segmenters = {side: segmenter_factory(self.settings.vad) for side in Side}
        self._levels = {side: SpeechLevel() for side in Side}
        self._pending: list[tuple[int, int, Side, Utterance]] = []  # heap by end sample
        self._order = itertools.count()
        self._ids = itertools.count(1)
        self._last_interim_at = dict.fromkeys(Side, 0)  # samples of active audio
        self._shown_interim = dict.fromkeys(Side, False)
        self._previous = dict.fromkeys(Side, "")  # each speaker's last committed text
        self._interim_cost = 0.0
        self.stats = DecodeStats()

    # -- input ---------------------------------------------------------------------------
    def feed(self, side: Side, samples: np.ndarray) -> None:
        """16 kHz mono float32 for one side, in call order."""
        for utterance in self._segmenters[side].feed(samples):
            self._queue(side, utterance)

    def finish(self) -> None:
        """End of both streams: what is being said now becomes an utterance."""
        for side, segmenter in self._segmenters.items():
            for utterance in segmenter.flush():
                self._queue(side, utterance)

    def _queue(self, side: Side, utterance: Utterance) -> None:
        heapq.heappush(self._pending, (utterance.end_sample, next(self._order), side, utterance))
        self._last_interim_at[side] = 0

    # -- state ---------------------------------------------------------------------------
    @property
    def backlog_seconds(self) -> float:
        """Speech captured but not yet committed (waiting utterances)."""
        return sum(u.duration for *_, u in self._pending)

    @property
    def pending_commits(self) -> int:
        return len(self._pending)

    def position(self, side: Side) -> float:
        return self._segmenters[side].samples_seen / SAMPLE_RATE

    # -- work ----------------------------------------------------------------------------
    def step(self, allow_interim: bool = True) -> list[Event]:
        if self._pending:
            *_, side, utterance = heapq.heappop(self._pending)
            return self._commit(side, utterance)
        if allow_interim:
            return self._interim()
        return []

    def drain(self) -> list[Event]:
        """Commit everything waiting (used at stop)."""
        events: list[Event] = []
        while self._pending:
            events.extend(self.step(allow_interim=False))
        return events

    def _frame_levels(self, side: Side, utterance: Utterance) -> np.ndarray:
        first, last = utterance.voiced_frames
        return self._segmenters[side].levels.between(first, last)

    def _commit(self, side: Side, utterance: Utterance) -> list[Event]:
        events: list[Event] = []
        if self._shown_interim[side]:
            events.append(Partial(side, utterance.start, ""))
            self._shown_interim[side] = False
        own = self._frame_levels(side, utterance)
        other = self._frame_levels(side.other, utterance)
        own_level, _ = loud_level(own)
        reason = None
        if own_level < self.settings.quiet_dbfs:
            reason = "too quiet"
        elif is_crosstalk(own, other, self._levels[side].typical, self._levels[side.other].typical):
            reason = "crosstalk"
        decoded = None
        if reason is None:
            started = self._timer()
            decoded = self._decode_committed(side, utterance, events)
            self.stats.decode_seconds += self._timer() - started
            if decoded is None:
                reason = "speech-to-text failed"
            elif is_invented(
                decoded.text, decoded.avg_logprob, decoded.no_speech_prob, utterance.duration
            ):
                reason = "no speech recognised"
        if reason is not None or decoded is None:
            self.stats.discarded += 1
            events.append(
                Discarded(side, utterance.start, utterance.end, reason or "no speech recognised")
            )
            return events
        self._levels[side].add(own_level)
        self._previous[side] = decoded.text
        self.stats.commits += 1
        segment = Segment(next(self._ids), side, utterance.start, utterance.end, decoded.text)
        events.append(Committed(segment))
        return events

    def _decode_committed(
        self, side: Side, utterance: Utterance, events: list[Event]
    ) -> Decoded | None:
        """The utterance's text; a decoder that raises is tried once more, then the
        utterance is skipped and reported, and the call goes on."""
        for attempt in (1, 2):
            try:
                return self._decoder.decode(
                    utterance.audio,
                    beam_size=self.settings.beam_size,
                    previous=self._previous[side],
                )
            except Exception as exc:
                self.stats.failures += 1
                log.exception("decoding a %.1f s utterance failed (try %d)", utterance.duration,
                              attempt)  # fmt: skip
                error = exc
        events.append(
            Degraded(
                "speech-to-text",
                f"Speech-to-text failed on {utterance.duration:.1f} s of the {side.value}'s "
                f"speech ({error}); that part is missing from the transcript.",
            )
        )
        return None

    def _interim(self) -> list[Event]:
        s = self.settings
        spacing = max(s.interim_every_s, 3.0 * self._interim_cost)
        due = []
        for side, segmenter in self._segmenters.items():
            audio = segmenter.active_audio
            seconds = len(audio) / SAMPLE_RATE
            since = (len(audio) - self._last_interim_at[side]) / SAMPLE_RATE
            if seconds >= s.min_interim_audio_s and since >= spacing:
                due.append((since, side, audio))
        if not due:
            return []
        since, side, audio = max(due, key=lambda item: item[0])
        self.stats.interims_skipped += len(due) - 1
        history = self._segmenters[side].levels
        first, last = history.frames - len(audio) // FRAME, history.frames
        own = history.between(first, last)
        other = self._segmenters[side.other].levels.between(first, last)
        self._last_interim_at[side] = len(audio)
        if loud_level(own)[0] < s.quiet_dbfs or is_crosstalk(
            own, other, self._levels[side].typical, self._levels[side.other].typical
        ):
            return []
        started = self._timer()
        try:
            decoded = self._decoder.decode(
                audio, beam_size=s.interim_beam_size, previous=self._previous[side]
            )
        except Exception:  # interim text is a preview: skip it; commits report failures
            log.exception("interim decode failed")
            self.stats.failures += 1
            return []
        cost = self._timer() - started
        self._interim_cost = 0.7 * self._interim_cost + 0.3 * cost if self._interim_cost else cost
        self.stats.decode_seconds += cost
        self.stats.interims += 1
        if is_invented(
            decoded.text, decoded.avg_logprob, decoded.no_speech_prob, len(audio) / SAMPLE_RATE
        ):
            return []
        self._shown_interim[side] = True
        start = self._segmenters[side].active_start or 0.0
        return [Partial(side, start, decoded.text)]
