"""Real capture: PulseAudio null sinks exposed as ALSA inputs (scripts/virtual-audio.sh).

Speech is played into each sink with ``paplay`` while Calmline captures the sinks' monitors
through sounddevice, exactly as it would capture a headset and a softphone's line.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from support import REPO
from support.devices import AGENT_DEVICE, CLIENT_DEVICE, play
from support.speech import normalise, silence, speak

from app.events import Committed
from app.pipeline.live import LiveTranscriber
from app.pipeline.session import CallSession
from audio.sides import Side
from audio.sources import DeviceSource

pytestmark = pytest.mark.usefixtures("virtual_devices")


def test_session_captures_both_sides_from_devices(tmp_path, tiny_engine):
    events: queue.Queue = queue.Queue()
    sources = {
        Side.AGENT: DeviceSource(Side.AGENT, AGENT_DEVICE),
        Side.CLIENT: DeviceSource(Side.CLIENT, CLIENT_DEVICE),
    }
    session = CallSession(sources, LiveTranscriber(tiny_engine), [events.put])
    session.start()
    try:
        agent = np.concatenate([speak("Thank you for calling the service desk."), silence(0.5)])
        play(Side.AGENT, agent, tmp_path / "agent.wav").wait(timeout=30)
        client = np.concatenate(
            [speak("My computer keeps restarting every hour.", "en-us+f3"), silence(0.5)]
        )
        play(Side.CLIENT, client, tmp_path / "client.wav").wait(timeout=30)
        texts: dict[Side, str] = {Side.AGENT: "", Side.CLIENT: ""}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(texts.values()):
            try:
                event = events.get(timeout=0.5)
            except queue.Empty:
                continue
            if isinstance(event, Committed):
                texts[event.segment.speaker] += " " + event.segment.text
    finally:
        session.stop()
    assert "service desk" in normalise(texts[Side.AGENT])
    assert "computer keeps" in normalise(texts[Side.CLIENT])
    status = session.status()
    assert status.capture[Side.AGENT].frames_dropped == 0
    assert status.capture[Side.CLIENT].level_dbfs < -60  # quiet again after the speech
    assert session.failure is None


@pytest.mark.slow
def test_listen_command_prints_lines_and_drains_on_interrupt(tmp_path):
    listen = subprocess.Popen(
        [
            sys.executable, "-m", "app.cli", "listen",
            "--agent-device", AGENT_DEVICE, "--client-device", CLIENT_DEVICE,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        ready = time.monotonic() + 60
        while time.monotonic() < ready:  # the model loads, then the streams open
            line = listen.stderr.readline()
            if "listening" in line or not line:
                break
        # Speech still going on when Ctrl-C arrives must be transcribed, not dropped.
        player = play(Side.CLIENT, speak("I need the password reset today", "en-us+f3"),
                      tmp_path / "client.wav")  # fmt: skip
        player.wait(timeout=30)
        listen.send_signal(signal.SIGINT)
        out, err = listen.communicate(timeout=60)
    finally:
        if listen.poll() is None:
            listen.kill()
    assert listen.returncode == 0, err
    assert "CLIENT" in out and "password" in normalise(out), out + err
    assert "Traceback" not in err


def test_devices_command_lists_the_virtual_inputs():
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "devices"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["index", "channels", "rate", "name"]
    names = [line.split(maxsplit=3)[3] for line in lines[1:]]
    assert AGENT_DEVICE in names and CLIENT_DEVICE in names
