"""Building a call in one place (CallSetup) and running its stages with one failure policy
(StageRunner), for live calls, recordings and written transcripts alike."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from support.speech import silence, speak

from app.coaching.coach import Coach
from app.coaching.mood import ClientMood
from app.coaching.playbook import load_playbook
from app.events import Committed, Degraded, EventStage, Segment
from app.pipeline.analyze import analyze_offline
from app.pipeline.call import CallSetup
from app.pipeline.stages import StageRunner
from app.pipeline.textcall import Turn, coach_transcript
from app.privacy.redact import RedactStage
from app.settings import Settings
from app.summary.stage import SummaryStage
from audio.sides import Side
from audio.sources import FileChannel
from models.stt import Decoded


class Broken(EventStage):
    component = "client mood"

    def __init__(self) -> None:
        self.fail = True

    def __call__(self, events):
        if self.fail:
            raise RuntimeError("model file damaged")
        return events

    def tick(self, now):
        if self.fail:
            raise RuntimeError("clock broke")
        return []


class Tag(EventStage):
    component = "tag"

    def __call__(self, events):
        return [*events, "tagged"]


def line(text="hello", seg_id=1):
    return Committed(Segment(seg_id, Side.CLIENT, 0.0, 1.0, text))


def test_a_failing_stage_is_skipped_and_reported_once_while_it_keeps_failing():
    broken = Broken()
    runner = StageRunner([broken, Tag()])
    first = runner.process([line()])
    assert first[0] == line() and first[-1] == "tagged"  # the next stage still ran
    assert [e.component for e in first if isinstance(e, Degraded)] == ["client mood"]
    again = runner.process([line(seg_id=2)])
    assert not [e for e in again if isinstance(e, Degraded)]  # told once, logged each time
    broken.fail = False
    assert not [e for e in runner.process([line(seg_id=3)]) if isinstance(e, Degraded)]
    broken.fail = True  # works, then fails again: the agent hears of it again
    assert [e for e in runner.process([line(seg_id=4)]) if isinstance(e, Degraded)]


def test_a_stage_failing_on_the_clock_tick_is_reported_like_any_failure():
    runner = StageRunner([Broken()])
    assert [type(e) for e in runner.tick(1.0)] == [Degraded]
    assert runner.tick(2.0) == []


def test_the_setup_builds_the_stages_the_settings_ask_for():
    class Scorer:
        def classify(self, texts):
            raise NotImplementedError

    setup = CallSetup.from_settings(None, Scorer(), load_playbook(), Settings(redact=("email",)))
    stages = setup.stages().stages
    assert [type(s) for s in stages] == [RedactStage, ClientMood, Coach, SummaryStage]
    assert stages[0].kinds == frozenset({"email"})
    assert [type(s) for s in CallSetup(None, redact=()).stages().stages] == [SummaryStage]


def test_a_failing_stage_degrades_a_written_transcript_instead_of_stopping_it(monkeypatch):
    def broken(self, events):
        raise RuntimeError("the coach broke")

    monkeypatch.setattr(Coach, "__call__", broken)
    turns = [Turn(Side.CLIENT, "this is ridiculous"), Turn(Side.AGENT, "I understand.")]
    result = coach_transcript(turns, CallSetup(None, playbook=load_playbook()))
    assert [s.text for s in result.segments] == ["this is ridiculous", "I understand."]
    assert [d.component for d in result.degraded] == ["coaching"]
    assert result.to_json()["degraded"][0]["component"] == "coaching"


class SaysHello:
    def decode(self, audio, beam_size=5, prompt="", window_s=10.0):
        return Decoded("hello there, thanks for calling", avg_logprob=-0.2, no_speech_prob=0.01)


def test_a_failing_stage_degrades_an_analysed_recording_instead_of_stopping_it(
    monkeypatch, tmp_path
):
    def broken(self, events):
        raise RuntimeError("the coach broke")

    monkeypatch.setattr(Coach, "__call__", broken)
    speech = np.concatenate([silence(0.5), speak("hello there, thanks for calling"), silence(1)])
    path = tmp_path / "agent.wav"
    soundfile.write(path, speech, 16_000)
    quiet = tmp_path / "client.wav"
    soundfile.write(quiet, silence(len(speech) / 16_000), 16_000)
    channels = {Side.AGENT: FileChannel(path, None), Side.CLIENT: FileChannel(quiet, None)}
    result = analyze_offline(channels, CallSetup(SaysHello(), playbook=load_playbook()))
    assert [s.text for s in result.segments] == ["hello there, thanks for calling"]
    assert [d.component for d in result.degraded] == ["coaching"]


def test_a_call_with_audio_needs_an_engine():
    with pytest.raises(ValueError, match="speech-to-text"):
        CallSetup(None).session({}, [])
