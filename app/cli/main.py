"""The ``calmline`` command line.

Exit codes: 0 success, 2 bad input (a one-line reason and the fix on stderr), 1 a bug.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, assert_never

from app import __version__
from app.cli import calls as cli_calls
from app.cli import team as cli_team
from app.events import (
    ChecklistTick,
    Committed,
    Cue,
    CueCleared,
    Degraded,
    Discarded,
    Event,
    Flag,
    IncidentNote,
    InputLost,
    InputRestored,
    MoodUpdate,
    Partial,
    Revised,
    SpeechStarted,
    SummaryDraft,
)
from app.paths import DEMO_CALL, cache_dir, user_playbook_path
from app.settings import Settings, SettingsError, load_settings
from app.store.db import StoreError
from audio.errors import AudioInputError
from audio.sides import Side
from models.errors import ModelError
from models.stt import DEFAULT_THREADS


class UsageError(Exception):
    """Bad input from the user; exit 2."""


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes):02d}:{secs:04.1f}"


class TranscriptPrinter:
    """Committed lines as they come; on a terminal, the interim line is redrawn in place."""

    COLOURS: ClassVar[dict[Side, str]] = {Side.AGENT: "\033[36m", Side.CLIENT: "\033[33m"}

    def __init__(self, stream=None, interactive: bool | None = None, show_mood: bool = False):
        self.stream = stream or sys.stdout
        self.show_mood = show_mood
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._interim_shown = False
        self._lock = threading.Lock()

    def _label(self, side: Side) -> str:
        label = f"{side.value.upper():6}"
        return f"{self.COLOURS[side]}{label}\033[0m" if self.interactive else label

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._print(event)

    def _print(self, event: Event) -> None:
        out = self.stream
        match event:
            case Committed():  # a revision too: a terminal cannot rewrite the lines above
                seg = event.segment
                self._clear()
                latency = f"  ({seg.latency_s:.2f} s)" if seg.latency_s is not None else ""
                if isinstance(event, Revised):
                    latency = "  (revised: replaces the line" + (
                        "s above)" if len(event.replaces) > 2 else " above)"
                    )
                if seg.sentiment:
                    label = seg.sentiment["label"]
                    latency = f"  [{label} {seg.sentiment['scores'][label]:.2f}]{latency}"
                line = f"[{_clock(seg.start)}] {self._label(seg.speaker)} {seg.text}"
                dim = "\033[2m" if self.interactive else ""
                reset = "\033[0m" if self.interactive else ""
                print(f"{line}{dim}{latency}{reset}", file=out, flush=True)
            case MoodUpdate():
                if self.show_mood:
                    mood = f"client mood {event.value:+.2f} ({event.trend.value})"
                    print(f"{'':11}   {mood}", file=out, flush=True)
            case Cue():
                self._clear()
                bold = "\033[1;35m" if self.interactive else ""
                reset = "\033[0m" if self.interactive else ""
                print(
                    f"[{_clock(event.t)}] {bold}>> CUE    {event.message}{reset}\n"
                    f"{'':11}   say: {event.phrases[0]}",
                    file=out,
                    flush=True,
                )
            case Flag():
                self._clear()
                print(
                    f"[{_clock(event.t)}] !! FLAG   {event.kind.replace('_', ' ')}: "
                    f"“{event.excerpt}”",
                    file=out,
                    flush=True,
                )
            case IncidentNote():
                self._clear()
                print(f"{'':11}   note: {event.text}", file=out, flush=True)
            case Degraded() | InputLost() | InputRestored():
                self._clear()
                print(f"calmline: {event.message}", file=sys.stderr, flush=True)
            case Partial():
                if self.interactive:
                    self._clear()
                if self.interactive and event.text:
                    width = 100
                    text = (
                        f"[{_clock(event.start)}] {self._label(event.speaker)} \033[2m{event.text}"
                    )
                    print(text[: width + 20] + "…\033[0m", end="", file=out, flush=True)
                    self._interim_shown = True
            case Discarded() | SpeechStarted() | CueCleared() | ChecklistTick() | SummaryDraft():
                pass  # not shown on a terminal
            case _:
                assert_never(event)

    def _clear(self) -> None:
        if self._interim_shown:
            print("\r\033[K", end="", file=self.stream)
            self._interim_shown = False


# -- shared options ----------------------------------------------------------------------
def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default="tiny.en",
        help="tiny.en (default, English, fastest), base (multilingual), or a local "
        "CTranslate2 Whisper directory",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"CPU threads for speech-to-text (default {DEFAULT_THREADS}); one decode runs at "
        "a time, so this is the whole transcription budget",
    )
    parser.add_argument(
        "--language", default="en", help="spoken language code, or 'auto' (multilingual models)"
    )
    _add_sentiment_option(parser)
    parser.add_argument(
        "--playbook",
        metavar="FILE",
        help="your playbook file, merged over the default (default: "
        "the user config playbook.toml if it exists); 'none' turns coaching off",
    )


def _playbook(args: argparse.Namespace):
    from app.coaching.playbook import PlaybookError, load_playbook

    choice = getattr(args, "playbook", None)
    if choice == "none":
        return None
    if choice is not None and not Path(choice).is_file():
        raise UsageError(f"playbook file not found: {choice}")
    override = Path(choice) if choice else user_playbook_path()
    try:
        return load_playbook(override if override.is_file() else None)
    except PlaybookError as exc:
        raise UsageError(f"{exc} (fix the file, or pass --playbook none)") from exc


def _add_sentiment_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sentiment-model",
        default="default",
        metavar="MODEL",
        help="client sentiment: 'default' (Calmline's own MiniLM model), a local directory "
        "(Calmline ONNX model or a transformers text-classification model), or 'none'",
    )


def _sentiment(args: argparse.Namespace):
    from models.sentiment import load_sentiment_model

    if args.sentiment_model == "none":
        return None
    return load_sentiment_model(args.sentiment_model, threads=getattr(args, "threads", 2))


def _engine(args: argparse.Namespace):
    from models.stt import WhisperEngine
    from models.whisper_files import resolve_whisper

    if args.threads < 1:
        raise UsageError("--threads must be at least 1")
    language = None if args.language == "auto" else args.language
    return WhisperEngine(resolve_whisper(args.model), threads=args.threads, language=language)


def _channels(args: argparse.Namespace):
    from audio.sources import call_file_channels

    if args.call and (args.agent or args.client):
        raise UsageError("give either a stereo CALL file or --agent/--client files, not both")
    return call_file_channels(args.call, args.agent_channel, args.agent, args.client)


# -- commands ----------------------------------------------------------------------------
def cmd_devices(args: argparse.Namespace) -> int:
    from audio.devices import list_capture_devices

    devices = list_capture_devices()
    if not devices:
        print("no input devices found", file=sys.stderr)
        return 2
    print(f"{'index':>5}  {'channels':>8}  {'rate':>6}  name")
    for d in devices:
        print(f"{d.index:>5}  {d.channels:>8}  {d.default_samplerate:>6}  {d.name}")
    if not any(d.loopback for d in devices):
        print(
            "no loopback of an output device (needs PulseAudio/PipeWire on Linux, or "
            "Windows): the client line must then be an input",
            file=sys.stderr,
        )
    return 0


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from app.cli.desktop import install_desktop_entry

    entry, icon = install_desktop_entry()
    print(f"wrote {entry} and {icon}: Calmline is in the application menu", file=sys.stderr)
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from app.pipeline.analyze import analyze_offline, analyze_realtime

    channels = _channels(args)
    setup = _setup(args, _engine(args))
    settings = _settings(args)
    store = cli_calls.open_store(args, settings) if args.save else None
    files = {side.value: str(channel.path) for side, channel in channels.items()}
    recorder = None
    if args.realtime:
        listeners: list[Any] = [TranscriptPrinter(sys.stderr) if args.json else TranscriptPrinter()]
        if store is not None:  # recorded as it happens, exactly like a live call
            from app.store import CallRecorder

            info = setup.call_info("analyze", files, **cli_calls.call_details(args, settings))
            recorder = CallRecorder(store, info)
            listeners.insert(0, recorder)
        result = analyze_realtime(channels, setup, pace=args.pace, listeners=listeners)
    else:
        result = analyze_offline(channels, setup)
    if store is not None:
        if recorder is not None:
            recorder.finish()
            call_id = recorder.call_id
        else:
            info = setup.call_info("analyze", files, **cli_calls.call_details(args, settings))
            call_id = store.save_record(result.to_record(info))
        store.close()
        cli_calls.print_saved(call_id, json_to_stdout=args.json == "-")
    document = json.dumps(result.to_json(), indent=2, ensure_ascii=False)
    if args.json:
        _write_json(args.json, document, f"{len(result.segments)} segments")
    elif not args.realtime:
        printer = TranscriptPrinter()
        timeline = [(s.end, 0, Committed(s)) for s in result.segments]
        timeline += [(c.t, 1, c) for c in result.cues] + [(f.t, 2, f) for f in result.flags]
        for _, _, event in sorted(timeline, key=lambda item: item[:2]):
            printer(event)
    if not args.realtime:  # the realtime printer told them as they happened
        for problem in result.degraded:
            print(f"calmline: {problem.message}", file=sys.stderr)
    if result.input_errors:
        problem = _stopped_early(result, saved=store is not None)
        print(f"calmline: error: {problem}", file=sys.stderr)
    return 2 if result.input_errors else 0


def _stopped_early(result: Any, saved: bool) -> str:
    """One line for the sides whose audio stopped early (one file holds both sides: once)."""
    by_error: dict[str, list[str]] = {}
    for side, error in result.input_errors.items():
        by_error.setdefault(error.rstrip(". "), []).append(side)
    stopped = min(result.capture[side].get("stopped_at_s", 0.0) for side in result.input_errors)
    causes = "; ".join(
        (f"{' and '.join(sides)}: " if len(by_error) > 1 else "") + error
        for error, sides in by_error.items()
    )
    kept = "saved and printed" if saved else "printed"
    return (
        f"the call audio stopped at {stopped:.1f} s ({causes}). The transcript up to there "
        f"was {kept}; repair or re-export the file and run again."
    )


def _run_live(session, seconds: float | None, ready_message: str | None = None) -> None:
    """Run until the sources end, Ctrl-C/SIGTERM, or ``seconds``; then drain and return.
    ``ready_message`` goes to stderr once the inputs are open and capturing."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        session.start()
        if ready_message:
            print(ready_message, file=sys.stderr, flush=True)
        try:
            while session.running and not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                stop.wait(0.2)
        except KeyboardInterrupt:
            pass
        print("\nstopping: transcribing what was captured…", file=sys.stderr)
        session.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
    for side, error in session.status().errors.items():
        print(f"calmline: {side.value} side: {error}", file=sys.stderr)
    if session.failure is not None:
        raise session.failure


def cmd_listen(args: argparse.Namespace) -> int:
    from audio.sources import open_input

    if not args.agent_device or not args.client_device:
        raise UsageError("give both --agent-device and --client-device (see 'calmline devices')")
    sources = {
        Side.AGENT: open_input(Side.AGENT, args.agent_device),
        Side.CLIENT: open_input(Side.CLIENT, args.client_device),
    }
    setup = _setup(args, _engine(args))
    for side, src in sources.items():
        print(f"{side.value}: {src.description} at {src.samplerate} Hz", file=sys.stderr)
    recorder = None
    audio = None
    listeners: list[Any] = [TranscriptPrinter()]
    if not args.no_save:
        from app.store import CallRecorder

        settings = _settings(args)
        store = cli_calls.open_store(args, settings)
        devices = {side.value: src.description for side, src in sources.items()}
        recorder = CallRecorder(
            store, setup.call_info("live", devices, **cli_calls.call_details(args, settings))
        )
        listeners.insert(0, recorder)
        if settings.audio.keep:
            audio = cli_calls.keep_call_audio(recorder, settings)
    session = setup.session(
        sources, listeners, audio_sink=audio.write if audio is not None else None
    )
    try:
        _run_live(session, args.seconds, ready_message="listening… Ctrl-C to stop")
    finally:
        if audio is not None:
            audio.close()
        if recorder is not None:
            saved = recorder.finish()
            recorder.store.close()
            where = f"call {recorder.call_id}" if saved else "NOT fully saved"
            print(f"calmline: {where} ({recorder.store.where})", file=sys.stderr)
    dropped = {s.value: src.stats().frames_dropped for s, src in sources.items()}
    if any(dropped.values()):
        print(f"calmline: frames dropped (transcription fell behind): {dropped}", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.pipeline.call import replay_sources
    from audio.sources import call_file_channels

    if not DEMO_CALL.exists():
        raise UsageError(f"the demo call is missing: {DEMO_CALL}; run scripts/make_demo_call.py")
    setup = _setup(args, _engine(args))
    sources = replay_sources(call_file_channels(DEMO_CALL, "left"), args.pace)
    print(
        f"Calmline demo: a difficult support call, replayed live (model {setup.engine.name}, "
        f"{setup.engine.threads} threads). Ctrl-C to stop.\n",
        file=sys.stderr,
    )
    _run_live(setup.session(sources, [TranscriptPrinter()], pace=args.pace), None)
    return 0


def _setup(args: argparse.Namespace, engine: Any = None):
    """The call this command runs: its models, playbook and the user's redaction."""
    from app.pipeline.call import CallSetup

    return CallSetup.from_settings(engine, _sentiment(args), _playbook(args), _settings(args))


def _settings(args: argparse.Namespace) -> Settings:
    """The user's settings, read once per command (only by commands that use them)."""
    if getattr(args, "settings", None) is None:
        args.settings = load_settings()
    return args.settings


def cmd_sentiment(args: argparse.Namespace) -> int:
    texts = list(args.text)
    if args.file:
        path = Path(args.file)
        try:
            source = sys.stdin if args.file == "-" else path.open(encoding="utf-8")
            with source:
                texts += [line.strip() for line in source if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path}: {exc}") from exc
    if not texts:
        raise UsageError('give text to score, e.g. calmline sentiment "this is useless"')
    model = _sentiment(args)
    if model is None:
        raise UsageError("--sentiment-model none leaves nothing to score with")
    results = model.classify(texts)
    if args.json:
        for text, result in zip(texts, results, strict=True):
            print(json.dumps({"text": text, **result.to_json()}, ensure_ascii=False))
        return 0
    for text, result in zip(texts, results, strict=True):
        scores = " ".join(f"{label[:3]} {p:.2f}" for label, p in result.scores.items())
        print(f"{result.label:<8}  {scores}  {text}")
    return 0


def cmd_coach(args: argparse.Namespace) -> int:
    from app.pipeline.textcall import TranscriptError, coach_transcript, load_turns

    try:
        turns = load_turns(Path(args.transcript))
    except TranscriptError as exc:
        raise UsageError(str(exc)) from exc
    printer = TranscriptPrinter(sys.stderr if args.json == "-" else None, show_mood=True)
    result = coach_transcript(turns, _setup(args), [printer])
    if args.json:
        document = json.dumps(result.to_json(), indent=2, ensure_ascii=False)
        _write_json(args.json, document, f"{len(result.segments)} segments")
    return 0


def _write_json(target: str, document: str, what: str) -> None:
    if target == "-":
        print(document)
        return
    out = Path(target)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(document + "\n", encoding="utf-8")
    os.replace(tmp, out)
    print(f"wrote {out} ({what})", file=sys.stderr)


def cmd_coach_eval(args: argparse.Namespace) -> int:
    from app.tooling.coach_eval import format_summary, run_scenarios, summarise

    engine = _engine(args)
    sentiment = _sentiment(args)
    playbook = _playbook(args)
    if playbook is None:
        raise UsageError("coach-eval measures the coach; --playbook none leaves nothing to measure")
    cache = cache_dir() / "scenarios"
    mode = f"realtime, pace {args.pace:g}" if args.realtime else "offline"
    print(f"rendering and running the scenarios ({mode}) …", file=sys.stderr)
    results = run_scenarios(
        engine, sentiment, playbook, cache, realtime=args.realtime, pace=args.pace,
        names=args.scenario, log=lambda line: print(line, file=sys.stderr),
    )  # fmt: skip
    summary = summarise(results)
    print(format_summary(summary, mode))
    if args.json:
        _write_json(args.json, json.dumps(summary, indent=2), f"{len(results)} scenarios")
    return 0


def cmd_summary_eval(args: argparse.Namespace) -> int:
    from app.tooling.summary_eval import format_summary, note_text, run_calls, summarise

    engine = _engine(args) if args.mode != "text" else None
    sentiment = _sentiment(args)
    playbook = _playbook(args)
    mode = f"realtime, pace {args.pace:g}" if args.mode == "realtime" else args.mode
    print(f"running the annotated calls ({mode}) …", file=sys.stderr)
    scores = run_calls(
        args.mode, engine, sentiment, playbook, cache_dir() / "summary_calls", pace=args.pace,
        names=args.call, log=lambda line: print(line, file=sys.stderr),
    )  # fmt: skip
    for scored in scores:
        if scored.call.name in (args.show or ()):
            print(f"== {scored.call.name}\n{note_text(scored.summary)}\n")
            print(f"-- what the agent would write:\n{scored.call.agent_note}\n")
    summary = summarise(scores)
    print(format_summary(summary, mode))
    if args.json:
        _write_json(args.json, json.dumps(summary, indent=2), f"{len(scores)} calls")
    return 0


def cmd_complaint_eval(args: argparse.Namespace) -> int:
    from app.tooling.complaint_eval import (
        format_scores,
        load_callcentre_lines,
        load_complaint_lines,
        score_set,
    )

    sentiment = _sentiment(args)
    if sentiment is None:
        raise UsageError("complaint-eval measures the client's mood; it needs a sentiment model")
    playbook = _playbook(args)
    scores = [
        score_set("complaint-style lines", load_complaint_lines(), sentiment, playbook),
        score_set("call-centre lines", load_callcentre_lines(), sentiment, playbook),
    ]
    print(format_scores(scores))
    return 0


def cmd_playbook(args: argparse.Namespace) -> int:
    from app.coaching.playbook import PlaybookError, default_playbook_path, load_playbook

    if args.path:
        print(user_playbook_path())
        return 0
    if args.check:
        try:
            playbook = load_playbook(Path(args.check))
        except PlaybookError as exc:
            raise UsageError(str(exc)) from exc
        print(f"{args.check}: ok ({len(playbook.situations)} situations)")
        return 0
    override = user_playbook_path()
    print(f"default: {default_playbook_path()}")
    print(f"yours:   {override}" + ("" if override.is_file() else " (not created)"))
    playbook = _playbook(args)
    for situation in sorted(playbook.situations.values(), key=lambda s: -s.priority):
        print(f"  {situation.priority:>3}  {situation.kind:<16} {situation.cue}")
    return 0


def _training(module: str) -> Any:
    """A training module; without the training extra installed, what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise UsageError(
            f"training needs the training extra ({error.name} is not installed): "
            "pip install 'calmline[train]'"
        ) from None


def cmd_train_sentiment(args: argparse.Namespace) -> int:
    _training("models.training.train").main(args.rest)
    return 0


def cmd_eval_sentiment(args: argparse.Namespace) -> int:
    _training("models.training.evaluate").main(args.rest)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from app.tooling.bench import BenchError, run_bench

    try:
        return run_bench(args)
    except BenchError as exc:
        raise UsageError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calmline",
        description="Local live transcription and coaching for support calls.",
    )
    parser.add_argument("--version", action="version", version=f"calmline {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("devices", help="list audio inputs and the loopback of each output")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("install-desktop", help="add Calmline to this user's application menu")
    p.set_defaults(func=cmd_install_desktop)

    p = sub.add_parser("analyze", help="transcribe a recorded call (JSON with --json)")
    p.add_argument("call", nargs="?", help="stereo call recording (one side per channel)")
    p.add_argument("--agent-channel", choices=("left", "right"), default="left")
    p.add_argument("--agent", help="the agent's side as its own file")
    p.add_argument("--client", help="the client's side as its own file")
    p.add_argument("--json", metavar="OUT", help="write the JSON result to OUT ('-' = stdout)")
    p.add_argument(
        "--realtime",
        action="store_true",
        help="replay at real-time pace through the live path and record latencies",
    )
    p.add_argument("--pace", type=float, default=1.0, help=argparse.SUPPRESS)
    p.add_argument("--save", action="store_true", help="store the result as a call (prints its id)")
    cli_calls.add_call_details_options(p)
    cli_calls.add_store_option(p)
    _add_model_options(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("listen", help="transcribe a live call from two input devices")
    p.add_argument("--agent-device", help="the agent's microphone (index or name)")
    p.add_argument(
        "--client-device",
        help="the client's line (index or name): an input, or the loopback of the output "
        "device the softphone plays into, e.g. 'Loopback: Headset' (see 'calmline devices')",
    )
    p.add_argument("--seconds", type=float, help="stop by itself after this many seconds")
    p.add_argument("--no-save", action="store_true", help="do not record the call")
    cli_calls.add_call_details_options(p)
    cli_calls.add_store_option(p)
    _add_model_options(p)
    p.set_defaults(func=cmd_listen)

    p = sub.add_parser("demo", help="replay the bundled demo call through the live path")
    p.add_argument("--pace", type=float, default=1.0, help="replay speed (1 = real time)")
    _add_model_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sentiment", help="score the sentiment of client lines")
    p.add_argument("text", nargs="*", help="lines to score")
    p.add_argument("--file", help="score each line of this file ('-' = stdin)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    _add_sentiment_option(p)
    p.set_defaults(func=cmd_sentiment)

    p = sub.add_parser("coach", help="what the coach would say on a written transcript (no audio)")
    p.add_argument(
        "transcript",
        help="Calmline JSON, an Azure conversation JSON, or a script of AGENT:/CLIENT: lines",
    )
    p.add_argument("--json", metavar="OUT", help="write the JSON result to OUT ('-' = stdout)")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    _add_sentiment_option(p)
    p.add_argument("--playbook", metavar="FILE", help="your playbook, merged over the default")
    p.set_defaults(func=cmd_coach)

    p = sub.add_parser("coach-eval", help="measure the coach on the scripted scenario calls")
    p.add_argument("--realtime", action="store_true", help="replay through the live path")
    p.add_argument("--pace", type=float, default=1.0, help="replay speed with --realtime")
    p.add_argument("--scenario", action="append", help="only this scenario (repeatable)")
    p.add_argument("--json", metavar="OUT", help="write the summary as JSON")
    _add_model_options(p)
    p.set_defaults(func=cmd_coach_eval)

    p = sub.add_parser(
        "summary-eval", help="measure the drafted ticket note on the annotated IT-support calls"
    )
    p.add_argument(
        "--mode",
        choices=("text", "offline", "realtime"),
        default="offline",
        help="the scripts as text, or spoken and transcribed (offline or the live path)",
    )
    p.add_argument("--pace", type=float, default=1.0, help="replay speed with --mode realtime")
    p.add_argument("--call", action="append", help="only this call (repeatable)")
    p.add_argument("--show", action="append", help="print this call's note in full (repeatable)")
    p.add_argument("--json", metavar="OUT", help="write the summary as JSON")
    _add_model_options(p)
    p.set_defaults(func=cmd_summary_eval)

    p = sub.add_parser(
        "complaint-eval", help="measure how the client's mood reads spoken complaints"
    )
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    _add_sentiment_option(p)
    p.add_argument("--playbook", metavar="FILE", help="your playbook, merged over the default")
    p.set_defaults(func=cmd_complaint_eval)

    p = sub.add_parser("playbook", help="show, locate or validate the coaching playbook")
    p.add_argument("--check", metavar="FILE", help="validate FILE merged over the default")
    p.add_argument("--path", action="store_true", help="print where your own playbook goes")
    p.set_defaults(func=cmd_playbook)

    # Commands with their own argument parser (and --help): the rest of the line is theirs.
    for name, (run, summary) in PASS_THROUGH.items():
        p = sub.add_parser(name, help=summary, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=run)

    p = sub.add_parser("bench", help="measure speed, latency, accuracy and memory")
    p.add_argument("--data", required=True, help="the shared data folder (e.g. ../shared/data)")
    p.add_argument("--models", default="tiny.en,base", help="comma-separated models to measure")
    p.add_argument("--calls-seconds", type=float, default=None, help="limit each call to N s")
    p.add_argument(
        "--live-seconds",
        type=float,
        default=120.0,
        help="replay this much of a call at real-time pace for live latency (default 120)",
    )
    p.add_argument("--skip-live", action="store_true", help="skip the real-time replay part")
    p.add_argument(
        "--bands",
        default="clean,pstn,noisy-mobile",
        help="telephone lines for the WER rows: clean, pstn, gsm, amr, noisy-mobile, quiet, "
        "clipped, or all (default clean,pstn,noisy-mobile)",
    )
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    p.set_defaults(func=cmd_bench)

    cli_calls.add_calls_parser(sub)
    cli_team.add_team_parser(sub)
    return parser


def cmd_bench_search(args: argparse.Namespace) -> int:
    from app.tooling.bench_search import main as bench_search_main

    return bench_search_main(args.rest)


def cmd_soak(args: argparse.Namespace) -> int:
    from app.tooling.soak import main as soak_main

    return soak_main(args.rest)


PASS_THROUGH = {
    "train-sentiment": (
        cmd_train_sentiment,
        "train the client-sentiment model (see --help: OUTPUT_DIR, --data-dir, --seed …)",
    ),
    "eval-sentiment": (
        cmd_eval_sentiment,
        "evaluate a sentiment model: TweetEval, SST-2, GoEmotions, MELD, call lines, speed",
    ),
    "bench-search": (
        cmd_bench_search,
        "time full-text search over 10,000 generated calls vs a LIKE scan (--store URL)",
    ),
    "soak": (cmd_soak, "a long call replayed live: RSS per minute, memory drift, latency drift"),
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASS_THROUGH:  # their own argument parsers (and --help)
        try:
            return PASS_THROUGH[argv[0]][0](argparse.Namespace(rest=argv[1:]))
        except UsageError as exc:
            print(f"calmline: error: {exc}", file=sys.stderr)
            return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    for number in ("pace",):
        if getattr(args, number, 1.0) is not None and getattr(args, number, 1.0) <= 0:
            parser.error(f"--{number} must be positive")
    try:
        return args.func(args)
    except (
        UsageError, AudioInputError, ModelError, StoreError, SettingsError,
        cli_calls.CallsUsageError,
    ) as exc:  # fmt: skip
        print(f"calmline: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # e.g. --json into a missing folder, a full disk, no permission
        where = f": {exc.filename}" if exc.filename else ""
        print(
            f"calmline: error: {exc.strerror or exc}{where} "
            "(check the path, its permissions and the free disk space)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
