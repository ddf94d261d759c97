"""`calmline soak`: hours of live calls in one process — does memory creep, does latency drift?

An agent runs Calmline eight hours a day. This replays one long two-sided call, made by
looping a real agent/caller recording pair, through exactly the live path at real-time
pace, built by :class:`app.pipeline.call.CallSetup` like every call: file replay sources →
bounded buffers → :class:`app.pipeline.session.CallSession` (resampling, VAD, the real
Whisper engine) → the real redaction, sentiment model and coach → a real
:class:`app.store.CallRecorder` writing into a SQLite store (a temporary file unless
``store_url`` is given), so the memory of storage is measured too.

Every ``report_every_s`` seconds of wall time it records the process's resident set size
(``VmRSS`` from ``/proc/self/status``), and for every committed segment its latency
(speaker stops → text committed). The checks compare the run against its own beginning —
"numbers and a ratio against a baseline run in the same process":

- **RSS drift**: RSS at the end − RSS after the first minute; target ≤ 50 MB over an hour.
- **Latency drift**: p95 latency of the last window vs the first; target last ≤ 1.10 ×
  first. The windows are 10 minutes, or 20 % of the run when that is shorter (runs under
  50 minutes), and the report says which. The recording pair repeats with a period a few
  seconds off its own length (silence added, or its tail left out; :func:`aligned_period`)
  so that the last window replays exactly the audio of the first: the two p95s compare the
  same lines, not whichever part of the recording each window happened to fall on (an
  hour with plain loops measured 1.25 s vs 1.44 s on p50s of 0.65 s in both).

``pace`` > 1 replays the call faster than real time (``--pace 4``: an hour of call in 15
minutes), to look for memory growth sooner. Readings are still taken every
``report_every_s`` of wall time; the report says the pace and each reading's call time. The
latency verdict only means something at pace 1: faster, the decoder competes with a call
that arrives quicker than anyone speaks.

The soak is a benchmark: ``main`` exits 0 when the run completed, whatever the verdicts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from app.events import Committed, Revised
from audio.errors import AudioInputError
from models.stt import DEFAULT_THREADS

CALL = "Auto_Repairs_40_UTC"

TARGET_RSS_DRIFT_MB = 50.0  # over an hour
TARGET_P95_RATIO = 1.10  # last window's p95 within 10 % of the first window's
HOUR_WINDOW_S = 600.0  # the latency windows of an hour-long run
SHORT_FRACTION = 0.2  # shorter runs: the first and last 20 % of the run


class SoakError(Exception):
    """The soak cannot run (missing data); the message says what to do."""


# -- what is measured ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RssSample:
    """One reading, taken every ``report_every_s`` of wall time (and at the end)."""

    t_s: float  # wall seconds since the call started
    rss_mb: float
    segments: int  # committed so far
    backlog_s: float  # speech waiting to be decoded at that moment
    unsaved: int  # store writes still queued at that moment
    load1: float  # the machine's 1-minute load average (it is shared)
    call_s: float | None = None  # call time replayed by then (t_s × pace); None: = t_s


@dataclass(frozen=True)
class LatencyPoint:
    end_s: float  # call time the speaker stopped
    commit_s: float  # wall seconds since the call started when the text was committed
    latency_s: float
    speaker: str


@dataclass(frozen=True)
class MinuteRow:
    until_s: float
    rss_mb: float
    segments: int  # committed during this interval
    p50_s: float | None
    p95_s: float | None
    backlog_s: float
    load1: float
    call_s: float | None = None  # call time at the reading (differs from until_s at pace ≠ 1)


def latency_window(duration_s: float) -> tuple[float, str]:
    """The length of the first/last latency windows and how it was chosen: 10 minutes, or
    the first and last 20 % of the run when that is shorter (runs under 50 minutes)."""
    short = SHORT_FRACTION * duration_s
    if short >= HOUR_WINDOW_S:
        return HOUR_WINDOW_S, "first vs last 10 minutes"
    return short, (
        f"first vs last 20 % of the run ({short / 60:.1f} min each; "
        "the run is shorter than 50 minutes)"
    )


def _percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


@dataclass
class SoakReport:
    minutes: float
    duration_s: float  # call audio replayed (= wall time of the replay at pace 1)
    model: str
    threads: int
    store: str
    report_every_s: float
    pace: float = 1.0  # call seconds replayed per wall second; latency verdicts need 1
    rss_start_mb: float = 0.0  # models loaded and warmed up, before the call starts
    samples: list[RssSample] = field(default_factory=list)
    latencies: list[LatencyPoint] = field(default_factory=list)
    frames_dropped: int = 0
    overflows: int = 0
    max_backlog_s: float = 0.0
    peak_rss_mb: float = 0.0
    wall_s: float = 0.0
    cpu_cores: float = 0.0  # CPU seconds of this process per wall second during the call
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)  # at the end
    completed: bool = False  # the whole call was replayed and everything saved
    saved: bool = False  # every write reached the store
    interrupted: bool = False  # Ctrl-C
    errors: list[str] = field(default_factory=list)  # from the sources

    # -- the checks ---------------------------------------------------------------------------
    @property
    def segments(self) -> int:
        return len(self.latencies)

    @property
    def rss_drift_mb(self) -> float | None:
        """The last reading's RSS − the RSS after the first minute (None: one reading)."""
        if len(self.samples) < 2:
            return None
        return self.samples[-1].rss_mb - self.samples[0].rss_mb

    @property
    def rss_slope_mb_per_h(self) -> float | None:
        """Least-squares slope of RSS over the readings after the first minute."""
        if len(self.samples) < 3:
            return None
        t = np.array([s.t_s for s in self.samples])
        rss = np.array([s.rss_mb for s in self.samples])
        if np.ptp(t) <= 0:
            return None
        return float(np.polyfit(t, rss, 1)[0] * 3600)

    @property
    def window(self) -> tuple[float, str]:
        return latency_window(self.duration_s)

    def _window_latencies(self, last: bool) -> list[float]:
        width, _ = self.window
        if last:
            start = self.duration_s - width
            return [p.latency_s for p in self.latencies if p.end_s >= start]
        return [p.latency_s for p in self.latencies if p.end_s < width]

    @property
    def p95_first(self) -> float | None:
        return _percentile(self._window_latencies(last=False), 95)

    @property
    def p95_last(self) -> float | None:
        return _percentile(self._window_latencies(last=True), 95)

    @property
    def p95_ratio(self) -> float | None:
        first, last = self.p95_first, self.p95_last
        if first is None or last is None or first <= 0:
            return None
        return last / first

    @property
    def rss_ok(self) -> bool | None:
        drift = self.rss_drift_mb
        return None if drift is None else drift <= TARGET_RSS_DRIFT_MB

    @property
    def latency_ok(self) -> bool | None:
        """The latency verdict; None (not judged) unless the call was replayed at pace 1."""
        ratio = self.p95_ratio
        if ratio is None or self.pace != 1.0:
            return None
        return ratio <= TARGET_P95_RATIO

    def minute_rows(self) -> list[MinuteRow]:
        """One row per reading: segments committed since the previous reading, their
        latency p50/p95, and the RSS at the reading."""
        rows = []
        previous = 0.0
        for sample in self.samples:
            latencies = [p.latency_s for p in self.latencies if previous < p.commit_s <= sample.t_s]
            rows.append(
                MinuteRow(
                    sample.t_s,
                    sample.rss_mb,
                    len(latencies),
                    _percentile(latencies, 50),
                    _percentile(latencies, 95),
                    sample.backlog_s,
                    sample.load1,
                    sample.call_s,
                )
            )
            previous = sample.t_s
        return rows

    # -- output -------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        width, rule = self.window
        data = asdict(self)
        data.update(
            segments=self.segments,
            checks={
                "rss_drift_mb": self.rss_drift_mb,
                "rss_drift_target_mb": TARGET_RSS_DRIFT_MB,
                "rss_slope_mb_per_h": self.rss_slope_mb_per_h,
                "rss_ok": self.rss_ok,
                "latency_window_s": width,
                "latency_window_rule": rule,
                "p95_first_s": self.p95_first,
                "p95_last_s": self.p95_last,
                "p95_ratio": self.p95_ratio,
                "p95_ratio_target": TARGET_P95_RATIO,
                "latency_ok": self.latency_ok,
                "latency_judged": self.pace == 1.0,
            },
            minutes_table=[asdict(row) for row in self.minute_rows()],
        )
        return data


def _num(value: float | None, spec: str, width: int = 0) -> str:
    text = "-" if value is None else format(value, spec)
    return text.rjust(width)


def _verdict(ok: bool | None) -> str:
    return {None: "n/a", True: "ok", False: "MISS"}[ok]


def format_report(report: SoakReport) -> str:
    cores = os.cpu_count()
    paced = report.pace != 1.0
    pace = "real-time pace" if not paced else f"pace {report.pace:g} (× real time)"
    lines = [
        f"Calmline soak — {report.duration_s / 60:.1f} min two-sided call replayed live at "
        f"{pace}; {report.model}, {report.threads} threads, {cores} CPU(s) visible",
        f"store: {report.store}",
    ]
    if paced:
        lines.append(
            f"pace {report.pace:g}: for memory only — the latency verdict means something only "
            "at pace 1 (minutes below are wall time; 'call min' is the call time replayed)"
        )
    lines += [
        "",
        f"{'min':>5} {'call min ' if paced else ''}{'RSS MB':>7} {'segments':>8} "
        f"{'p50 s':>6} {'p95 s':>6} {'backlog s':>9} {'load':>5}",
    ]
    for row in report.minute_rows():
        call = ""
        if paced:
            call_s = row.call_s if row.call_s is not None else row.until_s * report.pace
            call = f"{call_s / 60:>9.1f} "
        lines.append(
            f"{row.until_s / 60:>5.1f} {call}{row.rss_mb:>7.1f} {row.segments:>8} "
            f"{_num(row.p50_s, '.2f', 6)} {_num(row.p95_s, '.2f', 6)} "
            f"{row.backlog_s:>9.1f} {row.load1:>5.2f}"
        )
    all_latencies = [p.latency_s for p in report.latencies]
    load = ", ".join(f"{x:.2f}" for x in report.load_average)
    lines += [
        "",
        f"segments committed {report.segments}, frames dropped {report.frames_dropped}, "
        f"overflows {report.overflows}, max queued speech {report.max_backlog_s:.1f} s",
        f"latency over the run: p50 {_num(_percentile(all_latencies, 50), '.2f', 0)} s, "
        f"p95 {_num(_percentile(all_latencies, 95), '.2f', 0)} s, "
        f"max {_num(max(all_latencies, default=None), '.2f', 0)} s",
        f"RSS: {report.rss_start_mb:.0f} MB before the call, peak {report.peak_rss_mb:.0f} MB; "
        f"CPU {report.cpu_cores:.2f} cores; load average at the end {load}",
        "",
        "Verdicts (baseline: this run's own beginning, same process)",
    ]
    drift, slope = report.rss_drift_mb, report.rss_slope_mb_per_h
    first_rss = report.samples[0].rss_mb if report.samples else 0.0
    last_rss = report.samples[-1].rss_mb if report.samples else 0.0
    hour_note = "" if report.duration_s >= 3600 else " (the target is for an hour; run is shorter)"
    if drift is None:
        lines.append(
            "  RSS drift      needs two readings: run longer than the report interval   n/a"
        )
    else:
        lines.append(
            f"  RSS drift      {last_rss:.1f} − {first_rss:.1f} MB = {drift:+.1f} MB "
            f"(trend {_num(slope, '+.0f')} MB/h)   "
            f"target ≤ {TARGET_RSS_DRIFT_MB:.0f} MB{hour_note}   {_verdict(report.rss_ok)}"
        )
    _, rule = report.window
    lines.append(
        f"  latency p95    last {_num(report.p95_last, '.2f', 0)} s / first "
        f"{_num(report.p95_first, '.2f', 0)} s = ratio {_num(report.p95_ratio, '.2f', 0)}   "
        f"target ≤ {TARGET_P95_RATIO:.2f}   {_verdict(report.latency_ok)}"
    )
    lines.append(f"                 windows: {rule}")
    if paced:
        lines.append(
            f"                 not judged: pace {report.pace:g}; latency verdicts only mean "
            "something at pace 1"
        )
    for error in report.errors:
        lines.append(f"  source error: {error}")
    if report.interrupted:
        lines.append("  INTERRUPTED: the numbers cover only the part of the call replayed")
    elif not report.saved:
        lines.append("  the store did NOT save every write (see the log)")
    return "\n".join(lines)


# -- the long call --------------------------------------------------------------------------------
def _rss_mb() -> float:
    """Current resident set size of this process in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil  # not a dependency; used only where /proc is missing

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:  # last resort: the peak, which can only go up
        return _peak_rss_mb()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load1() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def call_pair(data: Path) -> tuple[Path, Path]:
    """The agent and caller recordings the long call is made of."""
    folder = data / "calls"
    pair = (folder / f"{CALL}_agent.wav", folder / f"{CALL}_caller.wav")
    missing = [str(p) for p in pair if not p.is_file()]
    if missing:
        raise SoakError(
            f"missing {', '.join(missing)}: pass --data with the shared data folder "
            f"(it holds calls/{CALL}_agent.wav and _caller.wav)"
        )
    return pair


def aligned_period(loop_s: float, seconds: float, window_s: float) -> float:
    """The period, close to ``loop_s``, at which a ``seconds``-long call repeats a recording
    so that its last ``window_s`` start a whole number of periods in: the last latency
    window then replays the first one's audio."""
    last_start = seconds - window_s
    if last_start <= 0:
        return loop_s
    return last_start / max(1, round(last_start / loop_s))


def write_looped_call(
    data: Path, seconds: float, folder: Path, window_s: float | None = None
) -> tuple[Path, Path, float]:
    """Two mono files of ``seconds`` each, the agent/caller pair looped end to end — with
    ``window_s``, repeating at :func:`aligned_period` (the pair padded with silence or its
    tail left out). Returns the paths and the period in seconds."""
    sides = []
    for path in call_pair(data):
        samples, rate = soundfile.read(path, dtype="int16", always_2d=True)
        sides.append((samples[:, 0], rate))
    rates = {rate for _, rate in sides}
    if len(rates) != 1:
        raise SoakError(f"the agent and caller files of {CALL} have different sample rates")
    rate = rates.pop()
    loop = max(len(s) for s, _ in sides)
    if window_s is not None:
        loop = round(aligned_period(loop / rate, seconds, window_s) * rate)
    total = round(seconds * rate)
    outputs = []
    for (samples, _), name in zip(sides, ("agent", "client"), strict=True):
        samples = np.pad(samples[:loop], (0, max(0, loop - len(samples))))  # one period each
        out = folder / f"soak_{name}.wav"
        with soundfile.SoundFile(out, "w", rate, 1, subtype="PCM_16") as handle:
            written = 0
            while written < total:  # written loop by loop, never the whole call in memory
                part = samples[: total - written]
                handle.write(part)
                written += len(part)
        outputs.append(out)
    return outputs[0], outputs[1], loop / rate


class _Listener:
    """Notes each committed segment's latency and passes every event on to the store."""

    def __init__(self, recorder: Callable[[Any], None]) -> None:
        self._recorder = recorder
        self._lock = threading.Lock()
        self._points: list[LatencyPoint] = []
        self.started = 0.0  # time.monotonic() when the call started

    def __call__(self, event: Any) -> None:
        if (
            isinstance(event, Committed)
            and not isinstance(event, Revised)  # its latency is its first commit's
            and event.segment.latency_s is not None
        ):
            seg = event.segment
            commit = time.monotonic() - self.started
            with self._lock:
                self._points.append(LatencyPoint(seg.end, commit, seg.latency_s, seg.speaker.value))
        self._recorder(event)

    def points(self) -> list[LatencyPoint]:
        with self._lock:
            return list(self._points)

    def recent(self, since: float) -> tuple[int, list[float]]:
        """Segments so far, and the latencies of those committed after ``since``."""
        with self._lock:
            tail = [p.latency_s for p in self._points[-500:] if p.commit_s > since]
            return len(self._points), tail


def run_soak(
    minutes: float,
    data: Path,
    model: str = "tiny.en",
    threads: int = 2,
    report_every_s: float = 60.0,
    store_url: str | None = None,
    progress: Callable[[str], None] = print,
    pace: float = 1.0,
) -> SoakReport:
    """Replay a ``minutes``-long two-sided call through the live path at ``pace`` × real time
    (1: real time) and measure memory and latency over it. Raises :class:`SoakError` when the
    data is missing; Ctrl-C stops the call early and returns what was measured
    (``interrupted`` True)."""
    from app.coaching.playbook import load_playbook
    from app.pipeline.call import CallSetup, replay_sources
    from app.store import CallRecorder, CallStore
    from audio.sources import call_file_channels
    from models.sentiment import load_sentiment_model
    from models.stt import WhisperEngine
    from models.whisper_files import resolve_whisper

    if minutes <= 0:
        raise SoakError("--minutes must be positive")
    if report_every_s <= 0:
        raise SoakError("the report interval must be positive")
    if not (pace > 0 and np.isfinite(pace)):
        raise SoakError("--pace must be a positive number (1 = real time)")
    call_pair(data)  # fail before loading anything
    with tempfile.TemporaryDirectory(prefix="calmline-soak-") as scratch:
        folder = Path(scratch)
        window_s, _ = latency_window(minutes * 60)
        agent, client, loop_s = write_looped_call(data, minutes * 60, folder, window_s)
        progress(
            f"soak: {minutes:g} min call = {CALL} repeated every {loop_s:.1f} s "
            f"({minutes * 60 / loop_s:.1f}×, the last {window_s / 60:g} min replay the first); "
            f"loading {model} …"
        )
        engine = WhisperEngine(resolve_whisper(model), threads=threads)
        sentiment = load_sentiment_model("default", threads=threads)
        playbook = load_playbook()
        # warm up, so the first window measures the live path, not lazy initialisation
        engine.decode(np.zeros(16_000, dtype=np.float32))
        sentiment.classify(["thanks, that fixed it"])

        setup = CallSetup(engine, sentiment, playbook)
        channels = call_file_channels(agent_file=agent, client_file=client)
        sources = replay_sources(channels, pace)
        duration = max(src.duration for src in sources.values())
        store = CallStore.open(store_url or f"sqlite:///{folder / 'soak.db'}")
        try:
            info = setup.call_info(
                "replay",
                {side.value: src.description for side, src in sources.items()},
                agent="soak",
                subject=f"calmline soak, {minutes:g} min",
            )
            recorder = CallRecorder(store, info)
            report = SoakReport(
                minutes=minutes,
                duration_s=duration,
                model=engine.name,
                threads=engine.threads,
                store=store.where,
                report_every_s=report_every_s,
                pace=pace,
            )
            try:
                listener = _Listener(recorder)
                session = setup.session(sources, [listener], pace=pace)
                _replay(session, sources, recorder, listener, report, progress)
            finally:
                report.saved = recorder.finish()
        finally:
            store.close()
        report.peak_rss_mb = _peak_rss_mb()
        report.load_average = os.getloadavg()
        report.completed = report.saved and not report.interrupted and not report.errors
    return report


def _replay(
    session: Any,
    sources: dict[Any, Any],
    recorder: Any,
    listener: _Listener,
    report: SoakReport,
    progress: Callable[[str], None],
) -> None:
    """Run the call, reading RSS every ``report.report_every_s``; fills ``report``."""
    every = report.report_every_s

    def sample(t: float) -> None:
        segments, last_minute = listener.recent(t - 60)
        reading = RssSample(
            t_s=t,
            rss_mb=_rss_mb(),
            segments=segments,
            backlog_s=session.status().backlog_seconds,
            unsaved=recorder.unsaved,
            load1=_load1(),
            call_s=min(t * report.pace, report.duration_s),
        )
        report.samples.append(reading)
        p95 = _percentile(last_minute, 95)
        call = "" if report.pace == 1.0 else f" (call {reading.call_s / 60:5.1f} min)"
        progress(
            f"soak: {t / 60:5.1f} min{call}  RSS {reading.rss_mb:6.1f} MB  segments {segments:5}  "
            f"p95 last minute {'-' if p95 is None else f'{p95:.2f} s'}  "
            f"backlog {reading.backlog_s:.1f} s  queued writes {reading.unsaved}  "
            f"load {reading.load1:.2f}"
        )

    report.rss_start_mb = _rss_mb()
    cpu_before = os.times()
    listener.started = started = time.monotonic()
    session.start()
    try:
        tick = 1
        while tick * every * report.pace < report.duration_s - 1e-6:
            if session.wait(max(0.0, started + tick * every - time.monotonic())):
                break  # the call ended (or the pipeline failed) before the tick
            sample(time.monotonic() - started)
            tick += 1
        session.wait()
    except KeyboardInterrupt:
        report.interrupted = True
        progress("soak: interrupted; transcribing what was captured …")
    finally:
        if session.running:  # interrupted, or a failure while sampling: no threads left
            session.stop()
    wall = time.monotonic() - started
    cpu_after = os.times()
    sample(wall)
    report.wall_s = wall
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    report.cpu_cores = cpu / max(wall, 1e-9)
    report.latencies = sorted(listener.points(), key=lambda p: p.commit_s)
    report.frames_dropped = sum(src.stats().frames_dropped for src in sources.values())
    report.overflows = sum(src.stats().overflows for src in sources.values())
    report.max_backlog_s = session.max_backlog_seconds
    report.errors = [str(e) for e in session.status().errors.values()]
    if report.interrupted:  # measure against the part of the call that was replayed
        report.duration_s = min(report.duration_s, wall * report.pace)
    if session.failure is not None:
        raise session.failure


# -- the command --------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="calmline soak",
        description="Replay a long two-sided call through the live path at real-time pace and "
        "report memory (RSS per minute, drift) and latency drift (p95 last vs first window).",
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=1.0,
        help="replay speed, × real time (default 1); above 1 for memory investigation only: "
        "the latency verdict is judged only at pace 1",
    )
    parser.add_argument("--minutes", type=float, default=60.0, help="call length (default 60)")
    parser.add_argument(
        "--data", required=True, help="the shared data folder (e.g. ../shared/data)"
    )
    parser.add_argument("--model", default="tiny.en", help="speech-to-text model (tiny.en)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument(
        "--store",
        metavar="URL",
        help="record into this database (default: a SQLite file in a temporary folder)",
    )
    parser.add_argument(
        "--report-every", type=float, default=60.0, help="seconds between RSS readings (60)"
    )
    parser.add_argument(
        "--json", metavar="OUT", help="also write the report as JSON ('-' = stdout)"
    )
    args = parser.parse_args(argv)
    from app.store.db import StoreError
    from models.errors import ModelError

    data = Path(args.data)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        report = run_soak(
            args.minutes,
            data,
            model=args.model,
            threads=args.threads,
            report_every_s=args.report_every,
            store_url=args.store,
            progress=log,
            pace=args.pace,
        )
    except (SoakError, ModelError, StoreError, AudioInputError) as exc:
        print(f"calmline soak: error: {exc}", file=sys.stderr)
        return 2
    text = format_report(report)
    print(text, file=sys.stderr if args.json == "-" else sys.stdout, flush=True)
    if args.json:
        document = json.dumps(report.to_json(), indent=2)
        if args.json == "-":
            print(document)
        else:
            out = Path(args.json)
            tmp = out.with_name(out.name + ".tmp")
            tmp.write_text(document + "\n", encoding="utf-8")
            os.replace(tmp, out)
            log(f"wrote {out}")
    if report.interrupted:
        return 130
    return 0 if report.completed else 1


if __name__ == "__main__":
    sys.exit(main())
