"""The PulseAudio virtual devices of scripts/virtual-audio.sh: two null sinks whose
monitors are the capture inputs Calmline opens, and ``paplay`` to speak into them. (The
``virtual_devices`` fixture in tests/conftest.py checks that they are there.)"""

from __future__ import annotations

import subprocess

import numpy as np
import soundfile

from audio.sides import Side

AGENT_DEVICE, CLIENT_DEVICE = "calmline_agent", "calmline_client"  # scripts/virtual-audio.sh
SINKS = {Side.AGENT: "calmline_agent_line", Side.CLIENT: "calmline_client_line"}


def play(side: Side, audio: np.ndarray, path) -> subprocess.Popen:
    """Play ``audio`` (16 kHz) into ``side``'s sink, through a file at ``path``."""
    soundfile.write(path, audio, 16000, subtype="PCM_16")
    return subprocess.Popen(["paplay", f"--device={SINKS[side]}", str(path)])
