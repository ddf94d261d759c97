"""Which inputs the window proposes: what the agent used last, by name; else the default
microphone for the agent and the loopback of the default output (where the softphone
plays) for the client."""

from __future__ import annotations

import pytest

from audio.devices import InputDevice
from audio.loopback import LoopbackDevice
from audio.sides import Side
from ui.theme import LIGHT
from ui.widgets.call_bar import CallBar


def loopback(index: int, speaker: str, default: bool) -> InputDevice:
    device = LoopbackDevice(f"Loopback: {speaker} (what you hear)", speaker, speaker, 2, default)
    return InputDevice(index, device.name, 2, 48000, "loopback", device, default=default)


DEVICES = [
    InputDevice(0, "HDA Intel PCH: ALC257 Analog", 2, 48000, "ALSA"),
    InputDevice(1, "Jabra Evolve2 40", 1, 16000, "ALSA", default=True),
    loopback(7, "Built-in Speakers", default=False),
    loopback(8, "Jabra Evolve2 40", default=True),
]


@pytest.fixture
def bar(qtbot):
    widget = CallBar(LIGHT)
    qtbot.addWidget(widget)
    return widget


def test_a_new_agent_gets_the_default_mic_and_the_default_outputs_loopback(bar):
    bar.set_devices(DEVICES, {})
    assert bar.chosen_name(Side.AGENT) == "Jabra Evolve2 40"
    assert bar.chosen_name(Side.CLIENT) == "Loopback: Jabra Evolve2 40 (what you hear)"
    assert bar.chosen_device(Side.CLIENT) == 8


def test_what_the_agent_chose_last_wins_over_the_defaults(bar):
    preferred = {Side.AGENT: "HDA Intel PCH: ALC257 Analog",
                 Side.CLIENT: "Loopback: Built-in Speakers (what you hear)"}  # fmt: skip
    bar.set_devices(DEVICES, preferred)
    assert bar.chosen_device(Side.AGENT) == 0 and bar.chosen_device(Side.CLIENT) == 7
