"""The coach on the scripted scenario calls, through real speech-to-text and sentiment.

Measured with tiny.en (README, "The coach"): 33 of 36 expected cues offline; the misses are
speech-recognition errors on synthetic voices ("damn" heard as "time"). The floors below
leave room for run-to-run variation; the voice and refusal cues must all be found, and the
calm calls must stay free of de-escalation cues.
"""

from __future__ import annotations

import pytest

from app.coaching.playbook import load_playbook
from app.tooling.coach_eval import load_scenarios, run_scenarios, summarise
from models.sentiment import load_sentiment_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def offline_results(tiny_engine, tmp_path_factory):
    return run_scenarios(
        tiny_engine,
        load_sentiment_model("default"),
        load_playbook(),
        tmp_path_factory.mktemp("scenarios"),
    )


def test_calm_calls_get_no_de_escalation_cues(offline_results):
    summary = summarise(offline_results)
    assert summary["calm_calls"] >= 4
    assert summary["false_cues_on_calm_calls"] == []


def test_situations_are_recognised(offline_results):
    summary = summarise(offline_results)
    hits = sum(hit for hit, _ in summary["recall"].values())
    total = sum(count for _, count in summary["recall"].values())
    print(summary)
    assert hits / total >= 0.75
    for kind in ("abuse", "abuse_continues", "anger", "frustration", "long_silence", "jargon",
                 "raised_voice", "no_without_reason", "interrupting"):  # fmt: skip
        hit, count = summary["recall"][kind]
        assert hit == count, kind


def test_every_scenario_is_evaluated(offline_results):
    assert {r.scenario.name for r in offline_results} == {s.name for s in load_scenarios()}


def test_cue_delay_in_real_time(tiny_engine, tmp_path):
    results = run_scenarios(
        tiny_engine,
        load_sentiment_model("default"),
        load_playbook(),
        tmp_path,
        realtime=True,
        names=["abuse_continues"],
    )
    summary = summarise(results)
    assert summary["recall"]["abuse_continues"] == (1, 1)
    assert summary["delay_p95"] <= 1.5
