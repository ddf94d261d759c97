"""Measuring the drafted ticket note on the annotated IT-support calls in
``resources/summary_calls``.

Each call is a script (``AGENT:`` / ``CLIENT:`` lines) with a ``.facts.json`` beside it: the
key facts per section (each a set of keywords a right item must contain; ``a|b`` are
alternatives), the outcome status, and the personal data said on the call. The calls go
through the real pipeline — rendered to speech with espeak-ng and transcribed by Whisper
(offline or at real-time pace), or as written text — and the report gives, per section,
the recall of the facts and the precision of the items, how often the outcome is right,
any personal data in a note, and how long drafting takes.

The calls alternate between a development half (the rules were tuned looking at its
results) and a held-out half (never looked at while tuning); the report shows both.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.coaching.mood import SentimentScorer
from app.coaching.playbook import Playbook
from app.events import SUMMARY_SECTIONS, Committed, Event, Summary, SummaryDraft, SummaryItem
from app.paths import resources_dir
from app.pipeline.analyze import CallResult, analyze_offline, analyze_realtime
from app.pipeline.call import CallSetup
from app.pipeline.textcall import coach_transcript, load_turns
from app.summary.draft import draft_summary
from app.tooling.coach_eval import render_script
from audio.sources import call_file_channels
from models.stt import WhisperEngine

CALLS = resources_dir() / "summary_calls"
MODES = ("text", "offline", "realtime")


@dataclass(frozen=True)
class Fact:
    section: str
    fact: str
    keywords: tuple[tuple[str, ...], ...]  # every group must appear; any word of a group

    def found_in(self, text: str) -> bool:
        lowered = text.lower()
        return all(any(word in lowered for word in group) for group in self.keywords)


@dataclass(frozen=True)
class AnnotatedCall:
    name: str
    script: Path
    description: str
    outcome: str
    facts: tuple[Fact, ...]
    pii: tuple[str, ...]
    agent_note: str
    held_out: bool

    def section_facts(self, section: str) -> list[Fact]:
        return [f for f in self.facts if f.section == section]


@dataclass
class CallScore:
    call: AnnotatedCall
    summary: Summary
    draft_s: float  # drafting the whole note from the final lines, from scratch
    after_end_s: float | None = None  # realtime: the last word spoken → the final note
    found: dict[str, tuple[int, int]] = field(default_factory=dict)  # facts found / facts
    right: dict[str, tuple[int, int]] = field(default_factory=dict)  # items right / items
    outcome_right: bool = False
    pii_leaks: list[str] = field(default_factory=list)


def load_calls(folder: Path = CALLS) -> list[AnnotatedCall]:
    calls = []
    for index, script in enumerate(sorted(folder.glob("*.txt"))):
        data = json.loads(script.with_suffix(".facts.json").read_text(encoding="utf-8"))
        facts = tuple(
            Fact(
                section,
                entry["fact"],
                tuple(tuple(w.strip().lower() for w in k.split("|")) for k in entry["keywords"]),
            )
            for section in SUMMARY_SECTIONS
            for entry in data["facts"].get(section, [])
        )
        calls.append(
            AnnotatedCall(
                name=script.stem,
                script=script,
                description=data.get("description", ""),
                outcome=data["outcome"],
                facts=facts,
                pii=tuple(data.get("pii", [])),
                agent_note=data.get("agent_note", ""),
                held_out=index % 2 == 1,
            )
        )
    return calls


def score(call: AnnotatedCall, summary: Summary, draft_s: float) -> CallScore:
    result = CallScore(call, summary, draft_s)
    for section in SUMMARY_SECTIONS:
        items = summary.section(section)
        facts = call.section_facts(section)
        result.found[section] = (
            sum(any(f.found_in(i.text) for i in items) for f in facts),
            len(facts),
        )
        result.right[section] = (sum(any(f.found_in(i.text) for f in facts) for i in items),
                                 len(items))  # fmt: skip
    result.outcome_right = summary.outcome.status == call.outcome
    texts = [i.text for s in SUMMARY_SECTIONS for i in summary.section(s)]
    texts.append(summary.outcome.text)
    digit_runs = ["".join(ch for ch in text if ch.isdigit()) for text in texts]
    for secret in call.pii:
        digits = "".join(ch for ch in secret if ch.isdigit())
        spoken_digits = len(digits) >= 4 and any(digits in run for run in digit_runs)
        if spoken_digits or any(secret.lower() in text.lower() for text in texts):
            result.pii_leaks.append(secret)
    return result


def _timed_draft(result: CallResult) -> float:
    started = time.perf_counter()
    draft_summary(result.segments)
    return time.perf_counter() - started


class _DraftClock:
    """Realtime runs: when the note was last complete — the wall time the stages had been
    through the newest line (a line that changes nothing in the note still completes it)."""

    def __init__(self) -> None:
        self.last: float | None = None
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if isinstance(event, SummaryDraft | Committed):
            with self._lock:
                self.last = time.monotonic()


def run_calls(
    mode: str,
    engine: WhisperEngine | None,
    sentiment: SentimentScorer | None,
    playbook: Playbook | None,
    cache: Path,
    pace: float = 1.0,
    names: Sequence[str] | None = None,
    log: Callable[[str], None] = print,
) -> list[CallScore]:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    scores = []
    for call in load_calls():
        if names and call.name not in names:
            continue
        after_end = None
        if mode == "text":
            setup = CallSetup(None, sentiment, playbook)
            result = coach_transcript(load_turns(call.script), setup)
        else:
            setup = CallSetup(engine, sentiment, playbook)
            flac, _timeline = render_script(call.script, cache)
            channels = call_file_channels(flac, "left")
            if mode == "offline":
                result = analyze_offline(channels, setup)
            else:
                clock = _DraftClock()
                started = time.monotonic()
                result = analyze_realtime(channels, setup, pace=pace, listeners=[clock])
                # from the last word spoken (not the end of the file, after its silence)
                last_word = max((s.end for s in result.segments), default=0.0)
                if clock.last is not None:
                    after_end = max(0.0, clock.last - (started + last_word / pace))
        scored = score(call, result.summary, _timed_draft(result))
        scored.after_end_s = after_end
        missed = missed_facts(call, result.summary)
        log(
            f"  {call.name}{' (held out)' if call.held_out else ''}: outcome "
            f"{result.summary.outcome.status}"
            + ("" if scored.outcome_right else f" (annotated {call.outcome})")
            + (f"; missed {missed}" if missed else "")
            + (f"; PERSONAL DATA {scored.pii_leaks}" if scored.pii_leaks else "")
        )
        scores.append(scored)
    return scores


def missed_facts(call: AnnotatedCall, summary: Summary) -> list[str]:
    return [
        f.fact
        for s in SUMMARY_SECTIONS
        for f in call.section_facts(s)
        if not any(f.found_in(i.text) for i in summary.section(s))
    ]


def _ratio(pairs: Sequence[tuple[int, int]]) -> tuple[int, int, float | None]:
    hit, total = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    return hit, total, (hit / total if total else None)


def _p95(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else None


def summarise(scores: Sequence[CallScore]) -> dict[str, Any]:
    def part(chosen: Sequence[CallScore]) -> dict[str, Any]:
        sections = {
            section: {
                "recall": _ratio([s.found[section] for s in chosen]),
                "precision": _ratio([s.right[section] for s in chosen]),
            }
            for section in SUMMARY_SECTIONS
        }
        return {
            "calls": len(chosen),
            "sections": sections,
            "recall": _ratio([s.found[x] for s in chosen for x in SUMMARY_SECTIONS]),
            "precision": _ratio([s.right[x] for s in chosen for x in SUMMARY_SECTIONS]),
            "outcome": _ratio([(int(s.outcome_right), 1) for s in chosen]),
        }

    after = [s.after_end_s for s in scores if s.after_end_s is not None]
    return {
        "all": part(scores),
        "development": part([s for s in scores if not s.call.held_out]),
        "held_out": part([s for s in scores if s.call.held_out]),
        "pii_leaks": [(s.call.name, leak) for s in scores for leak in s.pii_leaks],
        "draft_s": {
            "p50": statistics.median([s.draft_s for s in scores]) if scores else None,
            "p95": _p95([s.draft_s for s in scores]),
        },
        "after_end_s": {"p50": statistics.median(after) if after else None, "p95": _p95(after)},
        "outcomes": [(s.call.name, s.call.outcome, s.summary.outcome.status) for s in scores],
        "calls": [
            {
                "name": s.call.name,
                "held_out": s.call.held_out,
                "summary": s.summary.to_json(),
                "missed": missed_facts(s.call, s.summary),
                "after_end_s": s.after_end_s,
            }
            for s in scores
        ],
    }


def _cell(value: tuple[int, int, float | None]) -> str:
    hit, total, share = value
    return f"{hit:>3}/{total:<3} {share:.2f}" if share is not None else f"{hit:>3}/{total:<3}  -  "


def format_summary(summary: dict[str, Any], mode: str) -> str:
    lines = [f"Drafted ticket note on the annotated calls ({mode})", ""]
    for name in ("all", "development", "held_out"):
        part = summary[name]
        lines.append(f"{name.replace('_', ' ')} ({part['calls']} calls)")
        lines.append(f"  {'section':<10} {'fact recall':>16} {'item precision':>18}")
        for section, numbers in part["sections"].items():
            lines.append(
                f"  {section:<10} {_cell(numbers['recall']):>16} {_cell(numbers['precision']):>18}"
            )
        lines.append(f"  {'all':<10} {_cell(part['recall']):>16} {_cell(part['precision']):>18}")
        lines.append(f"  outcome status right: {_cell(part['outcome'])}")
        lines.append("")
    leaks = summary["pii_leaks"]
    lines.append(f"personal data in a note: {len(leaks)} {leaks or ''}".rstrip())
    draft = summary["draft_s"]
    if draft["p95"] is not None:
        lines.append(
            f"drafting the whole note from scratch: p50 {draft['p50'] * 1000:.1f} ms, "
            f"p95 {draft['p95'] * 1000:.1f} ms"
        )
    after = summary["after_end_s"]
    if after["p95"] is not None:
        lines.append(
            f"last word of the call → final note (live path): p50 {after['p50']:.2f} s, "
            f"p95 {after['p95']:.2f} s (target p95 ≤ 1 s)"
        )
    return "\n".join(lines)


def note_text(summary: Summary) -> str:
    """The note as the agent reads it (for the report and the closing note)."""

    def items(title: str, chosen: Sequence[SummaryItem]) -> list[str]:
        return [f"{title}:"] + [f"  - {i.text}" for i in chosen] if chosen else [f"{title}: -"]

    outcome = summary.outcome
    return "\n".join(
        [
            *items("Reason", summary.reason),
            *items("Found", summary.cause),
            *items("Steps", summary.steps),
            f"Outcome: {outcome.status}" + (f" — “{outcome.text}”" if outcome.text else ""),
            *items("Follow-up", summary.follow_up),
        ]
    )
