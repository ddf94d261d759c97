"""Calls at the edges of the live path, with real speech and the real model: a ten-minute
monologue without a pause (commits keep coming at most every 20 s and no text is lost) and
rapid back-and-forth turns (every turn on the right side, in order)."""

from __future__ import annotations

import jiwer
import numpy as np
import pytest
from support.speech import normalise, silence, speak, write_stereo

from app.pipeline.analyze import analyze_offline
from app.pipeline.call import CallSetup
from audio.sides import Side
from audio.sources import call_file_channels
from audio.vad import VadSettings

PARAGRAPH = (
    "so the printer on the third floor keeps jamming every morning and the toner light "
    "comes on even after we changed the cartridge and the queue fills up with jobs that "
    "never print and then everyone walks over to the second floor to print their reports "
    "and by lunchtime that printer is out of paper as well and nobody knows who orders it"
)


@pytest.mark.reliability("load", "A ten-minute monologue without a pause")
@pytest.mark.slow
def test_a_ten_minute_monologue_is_committed_in_pieces_without_losing_text(
    tmp_path, tiny_engine, reliability_note
):
    piece = speak(PARAGRAPH, "en-us+m3", 175)
    repeats = int(np.ceil(600 / (len(piece) / 16_000)))
    monologue = np.concatenate([piece] * repeats)  # no pause longer than espeak's own
    call = write_stereo(tmp_path / "monologue.wav", silence(len(monologue) / 16_000), monologue)
    result = analyze_offline(call_file_channels(call), CallSetup(tiny_engine, redact=()))
    client = [s for s in result.segments if s.speaker is Side.CLIENT]
    assert result.duration_s >= 590
    longest = max(s.end - s.start for s in client)
    assert longest <= VadSettings().max_utterance_s + 0.5, "an utterance is cut at 20 s"
    gaps = np.diff([0.0] + [s.end for s in client])
    assert gaps.max() <= VadSettings().max_utterance_s + 1.0, "text keeps coming"
    said = normalise(" ".join([PARAGRAPH] * repeats))
    heard = normalise(" ".join(s.text for s in client))
    error = jiwer.wer(said, heard)
    # The baseline: the same paragraph decoded whole, with no cutting at all (tiny.en
    # mis-hears some of espeak-ng's words either way).
    whole = jiwer.wer(normalise(PARAGRAPH), normalise(tiny_engine.decode(piece).text))
    measured = (
        f"{result.duration_s:.0f} s in {len(client)} pieces (longest {longest:.1f} s); "
        f"WER {error:.3f} vs {whole:.3f} decoded whole"
    )
    print(f"\nmonologue: {measured}")
    reliability_note(measured)
    assert error <= whole * 1.15 + 0.02, "cutting at 20 s must not lose words"


@pytest.mark.reliability("load", "Rapid back-and-forth turns")
@pytest.mark.slow
def test_rapid_turns_land_on_the_right_side_in_order(tmp_path, tiny_engine):
    agent_lines = ["Can you hear me?", "Which floor?", "Restart it now.", "Better?"]
    client_lines = ["Yes I can.", "The third one.", "Okay, done.", "Much better, thanks."]
    agent, client = [], []
    for mine, theirs in zip(agent_lines, client_lines, strict=True):
        a, c = speak(mine), speak(theirs, "en-us+f3")
        agent += [a, silence(len(c) / 16_000 + 0.5), silence(0.5)]
        client += [silence(len(a) / 16_000 + 0.5), c, silence(1.0)]
    call = write_stereo(tmp_path / "turns.wav", np.concatenate(agent), np.concatenate(client))
    result = analyze_offline(call_file_channels(call), CallSetup(tiny_engine, redact=()))
    turns = [(s.speaker, normalise(s.text)) for s in result.segments]
    expected = [
        side_line
        for pair in zip(agent_lines, client_lines, strict=True)
        for side_line in ((Side.AGENT, normalise(pair[0])), (Side.CLIENT, normalise(pair[1])))
    ]
    assert [side for side, _ in turns] == [side for side, _ in expected]
    assert jiwer.wer(" ".join(t for _, t in expected), " ".join(t for _, t in turns)) < 0.2
