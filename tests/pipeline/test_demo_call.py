"""The bundled demo call: the project's own recording, transcribed live on both sides."""

from __future__ import annotations

import json
import subprocess
import sys

import jiwer
import pytest
import soundfile
from support import REPO
from support.speech import normalise

from app.paths import DEMO_CALL
from app.pipeline.analyze import analyze_realtime
from app.pipeline.call import CallSetup
from audio.sides import Side
from audio.sources import call_file_channels

TIMELINE = DEMO_CALL.with_suffix(".json")


def reference(side: Side) -> str:
    turns = json.loads(TIMELINE.read_text())
    return normalise(" ".join(t["text"] for t in turns if t["speaker"] == side.value))


def test_demo_call_is_small_stereo_and_matches_its_script():
    info = soundfile.info(DEMO_CALL)
    assert info.channels == 2 and info.samplerate == 16000
    assert 60 < info.duration < 130
    assert DEMO_CALL.stat().st_size < 2_500_000
    script = (DEMO_CALL.parent / "demo_call.txt").read_text()
    turns = json.loads(TIMELINE.read_text())
    spoken = [line for line in script.splitlines() if line and not line.startswith("#")]
    assert len(turns) == len(spoken)
    assert all(0 <= t["start"] < t["end"] <= info.duration for t in turns)


def test_demo_transcribes_live_on_the_right_sides(tiny_engine):
    result = analyze_realtime(call_file_channels(DEMO_CALL), CallSetup(tiny_engine), pace=3.0)
    for side in Side:
        said = normalise(" ".join(s.text for s in result.segments if s.speaker is side))
        error = jiwer.wer(reference(side), said)
        print(f"{side.value}: WER {error:.3f}")
        assert error < 0.25, said
    client = normalise(" ".join(s.text for s in result.segments if s.speaker is Side.CLIENT))
    assert "password page" not in client and "respectful" not in client  # agent's words
    assert "deadline" in client
    assert result.capture["agent"]["frames_dropped"] == 0


@pytest.mark.slow
def test_demo_command_prints_both_speakers():
    run = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--pace", "4"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert sum("AGENT" in line for line in lines) >= 8
    assert sum("CLIENT" in line for line in lines) >= 8
    assert "Traceback" not in run.stderr
