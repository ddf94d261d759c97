"""The window's input check on the real virtual devices (scripts/virtual-audio.sh): before
a call, the chosen inputs' meters move with what is played into them, and a call started
from there captures through the same devices."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from support.devices import AGENT_DEVICE, CLIENT_DEVICE, SINKS, play
from support.speech import silence, speak
from support.window import cached_load_models, close_and_wait

from audio.loopback import loopback_name
from audio.sides import Side
from ui.call_controller import CallState, Services
from ui.main_window import MainWindow

# the window loads the real models (support.window.cached_load_models)
pytestmark = [pytest.mark.slow, pytest.mark.device, pytest.mark.usefixtures("virtual_devices")]


DESKS = {
    "alsa devices": (AGENT_DEVICE, CLIENT_DEVICE),
    # a desk as it is: the default microphone (a real capture source, scripts/virtual-audio.sh)
    # and the loopback of the output the softphone plays into — no ALSA configuration
    "default mic and softphone loopback": (
        "default",
        loopback_name(SINKS[Side.CLIENT]),
    ),
}


@pytest.fixture(params=list(DESKS))
def desk(request) -> tuple[str, str]:
    return DESKS[request.param]


@pytest.fixture
def settings(tmp_path, desk) -> QSettings:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("devices/agent", desk[0])
    settings.setValue("devices/client", desk[1])
    return settings


def test_meters_show_the_inputs_before_and_during_a_call(
    qtbot, settings, desk, tmp_path, no_thread_left_running
):
    agent_device, client_device = desk
    window = MainWindow(
        settings, tmp_path / "notes", services=Services(load_models=cached_load_models)
    )
    window.show()
    qtbot.waitExposed(window)
    window.begin()
    qtbot.waitUntil(
        lambda: window.call_bar.chosen_name(Side.CLIENT) == client_device, timeout=10_000
    )
    assert window.call_bar.chosen_name(Side.AGENT) == agent_device
    qtbot.waitUntil(lambda: window.controller.checking_inputs, timeout=10_000)

    # PortAudio's ALSA-on-PulseAudio streams deliver their first frames up to ~2 s after
    # they open (slower on a busy machine): speak once the client line is really flowing.
    def client_line_flowing() -> bool:
        monitor = window.controller._monitor
        line = monitor and monitor._sources.get(Side.CLIENT)
        return bool(line and line.stats().frames_captured > 0)

    qtbot.waitUntil(client_line_flowing, timeout=20_000)

    meter = window.call_bar.meters[Side.CLIENT]
    speech = np.concatenate([speak("Hello, is anybody there?", "en-us+f3"), silence(0.3)])
    player = play(Side.CLIENT, speech, tmp_path / "client.wav")
    loudest = []
    qtbot.waitUntil(lambda: loudest.append(meter.level_dbfs) or max(loudest) > -40, timeout=10_000)
    player.wait(timeout=30)
    assert window.call_bar.meters[Side.AGENT].level_dbfs <= -55, "nothing was played there"

    qtbot.waitUntil(lambda: window.controller.state is CallState.READY, timeout=120_000)
    window.call_bar.start_button.click()
    qtbot.waitUntil(lambda: window.controller.state is CallState.LIVE, timeout=20_000)
    assert not window.controller.checking_inputs, "the call took the devices over"
    # PortAudio's ALSA-on-PulseAudio streams deliver their first frames up to ~1.5 s after
    # they open (slower on a busy machine): speak once the client line is really flowing.
    qtbot.waitUntil(
        lambda: window.controller._session.status().capture[Side.CLIENT].frames_captured > 0,
        timeout=20_000,
    )
    player = play(Side.CLIENT, speech, tmp_path / "client.wav")
    player.wait(timeout=30)
    qtbot.waitUntil(lambda: "Client:" in window.transcript.plain_text(), timeout=30_000)
    window.call_bar.start_button.click()  # Stop
    qtbot.waitUntil(lambda: window.controller.state is CallState.READY, timeout=60_000)
    qtbot.waitUntil(lambda: window.controller.checking_inputs, timeout=10_000)
    close_and_wait(qtbot, window)
    assert not window.controller.checking_inputs
