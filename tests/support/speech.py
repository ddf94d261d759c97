"""Test speech from espeak-ng at 16 kHz, silence, and two-sided call files."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.tooling.speech_eval import normalise as normalise  # re-exported for the tests
from audio.resample import resample_to_16k


@functools.lru_cache(maxsize=64)
def _speak(text: str, voice: str, speed: int) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed (scripts/install.sh installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True
        )
        data, rate = soundfile.read(wav, dtype="float32")
    audio = resample_to_16k(data, rate)
    return (audio / max(1e-6, float(np.abs(audio).max())) * 0.7).astype(np.float32)


def speak(text: str, voice: str = "en-us+m3", speed: int = 165) -> np.ndarray:
    """Test speech at 16 kHz mono, peak -3 dBFS."""
    return _speak(text, voice, speed).copy()


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16_000), dtype=np.float32)


def write_stereo(path: Path, left: np.ndarray, right: np.ndarray, rate: int = 16_000) -> Path:
    n = max(len(left), len(right))
    stereo = np.zeros((n, 2), dtype=np.float32)
    stereo[: len(left), 0] = left
    stereo[: len(right), 1] = right
    soundfile.write(path, stereo, rate, subtype="PCM_16")
    return path
