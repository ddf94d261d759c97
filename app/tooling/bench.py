"""`calmline bench`: speed, live latency, accuracy and memory, each against a baseline
measured in the same process on the same machine.

- offline speed: `calmline analyze` (live segmentation + per-utterance decoding) vs bare
  faster-whisper `transcribe(vad_filter=True)` on the same two-sided calls;
- live latency: the call replayed at real-time pace through sources, buffers, VAD and the
  streaming decoder; time from the end of each utterance's audio to its committed text;
- accuracy: word error rate of `calmline analyze` and of the live path vs bare
  faster-whisper on the reference clips, per telephone line (clean, G.711, noisy mobile, …:
  app/tooling/phone_lines.py); and on the real calls, the words Calmline keeps against a whole-file
  bare faster-whisper transcript;
- the drafted ticket note: drafting it on each real call's lines, from scratch (what the
  end of a call costs at most) and line by line as a live call does, against the coach
  reading the same lines;
- memory: peak resident set size of the process.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from app.coaching.coach import Coach
from app.coaching.playbook import load_playbook
from app.events import Committed, Segment
from app.pipeline.analyze import analyze_offline, analyze_realtime
from app.pipeline.call import CallSetup
from app.summary.draft import draft_summary
from app.summary.stage import SummaryStage
from app.tooling.phone_lines import LINES
from app.tooling.speech_eval import analyze_text, live_text, load_clips, normalise, offline_text
from audio.resample import resample_to_16k
from audio.sides import Side
from audio.sources import FileChannel, read_channel
from models.stt import WhisperEngine
from models.whisper_files import resolve_whisper

CALLS = ("Auto_Repairs_40_UTC", "Auto_Repairs_49_UTC")
LIVE_CALL = "Auto_Repairs_40_UTC"

# The targets this project holds itself to (README, "Benchmarks").
TARGET_OFFLINE_RATIO = 1.15
TARGET_LATENCY_P50 = 0.7
TARGET_LATENCY_P95 = 1.5
TARGET_WER_RATIO = 1.05
TARGET_WORDS_KEPT = 0.95  # of bare faster-whisper's words on the real calls
TARGET_NOTE_S = 1.0  # the whole note drafted after the call (p95)
NOTE_REPEATS = 20
DEFAULT_BANDS = ("clean", "pstn", "noisy-mobile")


class BenchError(Exception):
    """The benchmark cannot run (missing data or tools); the message says what to do."""


@dataclass(frozen=True)
class BandWer:
    band: str
    analyze: float
    live: float
    baseline: float


@dataclass(frozen=True)
class CallWords:
    """One side of a real call: Calmline's words against bare faster-whisper's."""

    call: str
    side: str
    calmline_words: int
    baseline_words: int
    agreement_wer: float  # Calmline's text scored against bare faster-whisper's


@dataclass
class ModelReport:
    model: str
    load_s: float
    offline_s: float
    baseline_s: float
    audio_s: float
    bands: list[BandWer]
    calls: list[CallWords]
    latency_p50: float | None = None
    latency_p95: float | None = None
    latency_max: float | None = None
    live_cpu_cores: float | None = None
    live_backlog_max_s: float | None = None
    peak_rss_mb: float = 0.0
    note: NoteTiming | None = None


@dataclass(frozen=True)
class NoteTiming:
    lines: int  # over all real calls
    whole_p95_s: float  # the whole note from scratch, per call
    step_p95_s: float  # one new line, live
    live_total_s: float  # every line of every call, live
    coach_total_s: float  # the baseline: the coach reading the same lines


def bench_note(calls: list[list[Segment]], repeats: int = NOTE_REPEATS) -> NoteTiming:
    """Drafting the note on each call's lines, against the coach on the same lines."""
    whole: list[float] = []
    steps: list[float] = []
    live_total = coach_total = 0.0
    playbook = load_playbook()
    for segments in calls:
        for _ in range(repeats):
            whole.append(_timed(lambda s=segments: draft_summary(s)))
        stage, coach = SummaryStage(), Coach(playbook)
        for segment in segments:
            step = _timed(lambda s=segment, stage=stage: stage([Committed(s)]))
            steps.append(step)
            live_total += step
            coach_total += _timed(lambda s=segment, coach=coach: coach([Committed(s)]))
    return NoteTiming(
        lines=sum(len(s) for s in calls),
        whole_p95_s=float(np.percentile(whole, 95)),
        step_p95_s=float(np.percentile(steps, 95)),
        live_total_s=live_total,
        coach_total_s=coach_total,
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _call_channels(data: Path, seconds: float | None, scratch: Path) -> dict[str, dict]:
    """Each call as two mono files (truncated copies when ``seconds`` is given)."""
    calls = {}
    for name in CALLS:
        channels = {}
        for side, suffix in ((Side.AGENT, "agent"), (Side.CLIENT, "caller")):
            path = data / "calls" / f"{name}_{suffix}.wav"
            if not path.exists():
                raise BenchError(f"missing {path}: pass --data with the shared data folder")
            if seconds is not None:
                rate = soundfile.info(str(path)).samplerate
                samples, _ = soundfile.read(path, dtype="float32", stop=int(seconds * rate))
                scratch.mkdir(parents=True, exist_ok=True)
                short = scratch / path.name
                soundfile.write(short, samples, rate)
                path = short
            channels[side] = FileChannel(path, None)
        calls[name] = channels
    return calls


def _seconds(channel_audio: tuple[np.ndarray, int]) -> float:
    samples, rate = channel_audio
    return len(samples) / rate


def _baseline_transcribe(engine: WhisperEngine, channels: dict) -> dict[Side, str]:
    """Bare faster-whisper over each whole side, as a batch tool would do it."""
    texts = {}
    for side, channel in channels.items():
        samples, rate = read_channel(channel)
        texts[side] = " ".join(t.text for t in engine.transcribe(resample_to_16k(samples, rate)))
    return texts


def _timed_result(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _wer(references: list[str], hypotheses: list[str]) -> float:
    try:
        import jiwer
    except ImportError as exc:
        raise BenchError("the benchmark needs jiwer: pip install -e '.[test]'") from exc
    return float(jiwer.wer(references, hypotheses))


def bench_model(
    model: str,
    data: Path,
    threads: int,
    calls_seconds: float | None,
    live_seconds: float | None,
    log: Callable[[str], None] = print,
    bands: tuple[str, ...] = DEFAULT_BANDS,
) -> ModelReport:
    started = time.perf_counter()
    engine = WhisperEngine(resolve_whisper(model), threads=threads)
    load_s = time.perf_counter() - started
    warm_up = np.zeros(16_000, dtype=np.float32)
    engine.decode(warm_up)
    engine.transcribe(warm_up)  # also loads the baseline's VAD model

    with tempfile.TemporaryDirectory(prefix="calmline-bench-") as scratch:
        calls = _call_channels(data, calls_seconds, Path(scratch))
        offline_s = baseline_s = audio_s = 0.0
        call_words: list[CallWords] = []
        call_lines: list[list[Segment]] = []
        for index, (name, channels) in enumerate(calls.items()):
            # alternate which goes first so neither always gets the warmer cache
            runs = [
                ("calmline", lambda ch=channels: analyze_offline(ch, CallSetup(engine))),
                ("baseline", lambda ch=channels: _baseline_transcribe(engine, ch)),
            ]
            if index % 2:
                runs.reverse()
            timed = {label: _timed_result(work) for label, work in runs}
            seconds = {label: spent for label, (spent, _) in timed.items()}
            result, baseline_texts = timed["calmline"][1], timed["baseline"][1]
            call_lines.append(list(result.segments))
            for side in Side:
                ours = normalise(" ".join(s.text for s in result.segments if s.speaker is side))
                theirs = normalise(baseline_texts[side])
                call_words.append(
                    CallWords(name, side.value, len(ours.split()), len(theirs.split()),
                              _wer([theirs], [ours]) if theirs else 0.0)
                )  # fmt: skip
            duration = sum(_seconds(read_channel(c)) for c in channels.values())
            log(
                f"  {model} {name}: {duration:.0f} s of audio, calmline {seconds['calmline']:.1f} s"
                f", faster-whisper {seconds['baseline']:.1f} s"
            )
            offline_s += seconds["calmline"]
            baseline_s += seconds["baseline"]
            audio_s += duration

        clips = load_clips(data, include_silver=True)
        references = [normalise(c.reference) for c in clips]
        band_wers = []
        for band in bands:
            audios = [LINES[band].make(c.audio) for c in clips]
            wers = {
                mode: _wer(references, [normalise(text(engine, audio)) for audio in audios])
                for mode, text in (
                    ("analyze", analyze_text), ("live", live_text), ("baseline", offline_text)
                )
            }  # fmt: skip
            band_wers.append(BandWer(band, wers["analyze"], wers["live"], wers["baseline"]))
            log(
                f"  {model} WER, {band}, {len(clips)} clips: analyze {wers['analyze']:.3f}, "
                f"live {wers['live']:.3f}, baseline {wers['baseline']:.3f}"
            )

        report = ModelReport(model, load_s, offline_s, baseline_s, audio_s, band_wers, call_words)
        report.note = bench_note(call_lines)
        log(
            f"  {model} ticket note on {report.note.lines} lines: whole note p95 "
            f"{report.note.whole_p95_s * 1000:.1f} ms"
        )
        if live_seconds is not None and live_seconds > 0:
            live_calls = _call_channels(data, live_seconds, Path(scratch) / "live")
            cpu_before = os.times()
            wall_before = time.perf_counter()
            result = analyze_realtime(live_calls[LIVE_CALL], CallSetup(engine), pace=1.0)
            wall = time.perf_counter() - wall_before
            cpu_after = os.times()
            cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
            latencies = result.latencies
            if latencies:
                report.latency_p50 = float(np.percentile(latencies, 50))
                report.latency_p95 = float(np.percentile(latencies, 95))
                report.latency_max = max(latencies)
            report.live_cpu_cores = cpu / wall
            report.live_backlog_max_s = float(result.capture.get("backlog_max_s", 0.0))
            log(
                f"  {model} live {result.duration_s:.0f} s: {len(latencies)} commits, "
                f"p50 {report.latency_p50 or 0:.2f} s, p95 {report.latency_p95 or 0:.2f} s"
            )
    report.peak_rss_mb = peak_rss_mb()
    return report


def _ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline else float(value > 0)


def _check(value: float | None, target: float) -> str:
    if value is None:
        return "  -  "
    return "ok" if value <= target else "MISS"


def format_reports(reports: list[ModelReport], threads: int) -> str:
    lines = [
        f"Calmline benchmark — {os.cpu_count()} CPU(s) visible, {threads} threads, int8",
        "",
        "Offline speed: calmline analyze vs bare faster-whisper (same calls, same process)",
        f"{'model':<8} {'audio s':>8} {'calmline s':>11} {'baseline s':>11} {'×RT':>7} "
        f"{'ratio':>6}  target ≤ {TARGET_OFFLINE_RATIO}",
    ]
    for r in reports:
        ratio = r.offline_s / r.baseline_s
        lines.append(
            f"{r.model:<8} {r.audio_s:>8.0f} {r.offline_s:>11.2f} {r.baseline_s:>11.2f} "
            f"{r.offline_s / r.audio_s:>7.3f} {ratio:>6.2f}  {_check(ratio, TARGET_OFFLINE_RATIO)}"
        )
    lines += [
        "",
        "Accuracy: WER of calmline analyze and of the live path vs bare faster-whisper",
        "(reference clips, 381 words, through each telephone line; app/tooling/phone_lines.py)",
        f"{'model':<8} {'line':<13} {'analyze':>8} {'live':>7} {'baseline':>9} "
        f"{'ratio a/l':>10}  target ≤ {TARGET_WER_RATIO}",
    ]
    for r in reports:
        for b in r.bands:
            ratios = [_ratio(b.analyze, b.baseline), _ratio(b.live, b.baseline)]
            lines.append(
                f"{r.model:<8} {b.band:<13} {b.analyze:>8.3f} {b.live:>7.3f} {b.baseline:>9.3f} "
                f"{ratios[0]:>5.2f}/{ratios[1]:<4.2f}  "
                f"{'/'.join(_check(x, TARGET_WER_RATIO) for x in ratios)}"
            )
    lines += [
        "",
        "Real calls (8 kHz): words Calmline keeps vs a whole-file bare faster-whisper "
        f"transcript (target ≥ {TARGET_WORDS_KEPT:.0%})",
        f"{'model':<8} {'call':<20} {'side':<7} {'calmline':>9} {'baseline':>9} {'kept':>6} "
        f"{'agreement WER':>14}",
    ]
    for r in reports:
        for c in r.calls:
            kept = c.calmline_words / c.baseline_words if c.baseline_words else 1.0
            lines.append(
                f"{r.model:<8} {c.call:<20} {c.side:<7} {c.calmline_words:>9} "
                f"{c.baseline_words:>9} {kept:>6.0%} {c.agreement_wer:>14.3f}  "
                f"{'ok' if kept >= TARGET_WORDS_KEPT else 'MISS'}"
            )
    if any(r.latency_p50 is not None for r in reports):
        lines += [
            "",
            "Live latency: end of utterance → committed text, real-time replay "
            f"(target p50 ≤ {TARGET_LATENCY_P50} s, p95 ≤ {TARGET_LATENCY_P95} s; "
            "peer LocalAgreement-2: p50 3.0 s, p95 10.1 s)",
            f"{'model':<8} {'p50 s':>6} {'p95 s':>6} {'max s':>6} {'CPU cores':>10} "
            f"{'max queued speech s':>20}",
        ]
        for r in reports:
            if r.latency_p50 is None:
                continue
            lines.append(
                f"{r.model:<8} {r.latency_p50:>6.2f} {r.latency_p95:>6.2f} {r.latency_max:>6.2f} "
                f"{r.live_cpu_cores:>10.2f} {r.live_backlog_max_s:>20.2f}  "
                f"{_check(r.latency_p50, TARGET_LATENCY_P50)}/"
                f"{_check(r.latency_p95, TARGET_LATENCY_P95)}"
            )
    notes = [r for r in reports if r.note is not None]
    if notes:
        lines += [
            "",
            "Ticket note: drafting on the real calls' lines, against the coach on the same lines "
            f"(target: the whole note p95 ≤ {TARGET_NOTE_S} s)",
            f"{'model':<8} {'lines':>6} {'whole note p95 ms':>18} {'per line p95 ms':>16} "
            f"{'live total ms':>14} {'coach ms':>9} {'ratio':>6}",
        ]
        for r in notes:
            n = r.note
            assert n is not None
            lines.append(
                f"{r.model:<8} {n.lines:>6} {n.whole_p95_s * 1000:>18.1f} "
                f"{n.step_p95_s * 1000:>16.2f} {n.live_total_s * 1000:>14.1f} "
                f"{n.coach_total_s * 1000:>9.1f} {_ratio(n.live_total_s, n.coach_total_s):>6.2f}  "
                f"{_check(n.whole_p95_s, TARGET_NOTE_S)}"
            )
    lines += ["", f"{'model':<8} {'load s':>7} {'peak RSS MB (cumulative)':>25}"]
    for r in reports:
        lines.append(f"{r.model:<8} {r.load_s:>7.2f} {r.peak_rss_mb:>25.0f}")
    return "\n".join(lines)


def run_bench(args: argparse.Namespace) -> int:
    data = Path(args.data)
    if not (data / "calls").is_dir() or not (data / "speech").is_dir():
        raise BenchError(f"no calls/ and speech/ under {data}: pass --data PATH/TO/shared/data")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    bands = (
        tuple(LINES)
        if args.bands == "all"
        else tuple(b.strip() for b in args.bands.split(",") if b.strip())
    )
    unknown = [b for b in bands if b not in LINES]
    if unknown:
        raise BenchError(f"unknown line {', '.join(unknown)}: choose from {', '.join(LINES)}, all")
    live_seconds = None if args.skip_live else args.live_seconds
    reports = []
    for model in models:
        print(f"measuring {model} …", flush=True)
        reports.append(
            bench_model(model, data, args.threads, args.calls_seconds, live_seconds, bands=bands)
        )
    print()
    print(format_reports(reports, args.threads))
    return 0
