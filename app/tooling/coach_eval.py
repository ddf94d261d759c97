"""Measuring the coach on the scripted scenario calls in ``resources/scenarios``.

Each scenario is a call script rendered to stereo speech with espeak-ng (by
``scripts/make_demo_call.py``) and an ``.expected.json`` beside it: which cue kinds must
follow which turn, and which kinds must not appear at all. The calls go through the real
pipeline (Whisper, sentiment, coach), offline or at real-time pace, and the report gives
per-situation recall, false cues on calm calls, and the delay from the end of the
triggering utterance to the cue.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.coaching.mood import SentimentScorer
from app.coaching.playbook import DE_ESCALATION_KINDS, KINDS, Playbook
from app.paths import resources_dir
from app.pipeline.analyze import analyze_offline, analyze_realtime
from app.pipeline.call import CallSetup
from audio.sources import call_file_channels
from models.stt import WhisperEngine

# the scenarios render through the demo call's script, which lives beside the package
SCENARIOS = resources_dir() / "scenarios"
RENDERER = Path(__file__).resolve().parents[2] / "scripts" / "make_demo_call.py"
# A cue counts for its turn when it appears between the turn's end and this long after it
# (or, for long_silence, before the next turn starts).
MATCH_WINDOW_S = 8.0
# …or, for these, from the turn's start: talking over the client is seen while the agent's
# overlapping turn goes on (its first part commits before the rest is said)
DURING_THE_TURN = frozenset({"interrupting"})


@dataclass(frozen=True)
class Expectation:
    kind: str
    turn: int  # 1-based


@dataclass
class Scenario:
    name: str
    script: Path
    description: str
    calm: bool
    expect: list[Expectation]
    forbid: list[str]


@dataclass
class ScenarioResult:
    scenario: Scenario
    cues: list[dict[str, Any]]
    found: list[tuple[Expectation, dict[str, Any] | None]]
    forbidden: list[dict[str, Any]]
    delays: list[float] = field(default_factory=list)


def load_scenarios(folder: Path = SCENARIOS) -> list[Scenario]:
    scenarios = []
    for script in sorted(folder.glob("*.txt")):
        expected = json.loads(script.with_suffix(".expected.json").read_text(encoding="utf-8"))
        scenarios.append(
            Scenario(
                name=script.stem,
                script=script,
                description=expected.get("description", ""),
                calm=bool(expected.get("calm", False)),
                expect=[Expectation(e["kind"], int(e["turn"])) for e in expected["expect"]],
                forbid=list(expected.get("forbid", [])),
            )
        )
    return scenarios


def _renderer() -> Any:
    spec = importlib.util.spec_from_file_location("calmline_make_demo_call", RENDERER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(scenario: Scenario, cache: Path) -> tuple[Path, list[dict[str, Any]]]:
    """The scenario's audio and turn timeline (rendered once per script content)."""
    return render_script(scenario.script, cache)


def render_script(script: Path, cache: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A call script as stereo speech (left agent, right client) and its turn timeline,
    rendered with espeak-ng once per script content into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    flac = cache / f"{script.stem}-{digest}.flac"
    timeline_path = flac.with_suffix(".json")
    if not (flac.exists() and timeline_path.exists()):
        _renderer().render_call(script, flac)
    return flac, json.loads(timeline_path.read_text(encoding="utf-8"))


def match(
    scenario: Scenario, timeline: list[dict[str, Any]], cues: list[dict[str, Any]]
) -> ScenarioResult:
    found = []
    delays = []
    for expectation in scenario.expect:
        turn = timeline[expectation.turn - 1]
        window_start = turn["start"] if expectation.kind in DURING_THE_TURN else turn["end"] - 0.5
        window_end = turn["end"] + MATCH_WINDOW_S
        if expectation.kind == "long_silence" and expectation.turn < len(timeline):
            window_end = timeline[expectation.turn]["start"] + 1.0
        hit = next(
            (
                c
                for c in cues
                if c["kind"] == expectation.kind and window_start <= c["t"] <= window_end
            ),
            None,
        )
        found.append((expectation, hit))
        if hit is not None and expectation.kind != "long_silence":
            delays.append(max(0.0, hit["t"] - turn["end"]))
    forbidden = [c for c in cues if c["kind"] in scenario.forbid]
    return ScenarioResult(scenario, cues, found, forbidden, delays)


def run_scenarios(
    engine: WhisperEngine,
    sentiment: SentimentScorer | None,
    playbook: Playbook,
    cache: Path,
    realtime: bool = False,
    pace: float = 1.0,
    names: list[str] | None = None,
    log: Callable[[str], None] = print,
) -> list[ScenarioResult]:
    results = []
    for scenario in load_scenarios():
        if names and scenario.name not in names:
            continue
        flac, timeline = render(scenario, cache)
        channels = call_file_channels(flac, "left")
        setup = CallSetup(engine, sentiment, playbook)
        if realtime:
            call = analyze_realtime(channels, setup, pace=pace)
        else:
            call = analyze_offline(channels, setup)
        cues = [c.to_json() for c in call.cues]
        result = match(scenario, timeline, cues)
        if realtime and pace != 1.0:  # call time runs `pace` × faster than the wall clock
            result.delays = [d / pace for d in result.delays]
        missed = [e.kind for e, hit in result.found if hit is None]
        log(
            f"  {scenario.name}: cues {[c['kind'] for c in cues]}"
            + (f", MISSED {missed}" if missed else "")
            + (f", UNWANTED {[c['kind'] for c in result.forbidden]}" if result.forbidden else "")
        )
        results.append(result)
    return results


def summarise(results: list[ScenarioResult]) -> dict[str, Any]:
    recall: dict[str, list[int]] = {kind: [0, 0] for kind in KINDS}
    for result in results:
        for expectation, hit in result.found:
            recall[expectation.kind][1] += 1
            recall[expectation.kind][0] += hit is not None
    calm = [r for r in results if r.scenario.calm]
    false_on_calm = [
        (r.scenario.name, c["kind"])
        for r in calm
        for c in r.cues
        if c["kind"] in DE_ESCALATION_KINDS
    ]
    delays = sorted(d for r in results for d in r.delays)
    return {
        "recall": {kind: tuple(v) for kind, v in recall.items() if v[1]},
        "calm_calls": len(calm),
        "false_cues_on_calm_calls": false_on_calm,
        "unwanted": [(r.scenario.name, c["kind"]) for r in results for c in r.forbidden],
        "delay_p50": statistics.median(delays) if delays else None,
        "delay_p95": delays[min(len(delays) - 1, int(0.95 * len(delays)))] if delays else None,
        "delays": len(delays),
    }


def format_summary(summary: dict[str, Any], mode: str) -> str:
    lines = [f"Coach on the scenario calls ({mode})", "", f"{'situation':<16} {'recall':>8}"]
    hits = total = 0
    for kind, (hit, count) in summary["recall"].items():
        lines.append(f"{kind:<16} {hit:>3} / {count:<3}")
        hits += hit
        total += count
    lines.append(f"{'all':<16} {hits:>3} / {total:<3} = {hits / max(total, 1):.0%}")
    lines.append("")
    lines.append(
        f"de-escalation cues on {summary['calm_calls']} calm calls: "
        f"{len(summary['false_cues_on_calm_calls'])} (target 0) "
        f"{summary['false_cues_on_calm_calls'] or ''}"
    )
    lines.append(f"unwanted cues in all scenarios: {summary['unwanted'] or 'none'}")
    if summary["delay_p50"] is not None:
        lines.append(
            f"cue delay after the triggering utterance ends: p50 {summary['delay_p50']:.2f} s, "
            f"p95 {summary['delay_p95']:.2f} s over {summary['delays']} cues"
            + (" (target p95 ≤ 1.5 s)" if mode.startswith("realtime") else "")
        )
    return "\n".join(lines)
