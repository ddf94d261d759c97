"""Two-sided streaming transcription as plain calls: ``feed()`` audio, ``step()`` for events.

No threads and no clocks in here: :class:`app.pipeline.session.CallSession` runs it against real
sources, tests drive it with arrays. One ``step()`` does at most one decode, chosen so that
latency stays bounded:

1. a finished utterance waiting to be committed (oldest first, either side) always wins;
2. then a revision: a speaker who went on after a short pause has the whole stretch
   decoded again, and the result replaces the lines it covers (:class:`Revised`) when it
   is at least as complete — a short piece on its own decodes worse than in its sentence
   ("Hey guys" came out as "There you go" alone, right in context);
3. otherwise an interim hypothesis for a side that is still speaking, when it is due;
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

from app.events import (
    Committed,
    Degraded,
    Discarded,
    Event,
    Partial,
    Revised,
    Segment,
    SpeechStarted,
)
from app.pipeline.crosstalk import (
    ECHO_MAX_LAG_FRAMES,
    SpeechLevel,
    is_crosstalk,
    is_echo,
    loud_level,
    own_voice_spans,
)
from audio.sides import Side
from audio.vad import FRAME, SAMPLE_RATE, Segmenter, Utterance, VadSettings
from models.stt import Decoded, has_loop, is_invented

log = logging.getLogger(__name__)

OTHER_VOICE = "crosstalk"
PART_PAD = 1600  # 100 ms of audio kept around a part cut out of an utterance
ONSET_FRAMES = 8  # 256 ms of one's own voice: someone started speaking


class Decoder(Protocol):
    def decode(
        self, audio: np.ndarray, beam_size: int = 5, prompt: str = "", window_s: float = 10.0
    ) -> Decoded: ...


@dataclass(frozen=True)
class LiveSettings:
    vad: VadSettings = field(default_factory=VadSettings)
    beam_size: int = 5
    interim_beam_size: int = 1
    interim_every_s: float = 1.0  # of new speech, at least
    min_interim_audio_s: float = 0.8
    quiet_dbfs: float = -55.0  # an utterance quieter than this is line noise
    revise_gap_s: float = 1.5  # speech resumed within this pause: decode the stretch again
    revise_max_s: float = 20.0  # longest stretch decoded as one: a line is at most 20 s
    revise_window_s: float = 10.0  # shortest decode window of a revision (models/stt.py)
    revise_min_words: float = 0.8  # of the lines' words a revision keeps (else truncated)
    vocabulary: tuple[str, ...] = ()  # names the team's callers say, to bias the decoder
    # A recording, not a live call: hold each speaker's stretch until it ends and decode it
    # once, instead of committing its pieces and revising them (same text, half the work).
    hold_stretches: bool = False

    @property
    def prompt(self) -> str:
        return ", ".join(term.strip() for term in self.vocabulary if term.strip())


@dataclass
class DecodeStats:
    commits: int = 0
    interims: int = 0
    interims_skipped: int = 0
    discarded: int = 0
    failures: int = 0  # decodes that raised (the utterance is retried once, then skipped)
    revisions: int = 0  # lines replaced by a decode of the longer stretch
    revisions_kept: int = 0  # decodes of a longer stretch that were not better
    decode_seconds: float = 0.0


@dataclass
class _Line:
    """A committed line still open to revision: its audio and what is shown for it."""

    segment_id: int
    utterance: Utterance
    text: str

    @property
    def words(self) -> int:
        return len(self.text.split())


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
        self._open: dict[Side, list[_Line]] = {side: [] for side in Side}  # revisable lines
        self._revise: list[Side] = []  # sides whose open lines wait to be decoded together
        self._held: dict[Side, list[Utterance]] = {side: [] for side in Side}  # hold_stretches
        self._last_start = dict.fromkeys(Side, -1)  # sample where each side's last line began
        self._last_end = dict.fromkeys(Side, -1)  # … and where it ended
        self._interim_cost = 0.0
        self._announced: dict[Side, float | None] = dict.fromkeys(Side)  # utterance start told
        self._onset_checked_at = dict.fromkeys(Side, -1)  # both sides' frames at the last look
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

    @property
    def settled_until(self) -> float:
        """Call time before which every line is committed: the start of the oldest speech
        still held or waiting (``hold_stretches``), else where both streams are."""
        starts = [pieces[0].start for pieces in self._held.values() if pieces]
        starts += [u.start for *_, u in self._pending]
        return min(starts, default=min(self.position(side) for side in Side))

    # -- work ----------------------------------------------------------------------------
    def step(self, allow_interim: bool = True) -> list[Event]:
        started = self._speech_started()
        if started:
            return started
        if self._pending:
            *_, side, utterance = heapq.heappop(self._pending)
            return self._commit(side, utterance)
        for side in Side:
            if self._held[side] and self._stretch_over(side):
                return self._commit_held(side)
        if self._revise and not any(seg.in_speech for seg in self._segmenters.values()):
            # only while nobody speaks: a commit that waited on a 30 s decode would be late
            return self._revision(self._revise.pop(0))
        if allow_interim:
            return self._interim()
        return []

    def _speech_started(self) -> list[Event]:
        """A side whose own voice has been heard for a syllable in the utterance going on
        now (the other side's bleed does not count): said once per utterance."""
        events: list[Event] = []
        for side, segmenter in self._segmenters.items():
            start = segmenter.active_start
            history = segmenter.levels
            if start is None or self._announced[side] == start:
                continue
            seen = history.frames + self._segmenters[side.other].levels.frames
            if self._onset_checked_at[side] == seen:
                continue  # no new audio on either side since the last look
            self._onset_checked_at[side] = seen
            first, last = round(start * SAMPLE_RATE) // FRAME, history.frames
            own = history.between(first, last)
            other = self._segmenters[side.other].levels.between(first, last)
            spans = own_voice_spans(
                own, other, self._levels[side].typical, self._levels[side.other].typical
            )
            if not spans or spans[-1][1] < own.size or spans[-1][1] - spans[-1][0] < ONSET_FRAMES:
                continue
            a, b = spans[-1]
            if loud_level(own[a:b])[0] < self.settings.quiet_dbfs:
                continue
            self._announced[side] = start
            events.append(SpeechStarted(side, (first + a) * FRAME / SAMPLE_RATE))
        return events

    def drain(self) -> list[Event]:
        """Commit (and revise) everything waiting (used at stop)."""
        events: list[Event] = []
        while self._pending:
            events.extend(self.step(allow_interim=False))
        while self._revise:
            events.extend(self._revision(self._revise.pop(0)))
        for side in Side:
            if self._held[side]:
                events.extend(self._commit_held(side))
        return events

    def _frame_levels(self, side: Side, utterance: Utterance) -> np.ndarray:
        first, last = utterance.voiced_frames
        return self._segmenters[side].levels.between(first, last)

    def _other_before(self, side: Side, utterance: Utterance) -> np.ndarray:
        first, last = utterance.voiced_frames
        return self._segmenters[side.other].levels.between(first - ECHO_MAX_LAG_FRAMES, last)

    def _commit(self, side: Side, utterance: Utterance) -> list[Event]:
        events: list[Event] = []
        if self._shown_interim[side]:
            events.append(Partial(side, utterance.start, ""))
            self._shown_interim[side] = False
        covered = utterance.start_sample
        for part in self._own_voice(side, utterance):
            if part.start_sample > covered:
                events.append(Discarded(side, covered / SAMPLE_RATE, part.start, OTHER_VOICE))
            events.extend(self._commit_part(side, part))
            covered = part.end_sample
        if covered < utterance.end_sample:
            events.append(Discarded(side, covered / SAMPLE_RATE, utterance.end, OTHER_VOICE))
        return events

    def _own_voice(self, side: Side, utterance: Utterance) -> list[Utterance]:
        """The utterance cut to where this side's own voice is heard (``own_voice_spans``):
        an agent who starts over the client's bleed on their line gets a line of their own
        words, starting when they started."""
        first, _ = utterance.voiced_frames
        own = self._frame_levels(side, utterance)
        spans = own_voice_spans(
            own,
            self._frame_levels(side.other, utterance),
            self._levels[side].typical,
            self._levels[side.other].typical,
        )
        if not spans or spans == [(0, own.size)]:
            # nothing cut, or nothing of their own: the checks on the whole utterance decide
            return [utterance]
        parts = []
        end_of_audio = utterance.audio_offset + len(utterance.audio)
        for a, b in spans:
            start, end = (first + a) * FRAME, (first + b) * FRAME
            lo = max(start - PART_PAD, utterance.audio_offset)
            hi = min(end + PART_PAD, end_of_audio)
            audio = utterance.audio[lo - utterance.audio_offset : hi - utterance.audio_offset]
            parts.append(Utterance(start, end, audio, lo, (first + a, first + b)))
        return parts

    def _commit_part(self, side: Side, utterance: Utterance) -> list[Event]:
        events: list[Event] = []
        own = self._frame_levels(side, utterance)
        other = self._frame_levels(side.other, utterance)
        own_level, _ = loud_level(own)
        reason = None
        if own_level < self.settings.quiet_dbfs:
            reason = "too quiet"
        elif is_crosstalk(own, other, self._levels[side].typical, self._levels[side.other].typical):
            reason = "crosstalk"
        elif is_echo(own, self._other_before(side, utterance)):
            reason = "echo of the other side"
        if self.settings.hold_stretches:
            return events + self._hold(side, utterance, own_level, reason)
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
            self._open[side] = []  # never decode across what was thrown away
            events.append(
                Discarded(side, utterance.start, utterance.end, reason or "no speech recognised")
            )
            return events
        self._levels[side].add(own_level)
        self.stats.commits += 1
        segment = Segment(
            next(self._ids), side, utterance.start, utterance.end, decoded.text,
            level_db=own_level,
        )  # fmt: skip
        self._keep_open(side, _Line(segment.id, utterance, decoded.text))
        self._last_start[side] = utterance.start_sample
        self._last_end[side] = utterance.end_sample
        events.append(Committed(segment))
        return events

    # -- stretches: a speaker going on after a short pause -------------------------------
    def _joins(self, side: Side, first: Utterance, last: Utterance, new: Utterance) -> bool:
        """Does ``new`` go on the stretch ``first``…``last``: a short pause, not too long in
        all, and the other side did not take the turn in between (nor talk on past ``last``'s
        end, over it)?"""
        s = self.settings
        return (
            new.start - last.end <= s.revise_gap_s
            and new.end - first.start <= s.revise_max_s
            and self._last_end[side.other] <= last.end_sample
        )

    def _hold(
        self, side: Side, utterance: Utterance, level: float, reason: str | None
    ) -> list[Event]:
        held = self._held[side]
        events: list[Event] = []
        if reason is not None:
            events = self._commit_held(side) if held else []
            self.stats.discarded += 1
            return [*events, Discarded(side, utterance.start, utterance.end, reason)]
        self._levels[side].add(level)
        if held and not self._joins(side, held[0], held[-1], utterance):
            events = self._commit_held(side)
        self._held[side].append(utterance)
        self._last_start[side] = utterance.start_sample
        self._last_end[side] = utterance.end_sample
        return events

    def _stretch_over(self, side: Side) -> bool:
        """No more speech can join the held stretch: the pause has grown too long."""
        segmenter = self._segmenters[side]
        last = self._held[side][-1]
        limit = last.end_sample + self.settings.revise_gap_s * SAMPLE_RATE
        if segmenter.in_speech:
            return (segmenter.active_start or 0.0) * SAMPLE_RATE > limit
        return segmenter.samples_seen > limit

    def _commit_held(self, side: Side) -> list[Event]:
        pieces, self._held[side] = self._held[side], []
        first, last = pieces[0], pieces[-1]
        audio = self._stretch_audio(pieces)
        stretch = Utterance(
            first.start_sample, last.end_sample, audio, first.audio_offset,
            (first.voiced_frames[0], last.voiced_frames[1]),
        )  # fmt: skip
        events: list[Event] = []
        started = self._timer()
        decoded = self._decode_committed(side, stretch, events)
        self.stats.decode_seconds += self._timer() - started
        if decoded is None or is_invented(
            decoded.text, decoded.avg_logprob, decoded.no_speech_prob, stretch.duration
        ):
            self.stats.discarded += 1
            return [*events, Discarded(side, stretch.start, stretch.end, "no speech recognised")]
        self.stats.commits += 1
        segment = Segment(
            next(self._ids), side, stretch.start, stretch.end, decoded.text,
            level_db=loud_level(self._frame_levels(side, stretch))[0],
        )  # fmt: skip
        return [*events, Committed(segment)]

    # -- revisions -----------------------------------------------------------------------
    def _keep_open(self, side: Side, line: _Line) -> None:
        """Join ``line`` to the speaker's open stretch when they went on after a short pause
        (and the other side did not take the turn), else start a new stretch with it."""
        lines = self._open[side]
        if lines:
            first, last = lines[0].utterance, lines[-1].utterance
            if self._joins(side, first, last, line.utterance):
                lines.append(line)
                if side not in self._revise:
                    self._revise.append(side)
                return
        self._open[side] = [line]
        if side in self._revise:
            self._revise.remove(side)

    @staticmethod
    def _stretch_audio(pieces: list[Utterance]) -> np.ndarray:
        """Utterances' audio on one timeline; the pauses between them are what the segmenter
        kept around each piece (its padding), silence beyond that."""
        start = pieces[0].audio_offset
        end = max(piece.audio_offset + len(piece.audio) for piece in pieces)
        audio = np.zeros(end - start, dtype=np.float32)
        for piece in pieces:
            at = piece.audio_offset - start
            audio[at : at + len(piece.audio)] = piece.audio
        return audio

    def _revision(self, side: Side) -> list[Event]:
        lines = self._open[side]
        if len(lines) < 2:
            return []
        audio = self._stretch_audio([line.utterance for line in lines])
        seconds = (lines[-1].utterance.end_sample - lines[0].utterance.start_sample) / SAMPLE_RATE
        started = self._timer()
        try:
            decoded = self._decoder.decode(
                audio,
                beam_size=self.settings.beam_size,
                prompt=self.settings.prompt,
                window_s=self.settings.revise_window_s,
            )
        except Exception:  # the lines as committed stand
            log.exception("decoding a %.1f s stretch again failed", seconds)
            self.stats.failures += 1
            return []
        finally:
            self.stats.decode_seconds += self._timer() - started
        words = len(decoded.text.split())
        if (
            is_invented(decoded.text, decoded.avg_logprob, decoded.no_speech_prob, seconds)
            or has_loop(decoded.text)
            or words < self.settings.revise_min_words * sum(line.words for line in lines)
        ):
            self.stats.revisions_kept += 1
            return []
        first, last = lines[0], lines[-1]
        self.stats.revisions += 1
        replaced = tuple(line.segment_id for line in lines)
        merged = Utterance(
            first.utterance.start_sample,
            last.utterance.end_sample,
            audio,
            first.utterance.audio_offset,
            (first.utterance.voiced_frames[0], last.utterance.voiced_frames[1]),
        )
        self._open[side] = [_Line(first.segment_id, merged, decoded.text)]
        segment = Segment(
            first.segment_id,
            side,
            first.utterance.start,
            last.utterance.end,
            decoded.text,
            revised=True,
            level_db=loud_level(self._frame_levels(side, merged))[0],
        )
        return [Revised(segment, replaces=replaced)]

    def _decode_committed(
        self, side: Side, utterance: Utterance, events: list[Event]
    ) -> Decoded | None:
        """The utterance's text; a decoder that raises is tried once more, then the
        utterance is skipped and reported, and the call goes on."""
        for attempt in (1, 2):
            try:
                return self._decoder.decode(
                    utterance.audio, beam_size=self.settings.beam_size, prompt=self.settings.prompt
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
        typical, other_typical = self._levels[side].typical, self._levels[side.other].typical
        spans = own_voice_spans(own, other, typical, other_typical)
        if not spans or spans[-1][1] < own.size:
            return []  # only the other side's voice, now
        if spans[-1][0] > 0:  # started over the other side's voice: preview only their words
            first += spans[-1][0]
            own, other = own[spans[-1][0] :], other[spans[-1][0] :]
            audio = audio[max(0, len(audio) - own.size * FRAME - PART_PAD) :]
        before = self._segmenters[side.other].levels.between(first - ECHO_MAX_LAG_FRAMES, last)
        if (
            loud_level(own)[0] < s.quiet_dbfs
            or is_crosstalk(own, other, typical, other_typical)
            or is_echo(own, before)
        ):
            return []
        started = self._timer()
        try:
            decoded = self._decoder.decode(audio, beam_size=s.interim_beam_size, prompt=s.prompt)
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
        start = max(self._segmenters[side].active_start or 0.0, first * FRAME / SAMPLE_RATE)
        return [Partial(side, start, decoded.text)]
