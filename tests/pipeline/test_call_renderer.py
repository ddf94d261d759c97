"""The call renderer's modifiers: a turn louder than the side's others (``+9dB``), and a
turn that starts before the previous one ends (``overlap=1.5``) — the level changes and
overlaps the voice cues are measured on."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import soundfile
from support import REPO

spec = importlib.util.spec_from_file_location(
    "render_calls", REPO / "scripts" / "make_demo_call.py"
)
assert spec and spec.loader
renderer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(renderer)


def test_gain_and_overlap_are_rendered(tmp_path):
    script = tmp_path / "call.txt"
    script.write_text(
        "AGENT: Hello, this is the help desk speaking.\n"
        "CLIENT: My printer has stopped working again this morning, and I need it now.\n"
        "AGENT overlap=1.5: Right, which printer is it?\n"
        "AGENT +9dB: Which printer is it?\n",
        encoding="utf-8",
    )
    timeline = renderer.render_call(script, tmp_path / "call.flac")
    _hello, printer, interrupt, loud = timeline
    assert interrupt["overlap_s"] == 1.5
    assert interrupt["start"] == pytest.approx(printer["end"] - 1.5, abs=0.01)
    assert loud["gain_db"] == 9.0 and loud["start"] > interrupt["end"]
    audio, rate = soundfile.read(tmp_path / "call.flac")
    agent = audio[:, 0]

    def level(turn: dict) -> float:
        part = agent[round(turn["start"] * rate) : round(turn["end"] * rate)]
        return 20 * np.log10(np.sqrt(np.mean(part**2)))

    assert level(loud) - level(interrupt) == pytest.approx(9.0, abs=1.5)


@pytest.mark.parametrize(
    "line", ["AGENT loud: text", "AGENT +40dB: text", "AGENT overlap=20: text"]
)
def test_a_bad_modifier_is_refused(tmp_path, line):
    script = tmp_path / "call.txt"
    script.write_text(f"CLIENT: Hello.\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"modifier|gain must be"):
        renderer.parse_script(script)
