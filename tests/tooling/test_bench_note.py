"""`calmline bench`'s ticket-note timing, on written lines (the bench runs it on real calls)."""

from __future__ import annotations

from app.paths import DEMO_CALL
from app.pipeline.textcall import load_turns, timed_segments
from app.tooling.bench import ModelReport, bench_note, format_reports


def test_the_note_is_timed_whole_and_line_by_line_against_the_coach():
    lines = timed_segments(load_turns(DEMO_CALL.with_suffix(".txt")))
    timing = bench_note([lines, lines], repeats=3)
    assert timing.lines == 2 * len(lines)
    assert 0 < timing.step_p95_s <= timing.live_total_s
    assert timing.whole_p95_s > 0 and timing.coach_total_s > 0
    report = ModelReport("tiny.en", 0.5, 1.0, 1.0, 10.0, [], [], note=timing)
    table = format_reports([report], threads=2)
    assert "Ticket note: drafting on the real calls' lines" in table
    assert f"{timing.lines:>6}" in table and "ok" in table.split("Ticket note")[1]
