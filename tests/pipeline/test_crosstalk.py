"""Words stay on the side that spoke them, on synthetic bleed and on a real call."""

from __future__ import annotations

import numpy as np
import soundfile
from support.speech import normalise, silence, speak, write_stereo

from app.pipeline.analyze import analyze_offline
from app.pipeline.call import CallSetup
from audio.sides import Side
from audio.sources import call_file_channels


def test_agent_voice_leaking_into_the_client_line(tmp_path, tiny_engine):
    greeting = speak("Thank you for calling the service desk, this is Sam, how can I help?")
    reply = speak("Hi Sam, my laptop will not connect to the office network.", "en-us+f3")
    agent = np.concatenate([silence(0.5), greeting, silence(5.0)])
    client = np.zeros(len(agent), dtype=np.float32)
    client += agent * 10 ** (-26 / 20)  # bleed
    start = int((1.5 + len(greeting) / 16000) * 16000)
    client[start : start + len(reply)] += reply
    agent[start : start + len(reply)] += reply * 10 ** (-26 / 20)
    path = write_stereo(tmp_path / "call.wav", agent, client)
    segments = analyze_offline(call_file_channels(path), CallSetup(tiny_engine)).segments
    agent_text = normalise(" ".join(s.text for s in segments if s.speaker is Side.AGENT))
    client_text = normalise(" ".join(s.text for s in segments if s.speaker is Side.CLIENT))
    assert "calling" in agent_text and "laptop" not in agent_text
    assert "laptop" in client_text and "calling" not in client_text


def test_real_call_greeting_is_attributed_once(shared_data, tmp_path, tiny_engine):
    calls = shared_data / "calls"
    agent, rate = soundfile.read(calls / "Auto_Repairs_40_UTC_agent.wav", dtype="float32")
    client, _ = soundfile.read(calls / "Auto_Repairs_40_UTC_caller.wav", dtype="float32")
    seconds = 60 * rate
    path = write_stereo(tmp_path / "call.wav", agent[:seconds], client[:seconds], rate)
    segments = analyze_offline(call_file_channels(path), CallSetup(tiny_engine)).segments
    agent_words = set(
        normalise(" ".join(s.text for s in segments if s.speaker is Side.AGENT)).split()
    )
    client_first = next(s for s in segments if s.speaker is Side.CLIENT)
    assert {"platinum", "motors"} <= agent_words
    assert client_first.start > 6.0, "the greeting is not repeated on the client side"
    client_text = normalise(" ".join(s.text for s in segments if s.speaker is Side.CLIENT))
    assert "platinum" not in client_text and "jack" in client_text
