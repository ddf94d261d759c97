"""Voice-activity segmentation on a stream, with faster-whisper's bundled Silero VAD.

:class:`StreamingVad` runs the Silero model one 32 ms frame at a time, carrying its
recurrent state, so a live stream gets the same probabilities as a whole file.
:class:`Segmenter` turns those probabilities into utterances: it is pure (arrays in,
events out), so tests drive it without threads or clocks.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from audio import SAMPLE_RATE
from audio.levels import rms_dbfs

FRAME = 512  # Silero's window at 16 kHz: 32 ms
_CONTEXT = 64


class StreamingVad:
    """Speech probability per 512-sample frame, fed in arbitrary block sizes."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session
        self._state_h = np.zeros((1, 1, 128), dtype=np.float32)
        self._state_c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities for every whole frame completed by ``samples`` (possibly none)."""
        data = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        whole = len(data) // FRAME * FRAME
        self._pending = data[whole:]
        if whole == 0:
            return np.zeros(0, dtype=np.float32)
        frames = data[:whole].reshape(-1, FRAME)
        contexts = np.vstack([self._context, frames[:-1, -_CONTEXT:]])
        self._context = frames[-1, -_CONTEXT:].copy()
        batch = np.ascontiguousarray(np.concatenate([contexts, frames], axis=1))
        out, self._state_h, self._state_c = self._session.run(
            None, {"input": batch, "h": self._state_h, "c": self._state_c}
        )
        return np.asarray(out, dtype=np.float32).reshape(-1)


@dataclass(frozen=True)
class VadSettings:
    """Speech starts at ``threshold`` and goes on while the probability stays above
    ``neg_threshold``, both scaled by how high the probability goes on this line
    (:class:`ProbabilityScale`)."""

    threshold: float = 0.5
    neg_threshold: float = 0.35
    min_silence_ms: int = 400
    min_speech_ms: int = 250
    speech_pad_ms: int = 200
    max_utterance_s: float = 20.0
    # Past this length a shorter pause ends the utterance, so a long turn is committed in
    # pieces as it goes (the pieces are then decoded again as one: app/pipeline/live.py revisions).
    # On a telephone line the speech probability rarely drops for 400 ms inside a turn:
    # one 25 s turn of a real call was committed 11 s after its first half was said.
    long_utterance_s: float = 6.0
    long_utterance_silence_ms: int = 160


@dataclass(frozen=True)
class Utterance:
    """A stretch of speech on one side; sample indexes are on that side's 16 kHz timeline."""

    start_sample: int
    end_sample: int  # where speech stopped (before the trailing pad)
    audio: np.ndarray  # padded audio, from start_sample - pad to end_sample + pad
    audio_offset: int  # sample index of audio[0]
    voiced_frames: tuple[int, int]  # frame index range [first, last) of speech

    @property
    def start(self) -> float:
        return self.start_sample / SAMPLE_RATE

    @property
    def end(self) -> float:
        return self.end_sample / SAMPLE_RATE

    @property
    def duration(self) -> float:
        return (self.end_sample - self.start_sample) / SAMPLE_RATE


class LevelHistory:
    """Frame levels (dBFS per 32 ms frame) for the recent past of one side."""

    def __init__(self, max_seconds: float = 600.0) -> None:
        self._levels: collections.deque[float] = collections.deque(
            maxlen=int(max_seconds * SAMPLE_RATE / FRAME)
        )
        self._first_frame = 0

    def append(self, level: float) -> None:
        if len(self._levels) == self._levels.maxlen:
            self._first_frame += 1
        self._levels.append(level)

    @property
    def frames(self) -> int:
        return self._first_frame + len(self._levels)

    def between(self, first: int, last: int) -> np.ndarray:
        lo = max(first - self._first_frame, 0)
        hi = max(min(last - self._first_frame, len(self._levels)), lo)
        return np.fromiter((self._levels[i] for i in range(lo, hi)), dtype=np.float32)


class ProbabilityScale:
    """How high Silero's speech probability goes on this line.

    Silero was trained on wideband audio and is calibrated to it: on the reference clips
    through a G.711 line its speech probability has a median of 0.55 (0.99 clean), and at
    the fixed 0.5 whole phrases went unheard (live WER 0.21 against 0.09 for bare
    faster-whisper). A real 8 kHz call, on the other hand, reaches 0.9 and more. So the
    thresholds follow the line: they are scaled by a high percentile of the probability
    over this side's recent speech-like frames."""

    FLOOR = 0.15  # frames below this are not speech on any line measured
    PERCENTILE = 80

    def __init__(self, window: int = 900, min_frames: int = 30, lowest: float = 0.45) -> None:
        self._recent: collections.deque[float] = collections.deque(maxlen=window)
        self._min_frames = min_frames
        self._lowest = lowest
        self.value = lowest  # until this side has spoken: permissive

    def add(self, probabilities: np.ndarray) -> None:
        self._recent.extend(float(p) for p in probabilities if p > self.FLOOR)
        if len(self._recent) >= self._min_frames:
            high = float(np.percentile(np.fromiter(self._recent, np.float32), self.PERCENTILE))
            self.value = min(1.0, max(self._lowest, high))


class Segmenter:
    """Cuts one side's 16 kHz stream into utterances.

    ``feed()`` returns the utterances that ended in this block. While speech goes on,
    :attr:`active_audio` holds what has been said so far (for interim hypotheses).
    """

    def __init__(self, settings: VadSettings | None = None, vad: StreamingVad | None = None):
        self.settings = settings or VadSettings()
        self._vad = vad or StreamingVad()
        s = self.settings
        self._pad = int(s.speech_pad_ms * SAMPLE_RATE / 1000)
        self._min_silence_frames = max(1, round(s.min_silence_ms * SAMPLE_RATE / 1000 / FRAME))
        self._long_silence_frames = max(
            1, round(s.long_utterance_silence_ms * SAMPLE_RATE / 1000 / FRAME)
        )
        self._long_frames = int(s.long_utterance_s * SAMPLE_RATE / FRAME)
        self._min_speech = int(s.min_speech_ms * SAMPLE_RATE / 1000)
        self._max_samples = int(s.max_utterance_s * SAMPLE_RATE)
        self.levels = LevelHistory()
        self.probabilities = LevelHistory()
        self.scale = ProbabilityScale()
        self._audio = np.zeros(0, dtype=np.float32)  # recent audio
        self._audio_offset = 0  # sample index of self._audio[0]
        self._samples_seen = 0
        self._frames_done = 0
        self._speech_start: int | None = None  # frame index
        self._silence_run = 0
        self._last_speech_end: int | None = None  # frame index after last speech frame
        self._mid_pause: int | None = None  # a frame index where a short pause was seen

    @property
    def samples_seen(self) -> int:
        return self._samples_seen

    @property
    def in_speech(self) -> bool:
        return self._speech_start is not None

    @property
    def active_audio(self) -> np.ndarray:
        if self._speech_start is None:
            return np.zeros(0, dtype=np.float32)
        start = max(self._speech_start * FRAME - self._pad, self._audio_offset)
        return self._audio[start - self._audio_offset :]

    @property
    def active_start(self) -> float | None:
        return None if self._speech_start is None else self._speech_start * FRAME / SAMPLE_RATE

    def feed(self, samples: np.ndarray) -> list[Utterance]:
        samples = np.asarray(samples, dtype=np.float32)
        self._audio = np.concatenate([self._audio, samples])
        self._samples_seen += len(samples)
        probs = self._vad.process(samples)
        done: list[Utterance] = []
        self.scale.add(probs)
        for prob in probs:
            frame = self._frames_done
            self._frames_done += 1
            lo = frame * FRAME - self._audio_offset
            self.levels.append(rms_dbfs(self._audio[lo : lo + FRAME]))
            self.probabilities.append(float(prob))
            utterance = self._step(frame, float(prob))
            if utterance is not None:
                done.append(utterance)
        self._trim()
        return done

    def flush(self) -> list[Utterance]:
        """End of stream: whatever is being said now is an utterance."""
        if self._speech_start is None:
            return []
        end = self._last_speech_end or self._frames_done
        utterance = self._cut(self._speech_start, end)
        self._speech_start = None
        return [utterance] if utterance is not None else []

    def _step(self, frame: int, prob: float) -> Utterance | None:
        s = self.settings
        threshold, neg_threshold = (
            s.threshold * self.scale.value,
            s.neg_threshold * self.scale.value,
        )
        if self._speech_start is None:
            if prob >= threshold:
                self._speech_start = frame
                self._last_speech_end = frame + 1
                self._silence_run = 0
                self._mid_pause = None
            return None
        if prob >= threshold or (prob >= neg_threshold and self._silence_run == 0):
            if self._silence_run >= 3:  # ≥ 96 ms pause: a place to cut a long monologue
                self._mid_pause = self._last_speech_end
            self._silence_run = 0
            self._last_speech_end = frame + 1
        else:
            self._silence_run += 1
            long = frame - self._speech_start >= self._long_frames
            if self._silence_run >= self._min_silence_frames or (
                long and self._silence_run >= self._long_silence_frames
            ):
                return self._end_utterance(self._last_speech_end or frame)
        if (frame + 1 - self._speech_start) * FRAME >= self._max_samples:
            cut = self._mid_pause if self._mid_pause else frame + 1
            utterance = self._cut(self._speech_start, cut)
            self._speech_start = cut
            self._mid_pause = None
            return utterance
        return None

    def _end_utterance(self, end_frame: int) -> Utterance | None:
        start = self._speech_start
        self._speech_start = None
        assert start is not None
        return self._cut(start, end_frame)

    def _cut(self, start_frame: int, end_frame: int) -> Utterance | None:
        start_sample, end_sample = start_frame * FRAME, end_frame * FRAME
        if end_sample - start_sample < self._min_speech:
            return None
        lo = max(start_sample - self._pad, self._audio_offset)
        hi = min(end_sample + self._pad, self._audio_offset + len(self._audio))
        audio = self._audio[lo - self._audio_offset : hi - self._audio_offset].copy()
        return Utterance(start_sample, end_sample, audio, lo, (start_frame, end_frame))

    def _trim(self) -> None:
        """Keep only what a future utterance can still need."""
        if self._speech_start is not None:
            keep_from = self._speech_start * FRAME - self._pad
        else:
            keep_from = self._audio_offset + len(self._audio) - self._pad - FRAME
        drop = max(0, keep_from - self._audio_offset)
        if drop > 0:
            self._audio = self._audio[drop:]
            self._audio_offset += drop
