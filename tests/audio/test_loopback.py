"""The client's line as the softphone plays it: an output device's loopback (soundcard).

Fast tests drive :class:`LoopbackSource` with a fake ``soundcard``: a loopback that
delivers nothing while nothing plays (WASAPI) still gives the call real-time silence, and
an output device that goes away and comes back is reported like a lost input. The real
ones record what ``paplay`` plays into a PulseAudio null sink, through its monitor — no
``.asoundrc``, the same path an agent's headset output takes."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pytest
from support import REPO
from support.devices import AGENT_DEVICE, SINKS, play
from support.speech import normalise, silence, speak

from audio.devices import list_capture_devices
from audio.loopback import LoopbackDevice, LoopbackSource, list_loopback_devices, loopback_name
from audio.sides import Side
from audio.sources import open_input

RATE = 16_000


@dataclass
class FakeSpeaker:
    name: str
    id: str
    channels: int = 2


class BlockingRecorder:
    """WASAPI loopback with nothing playing: a read blocks until audio comes."""

    def __init__(self, card: FakeCard, level: float = 0.25) -> None:
        self.card = card
        self.level = level

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def record(self, numframes):
        while not self.card.playing.wait(0.05):
            if self.card.broken:
                raise RuntimeError("device invalidated")
        if self.card.broken:
            raise RuntimeError("device invalidated")
        time.sleep(numframes / RATE)
        return np.full((numframes, 1), self.level, dtype=np.float32)


@dataclass
class FakeCard:
    speakers: list = field(default_factory=lambda: [FakeSpeaker("Headset", "hs")])
    playing: threading.Event = field(default_factory=threading.Event)
    broken: bool = False

    def all_speakers(self):
        return list(self.speakers)

    default: str | None = None  # the default output's id (None: the first)

    def default_speaker(self):
        chosen = [s for s in self.speakers if s.id == self.default] or self.speakers[:1]
        return chosen[0] if chosen else None

    def all_microphones(self, include_loopback=False):
        return []  # found through get_microphone, as on a system that names them differently

    def get_microphone(self, speaker_id, include_loopback=False):
        assert include_loopback
        if not any(s.id == speaker_id for s in self.speakers):
            raise IndexError(f"no speaker {speaker_id}")
        card = self

        level = 0.5 if speaker_id == "spk" else 0.25

        class Microphone:
            def recorder(self, samplerate, channels=None, blocksize=None):
                return BlockingRecorder(card, level)

        return Microphone()


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def headset(card: FakeCard) -> LoopbackDevice:
    [_, device] = list_loopback_devices(card)  # after the one that follows the default
    return device


def test_loopbacks_are_named_for_a_person_to_pick():
    card = FakeCard([FakeSpeaker("Headset", "hs"), FakeSpeaker("Speakers", "spk", 6)])
    names = [(d.name, d.channels, d.default) for d in list_loopback_devices(card)]
    assert names == [
        ("Loopback: default output (what you hear)", 2, True),  # follows the default
        ("Loopback: Headset (what you hear)", 2, True),  # the default output now
        ("Loopback: Speakers (what you hear)", 6, False),
    ]
    assert loopback_name("Headset") == names[1][0]
    assert list_loopback_devices(FakeCard([])) == []


def test_nothing_playing_still_gives_the_call_real_time_silence():
    card = FakeCard()
    source = LoopbackSource(Side.CLIENT, headset(card), sc=card, samplerate=RATE)
    started = time.monotonic()
    source.start(started)
    time.sleep(1.0)
    silent = source.buffer.drain()
    card.playing.set()  # the client speaks: hold music stops, the call resumes
    wait_until(lambda: source.stats().frames_captured > len(silent) + RATE // 2)
    source.stop()
    audio = np.concatenate([silent, source.buffer.drain()])
    elapsed = time.monotonic() - started
    assert np.abs(silent).max() == 0.0 and len(silent) > 0.6 * RATE
    assert abs(len(audio) / RATE - elapsed) < 0.4  # one clock: silence plus audio = time
    assert np.isclose(audio[-100:], 0.25).all()
    assert source.health.lost is None


def test_an_output_device_that_goes_away_and_comes_back_is_reported_like_an_input():
    card = FakeCard()
    card.playing.set()
    source = LoopbackSource(Side.CLIENT, headset(card), sc=card, samplerate=RATE)
    source.start()
    wait_until(lambda: source.stats().frames_captured > RATE // 4)
    card.speakers, card.broken = [], True  # the headset is unplugged
    wait_until(lambda: source.health.lost is not None)
    lost = source.health
    assert "removed" in lost.lost or "stopped" in lost.lost
    assert "Loopback: Headset" in source.error
    before = source.stats().frames_captured
    time.sleep(0.6)
    assert source.stats().frames_captured - before > 0.3 * RATE  # silence while away
    card.speakers, card.broken = [FakeSpeaker("Headset", "hs")], False  # plugged back in
    wait_until(lambda: source.health.lost is None, timeout=8)
    assert source.health.changes == lost.changes + 1
    source.stop()


def test_following_the_default_output_moves_with_it_and_says_so():
    card = FakeCard([FakeSpeaker("Headset", "hs"), FakeSpeaker("Speakers", "spk")])
    card.playing.set()
    [following, *_] = list_loopback_devices(card)
    source = LoopbackSource(Side.CLIENT, following, sc=card, samplerate=RATE)
    source.start()
    wait_until(lambda: source.stats().frames_captured > RATE // 4)
    assert np.isclose(source.buffer.drain()[-10:], 0.25).all()  # the headset
    card.default = "spk"  # the agent switches to the speakers
    wait_until(lambda: source.health.changes == 2)  # lost, then back on the new default
    assert source.health.lost is None
    source.buffer.drain()
    wait_until(lambda: source.stats().queued_seconds > 0.1)
    source.stop()
    assert np.isclose(source.buffer.drain()[-10:], 0.5).all()  # now the speakers


def test_an_output_device_that_is_not_there_fails_before_the_call():
    from audio.errors import AudioInputError

    card = FakeCard()
    device = headset(card)
    card.speakers = []
    with pytest.raises(AudioInputError, match="calmline devices"):
        LoopbackSource(Side.CLIENT, device, sc=card).start()


# -- the real thing: a PulseAudio null sink played into by paplay -------------------------------


@pytest.mark.usefixtures("virtual_devices")
def test_the_loopback_of_a_real_output_hears_what_the_softphone_plays(tmp_path):
    names = [d.name for d in list_capture_devices() if d.loopback is not None]
    assert loopback_name(SINKS[Side.CLIENT]) in names
    source = open_input(Side.CLIENT, f"Loopback: {SINKS[Side.CLIENT]}")
    source.start()
    try:
        time.sleep(0.3)
        speech = np.concatenate([speak("My VPN keeps dropping.", "en-us+f3"), silence(0.3)])
        play(Side.CLIENT, speech, tmp_path / "client.wav").wait(timeout=30)
        time.sleep(0.5)
    finally:
        source.stop()
    audio = source.buffer.drain()
    assert float(np.sqrt(np.mean(audio**2))) > 0.01
    assert source.stats().frames_dropped == 0 and source.health.lost is None


@pytest.mark.slow
@pytest.mark.usefixtures("virtual_devices")
def test_listen_transcribes_the_client_from_the_loopback_of_the_softphone_output(tmp_path):
    listen = subprocess.Popen(
        [
            sys.executable, "-m", "app.cli", "listen", "--no-save",
            "--agent-device", AGENT_DEVICE,
            "--client-device", f"Loopback: {SINKS[Side.CLIENT]}",
        ],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    opened = []
    try:
        ready = time.monotonic() + 60
        while time.monotonic() < ready:
            line = listen.stderr.readline()
            opened.append(line)
            if "listening" in line or not line:
                break
        speech = speak("I need the password reset today", "en-us+f3")
        play(Side.CLIENT, speech, tmp_path / "client.wav").wait(timeout=30)
        time.sleep(1.0)
        listen.send_signal(signal.SIGINT)
        out, err = listen.communicate(timeout=60)
    finally:
        if listen.poll() is None:
            listen.kill()
    assert listen.returncode == 0, err
    assert "client: Loopback: calmline_client_line (what you hear) at 48000 Hz\n" in opened
    assert "CLIENT" in out and "password" in normalise(out), out + err


@pytest.fixture
def softphone_output():
    """A real output device for the softphone: a PulseAudio null sink, removable."""
    name = "calmline_softphone_test"

    def load() -> str:
        return subprocess.run(
            ["pactl", "load-module", "module-null-sink", f"sink_name={name}",
             f"sink_properties=device.description={name}"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip

    modules = [load()]
    yield name, modules, load
    for module in modules:
        subprocess.run(["pactl", "unload-module", module], capture_output=True)


@pytest.mark.reliability("fault", "Softphone output device removed mid-call, then back")
@pytest.mark.usefixtures("virtual_devices")
def test_a_real_output_device_removed_and_recreated_is_lost_and_found(
    softphone_output, reliability_note
):
    name, modules, load = softphone_output
    source = open_input(Side.CLIENT, f"Loopback: {name}")
    source.start()
    try:
        wait_until(lambda: source.stats().frames_captured > 0.5 * source.samplerate)
        subprocess.run(["pactl", "unload-module", modules.pop()], check=True)
        removed = time.monotonic()
        wait_until(lambda: source.health.lost is not None)
        noticed_s = time.monotonic() - removed
        before = source.stats().frames_captured
        time.sleep(1.0)
        silence_s = (source.stats().frames_captured - before) / source.samplerate
        modules.append(load())
        back = time.monotonic()
        wait_until(lambda: source.health.lost is None, timeout=10)
        back_s = time.monotonic() - back
    finally:
        source.stop()
    assert source.health.changes == 2
    assert 0.8 < silence_s < 1.3  # the call clock went on with silence while it was away
    reliability_note(
        f"noticed in {noticed_s:.2f} s; {silence_s:.2f} s of silence per second away; "
        f"back {back_s:.2f} s after the sink returned"
    )


@pytest.mark.slow
@pytest.mark.usefixtures("virtual_devices")
def test_a_desk_without_alsa_configuration_default_mic_and_softphone_loopback(tmp_path):
    """Both sides through real devices as a desk has them: the agent's default microphone
    (a real capture source, ``calmline_mic``, not a monitor) and the loopback of the output
    the softphone plays into. No ``.asoundrc`` device is named."""
    listen = subprocess.Popen(
        [
            sys.executable, "-m", "app.cli", "listen", "--no-save",
            "--agent-device", "default",
            "--client-device", f"Loopback: {SINKS[Side.CLIENT]}",
        ],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ready = time.monotonic() + 60
        while time.monotonic() < ready:
            line = listen.stderr.readline()
            if "listening" in line or not line:
                break
        agent = np.concatenate([speak("Thank you for calling the service desk."), silence(0.5)])
        play(Side.AGENT, agent, tmp_path / "agent.wav").wait(timeout=30)
        client = speak("My computer keeps restarting every hour.", "en-us+f3")
        play(Side.CLIENT, client, tmp_path / "client.wav").wait(timeout=30)
        time.sleep(1.0)
        listen.send_signal(signal.SIGINT)
        out, err = listen.communicate(timeout=60)
    finally:
        if listen.poll() is None:
            listen.kill()
    assert listen.returncode == 0, err
    lines = out.splitlines()
    agent_text = normalise(" ".join(line for line in lines if "AGENT" in line))
    client_text = normalise(" ".join(line for line in lines if "CLIENT" in line))
    assert "service desk" in agent_text and "computer" not in agent_text, out
    assert "computer keeps" in client_text and "service" not in client_text, out


@pytest.mark.reliability("fault", "The default output switched mid-call (loopback follows it)")
@pytest.mark.usefixtures("virtual_devices")
def test_following_the_real_default_output_when_the_agent_switches_it(
    softphone_output, tmp_path, reliability_note
):
    name, _, _ = softphone_output
    before = subprocess.run(["pactl", "get-default-sink"], capture_output=True, text=True)
    subprocess.run(["pactl", "set-default-sink", name], check=True)
    try:
        source = open_input(Side.CLIENT, "Loopback: default output")
        source.start()
        try:
            wait_until(lambda: source.stats().frames_captured > 0.3 * source.samplerate)
            subprocess.run(["pactl", "set-default-sink", SINKS[Side.CLIENT]], check=True)
            switched = time.monotonic()
            wait_until(lambda: source.health.changes == 2, timeout=10)
            moved_s = time.monotonic() - switched
            source.buffer.drain()
            speech = np.concatenate([speak("Can you hear me now?", "en-us+f3"), silence(0.3)])
            play(Side.CLIENT, speech, tmp_path / "client.wav").wait(timeout=30)
            time.sleep(0.3)
        finally:
            source.stop()
    finally:
        subprocess.run(["pactl", "set-default-sink", before.stdout.strip()], check=False)
    audio = source.buffer.drain()
    assert source.health.lost is None
    assert float(np.sqrt(np.mean(audio**2))) > 0.01  # heard on the new default output
    reliability_note(f"recording from the new default {moved_s:.2f} s after the switch")
