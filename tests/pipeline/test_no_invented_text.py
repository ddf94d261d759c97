"""Silence, line noise and tones must never become words — offline or live."""

from __future__ import annotations

import numpy as np
import pytest
from support.speech import write_stereo

from app.pipeline.analyze import analyze_offline, analyze_realtime
from app.pipeline.call import CallSetup
from app.tooling.phone_lines import pstn
from audio.sources import call_file_channels

RATE = 16_000
SECONDS = 8


def _signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.arange(RATE * SECONDS) / RATE
    hum = 0.02 * np.sin(2 * np.pi * 50 * t) + 0.002 * rng.standard_normal(len(t))
    beeps = 0.3 * np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    return {
        "digital silence": np.zeros(len(t)),
        "low noise": 0.003 * rng.standard_normal(len(t)),
        "louder noise": 0.05 * rng.standard_normal(len(t)),
        "mains hum": hum,
        "steady tone": 0.3 * np.sin(2 * np.pi * 1000 * t),
        "dial tone": 0.2 * (np.sin(2 * np.pi * 350 * t) + np.sin(2 * np.pi * 440 * t)),
        "hold beeps": beeps,
    }


SIGNALS = _signals()


@pytest.mark.parametrize("name", list(SIGNALS))
def test_offline_produces_no_text(name, tmp_path, tiny_engine):
    signal = SIGNALS[name].astype(np.float32)
    path = write_stereo(tmp_path / "call.wav", signal, signal[::-1].copy())
    result = analyze_offline(call_file_channels(path), CallSetup(tiny_engine))
    assert result.segments == []


@pytest.mark.parametrize("name", [n for n in SIGNALS if n != "digital silence"])
def test_over_a_phone_line_offline_produces_no_text(name, tmp_path, tiny_engine):
    """The telephone-band VAD thresholds are lower: the same signals through G.711."""
    signal = pstn(SIGNALS[name].astype(np.float32))
    path = write_stereo(tmp_path / "call.wav", signal, signal[::-1].copy())
    result = analyze_offline(call_file_channels(path), CallSetup(tiny_engine))
    assert result.segments == []


def test_live_path_produces_no_text(tmp_path, tiny_engine):
    signal = np.concatenate([SIGNALS["low noise"], SIGNALS["dial tone"], SIGNALS["hold beeps"]])
    path = write_stereo(tmp_path / "call.wav", signal.astype(np.float32), np.zeros(len(signal)))
    result = analyze_realtime(call_file_channels(path), CallSetup(tiny_engine), pace=4.0)
    assert result.segments == []
