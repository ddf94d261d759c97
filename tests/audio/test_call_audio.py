"""Kept call audio: written per side on the call's clock through the live path, and deleted
when its retention period ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import soundfile
from support.speech import write_stereo

from app.calls.records import CallInfo
from app.pipeline.call import CallSetup
from app.store import CallStore
from app.store.calls import new_uid
from audio.recording import CallAudioWriter
from audio.sides import Side
from audio.sources import FileReplaySource, call_file_channels
from models.stt import Decoded


class SilentDecoder:
    def decode(self, audio, beam_size=5, prompt="", window_s=10.0):
        return Decoded("", -1.0, 0.9)


def test_both_sides_are_kept_through_the_live_path(tmp_path):
    rate = 8_000  # a phone line: resampled to 16 kHz on the way
    left = np.sin(np.linspace(0, 2000, rate * 2)).astype(np.float32) * 0.3
    right = np.zeros(rate * 3, dtype=np.float32)
    call = write_stereo(tmp_path / "call.wav", left, right, rate)
    sources = {
        side: FileReplaySource(side, channel, pace=20.0)
        for side, channel in call_file_channels(call).items()
    }
    writer = CallAudioWriter(tmp_path / "audio")
    session = CallSetup(SilentDecoder()).session(sources, [], pace=20.0, audio_sink=writer.write)
    session.start()
    assert session.wait(timeout=30)
    writer.close()
    for side in Side:
        kept, kept_rate = soundfile.read(writer.path(side))
        assert kept_rate == 16_000
        assert abs(len(kept) / kept_rate - 3.0) < 0.1, side  # the stereo file's length
    agent, _ = soundfile.read(writer.path(Side.AGENT))
    assert np.abs(agent[:16_000]).max() > 0.2 and np.abs(agent[-8_000:]).max() < 0.01


def test_audio_past_its_retention_is_deleted_and_the_call_kept(tmp_path):
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    now = datetime(2026, 3, 10, tzinfo=UTC)
    folders = {}
    for name, expires in (("old", now - timedelta(days=1)), ("new", now + timedelta(days=29))):
        call_id = store.start_call(CallInfo(uid=new_uid(), started_at=now - timedelta(days=5)))
        folder = tmp_path / "audio" / name
        folder.mkdir(parents=True)
        (folder / "agent.flac").write_bytes(b"fLaC")
        store.set_audio(call_id, str(folder), expires)
        folders[name] = (call_id, folder)
    old_id, old_folder = folders["old"]
    assert store.purge_expired_audio(now) == [old_id]
    assert not old_folder.exists() and folders["new"][1].exists()
    assert store.get(old_id).info.audio_dir is None
    assert store.get(folders["new"][0]).info.audio_dir == str(folders["new"][1])
    assert store.purge_expired_audio(now) == []
    store.close()
