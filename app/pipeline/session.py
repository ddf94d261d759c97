"""A live call: two audio sources → live transcription, on one worker thread.

The PortAudio callbacks (or file replays) only fill bounded buffers. One pipeline thread
drains both buffers, resamples to 16 kHz, runs voice-activity detection and lets
:class:`app.pipeline.live.LiveTranscriber` decode — at most one decode at a time, so the CPU
budget is exactly the Whisper thread count plus one light thread. Events go to ``on_event`` as plain
data from that thread; a UI adapter forwards them to its own thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from app.events import Committed, Event, InputLost, InputRestored, Revised
from app.pipeline.live import DecodeStats, LiveTranscriber
from app.pipeline.stages import StageRunner
from audio.buffer import CaptureStats
from audio.resample import StreamResampler
from audio.sides import Side
from audio.sources import AudioSource
from audio.vad import SAMPLE_RATE

log = logging.getLogger(__name__)

POLL_SECONDS = 0.02

Listener = Callable[[Event], None]  # called on the pipeline thread; must not block


@dataclass(frozen=True)
class SessionStatus:
    call_seconds: float
    backlog_seconds: float
    capture: dict[Side, CaptureStats]
    errors: dict[Side, str]


class CallSession:
    def __init__(
        self,
        sources: Mapping[Side, AudioSource],
        transcriber: LiveTranscriber,
        listeners: Sequence[Listener],
        pace: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        stages: StageRunner | None = None,
        audio_sink: Callable[[Side, np.ndarray], None] | None = None,
    ) -> None:
        """Built by :meth:`app.pipeline.call.CallSetup.session`; tests build it directly."""
        self._sources = dict(sources)
        self._audio_sink = audio_sink  # e.g. the call's kept audio (16 kHz mono per side)
        self._stages = stages or StageRunner([])
        self._transcriber = transcriber
        self._listeners = list(listeners)
        self._pace = pace
        self._clock = clock
        self._resamplers = {side: StreamResampler(src.samplerate) for side, src in sources.items()}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at: float | None = None
        self._aligned: set[Side] = set()
        self.failure: BaseException | None = None
        self.max_backlog_seconds = 0.0
        self._requests: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._input_changes = dict.fromkeys(sources, 0)
        self._lost_since: dict[Side, float] = {}
        self._latencies: dict[int, float] = {}  # segment id → seconds to its first commit

    # -- control -------------------------------------------------------------------------
    def start(self) -> None:
        self._started_at = self._clock()
        started: list[AudioSource] = []
        try:
            for source in self._sources.values():
                source.start(clock_start=self._started_at)
                started.append(source)
        except Exception:
            for source in started:
                source.stop()
            raise
        self._thread = threading.Thread(target=self._run, name="calmline-pipeline", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop capturing, transcribe everything already captured, then return."""
        for source in self._sources.values():
            source.stop()
        self._stopping.set()
        self.wait()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the sources have ended and all their audio is transcribed."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> SessionStatus:
        return SessionStatus(
            call_seconds=self.call_time(),
            backlog_seconds=self._transcriber.backlog_seconds,
            capture={side: src.stats() for side, src in self._sources.items()},
            errors={side: src.error for side, src in self._sources.items() if src.error},
        )

    @property
    def stats(self) -> DecodeStats:
        return self._transcriber.stats

    # -- pipeline thread -----------------------------------------------------------------
    def _pull(self) -> bool:
        got = False
        for side, source in self._sources.items():
            block = source.buffer.drain()
            if block.size:
                if side not in self._aligned:
                    self._align(side, source)
                self._feed(side, self._resamplers[side].process(block))
                got = True
        return got

    def _align(self, side: Side, source: AudioSource) -> None:
        """Put both sides on one call clock: a device that opened later than the call
        started gets the missed time as silence, so call times and crosstalk line up."""
        self._aligned.add(side)
        first = source.buffer.first_frame_time
        if first is None or self._started_at is None:
            return
        late = first - self._started_at
        if late > 0.005:
            log.info("%s input started %.3f s after the call clock", side.value, late)
            self._feed(side, np.zeros(int(late * SAMPLE_RATE), dtype=np.float32))

    def _feed(self, side: Side, samples: np.ndarray) -> None:
        self._transcriber.feed(side, samples)
        if self._audio_sink is not None:
            try:
                self._audio_sink(side, samples)
            except Exception:  # keeping audio must never stop the transcript
                log.exception("keeping the call audio failed; it is off for this call")
                self._audio_sink = None

    def _with_latency(self, event: Event) -> Event:
        """A line's latency is its first commit's: a revision comes later by design."""
        if isinstance(event, Revised):
            latency = self._latencies.get(event.segment.id)
            return replace(event, segment=replace(event.segment, latency_s=latency))
        if isinstance(event, Committed) and self._started_at is not None:
            spoken_until = self._started_at + event.segment.end / self._pace
            latency = max(0.0, self._clock() - spoken_until)
            self._latencies[event.segment.id] = latency
            return replace(event, segment=replace(event.segment, latency_s=latency))
        return event

    def _emit(self, events: list[Event]) -> None:
        events = [self._with_latency(e) for e in self._stages.process(events)]
        self._deliver(events)

    def _deliver(self, events: list[Event]) -> None:
        for event in events:
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:  # a listener's bug must not stop transcription
                    log.exception("event listener %r failed", listener)

    def call_time(self) -> float:
        """Seconds of call time since start (the replay's time when paced)."""
        return 0.0 if self._started_at is None else (self._clock() - self._started_at) * self._pace

    def dismiss_cue(self) -> None:
        """The agent dismissed the cue in front; safe to call from any thread (the coach
        records it on the pipeline thread and answers with a ``CueCleared`` event)."""
        self._requests.put("dismiss")

    def _handle_requests(self) -> None:
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                return
            if request == "dismiss":
                self._deliver(self._stages.dismiss(self.call_time()))

    def _watch_inputs(self) -> None:
        """Tell the listeners once about each live input that was lost or came back."""
        for side, source in self._sources.items():
            health = source.health
            if health is None or health.changes == self._input_changes[side]:
                continue
            self._input_changes[side] = health.changes
            t = self.call_time()
            if health.lost is not None:
                self._lost_since[side] = health.since
                event: Event = InputLost(side, t, source.description, health.lost)
            else:
                away = health.since - self._lost_since.pop(side, health.since)
                event = InputRestored(side, t, source.description, away)
            self._emit([event])

    def _tick(self) -> None:
        """Let time-driven stages (the coach: silences, cue expiry) see the call clock."""
        self._deliver(self._stages.tick(self.call_time()))

    def _run(self) -> None:
        try:
            while True:
                # Checked before pulling: a source that had ended has pushed its last block.
                ended = all(src.finished for src in self._sources.values())
                got = self._pull()
                if ended and not got:
                    break
                backlog = self._transcriber.backlog_seconds
                self.max_backlog_seconds = max(self.max_backlog_seconds, backlog)
                self._handle_requests()
                self._watch_inputs()
                self._tick()
                events = self._transcriber.step(allow_interim=not self._stopping.is_set())
                self._emit(events)
                if not events and not got:
                    self._stopping.wait(POLL_SECONDS)
            for side, resampler in self._resamplers.items():
                tail = resampler.flush()
                if tail.size:
                    self._feed(side, tail)
            self._transcriber.finish()
            self._tick()
            self._emit(self._transcriber.drain())
        except BaseException as exc:  # surfaced to the caller, never lost silently
            log.exception("transcription pipeline failed")
            self.failure = exc
