"""The drafted note on the 16 annotated IT-support calls (resources/summary_calls).

As written text the targets hold: fact recall 0.88, outcome 16 of 16 (README, "The drafted
ticket note"). Spoken by espeak-ng and transcribed by tiny.en, recall is 0.76 and the
outcome right on 15 of 16: the losses are speech-recognition errors on synthetic voices
("the wife I keep stopping" for "the Wi-Fi keeps dropping"). The floors below leave a little
room for run-to-run variation; personal data never reaches a note.
"""

from __future__ import annotations

import pytest

from app.coaching.playbook import load_playbook
from app.tooling.summary_eval import load_calls, run_calls, summarise


def test_every_annotated_call_is_complete():
    calls = load_calls()
    assert len(calls) >= 12
    assert {c.outcome for c in calls} == {"resolved", "unresolved", "escalated"}
    assert sum(c.held_out for c in calls) == len(calls) // 2
    for call in calls:
        assert call.facts and call.agent_note, call.name


def test_the_written_calls_meet_the_targets(tmp_path):
    summary = summarise(run_calls("text", None, None, load_playbook(), tmp_path, log=lambda _: 0))
    assert summary["all"]["recall"][2] >= 0.8
    assert summary["all"]["outcome"][2] >= 0.9
    assert summary["pii_leaks"] == []
    assert summary["draft_s"]["p95"] < 0.1


@pytest.mark.slow
def test_the_spoken_calls_through_the_real_pipeline(tiny_engine, tmp_path):
    scores = run_calls("offline", tiny_engine, None, load_playbook(), tmp_path, log=lambda _: 0)
    summary = summarise(scores)
    assert summary["all"]["recall"][2] >= 0.68
    assert summary["all"]["outcome"][2] >= 0.85
    assert summary["pii_leaks"] == []
