"""Telephone lines for the accuracy evaluation: clean speech turned into what a client line
really carries, with sox (the codecs) and numpy (noise, levels, clipping).

Made at evaluation time from the reference clips; nothing here is shipped audio. Each line
is deterministic (seeded noise), so a WER measured on it can be compared run to run.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from audio import SAMPLE_RATE
from audio.resample import resample_to_16k

TELEPHONE_BAND = ("sinc", "300-3400")


class LineError(Exception):
    """A line cannot be made (sox missing or failing); the message says what to do."""


def _sox(audio: np.ndarray, suffix: str, encode: list[str]) -> np.ndarray:
    """16 kHz audio → sox with ``encode`` into a ``suffix`` file → decoded back to 16 kHz.

    ``-R``: sox dithers with a random seed by default, and tiny.en's WER on one PSTN copy of
    the clips varied from 0.076 to 0.138 with the dither alone."""
    if shutil.which("sox") is None:
        raise LineError("sox is not installed: bash scripts/install.sh installs it")
    with tempfile.TemporaryDirectory(prefix="calmline-line-") as tmp:
        clean, coded, decoded = (Path(tmp) / n for n in ("in.wav", f"line.{suffix}", "out.wav"))
        soundfile.write(clean, np.clip(audio, -1.0, 1.0), SAMPLE_RATE, subtype="FLOAT")
        steps = [
            ["sox", "-V1", "-R", str(clean), "-r", "8000", "-c", "1", *encode, str(coded),
             *TELEPHONE_BAND],
            ["sox", "-V1", "-R", str(coded), "-e", "signed", "-b", "16", str(decoded)],
        ]  # fmt: skip
        for command in steps:
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise LineError(f"{' '.join(command)} failed: {done.stderr.strip()}")
        samples, rate = soundfile.read(decoded, dtype="float32")
    return resample_to_16k(samples, rate)


def pstn(audio: np.ndarray) -> np.ndarray:
    """A landline: G.711 µ-law at 8 kHz, 300–3400 Hz."""
    return _sox(audio, "wav", ["-e", "u-law", "-t", "wav"])


def gsm(audio: np.ndarray) -> np.ndarray:
    """A 2G mobile call: GSM 06.10 full rate."""
    return _sox(audio, "gsm", ["-t", "gsm"])


def amr(audio: np.ndarray, mode: int = 7) -> np.ndarray:
    """A mobile call: AMR-NB (mode 7 = 12.2 kbps, mode 0 = 4.75 kbps)."""
    return _sox(audio, "amr-nb", ["-C", str(mode), "-t", "amr-nb"])


def _rms(audio: np.ndarray) -> float:
    voiced = audio[np.abs(audio) > 1e-4]
    return float(np.sqrt(np.mean(voiced**2))) if voiced.size else 0.0


def _pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
    noise = np.fft.irfft(spectrum, n)
    return (noise / max(1e-9, float(np.sqrt(np.mean(noise**2))))).astype(np.float32)


def add_noise(audio: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """Background noise (pink, like a street or an open office) at ``snr_db`` below the speech."""
    noise = _pink_noise(len(audio), np.random.default_rng(seed))
    return (audio + noise * _rms(audio) * 10 ** (-snr_db / 20)).astype(np.float32)


def noisy_mobile(audio: np.ndarray) -> np.ndarray:
    """A mobile caller outdoors: noise 12 dB under the speech, AMR-NB at 7.4 kbps."""
    return amr(add_noise(audio, snr_db=12.0), mode=4)


def quiet_uneven(audio: np.ndarray, seed: int = 1) -> np.ndarray:
    """A quiet caller who moves the handset: around −38 dBFS, the level wandering ±8 dB over
    a few seconds, over a landline."""
    rng = np.random.default_rng(seed)
    knots = rng.uniform(-8.0, 8.0, size=max(2, len(audio) // (2 * SAMPLE_RATE) + 2))
    envelope_db = np.interp(np.arange(len(audio)), np.linspace(0, len(audio), knots.size), knots)
    level = 10 ** ((-38.0 - 20 * np.log10(max(_rms(audio), 1e-6))) / 20)
    return pstn((audio * level * 10 ** (envelope_db / 20)).astype(np.float32))


def clipped(audio: np.ndarray) -> np.ndarray:
    """A caller too close to the microphone: 14 dB of overdrive hard-clipped, over a landline."""
    peak = max(float(np.abs(audio).max()), 1e-6)
    return pstn(np.clip(audio / peak * 10 ** (14 / 20), -1.0, 1.0) * 0.9)


@dataclass(frozen=True)
class Line:
    name: str
    description: str
    make: Callable[[np.ndarray], np.ndarray]


LINES: dict[str, Line] = {
    line.name: line
    for line in (
        Line("clean", "the reference clip as recorded", lambda audio: audio),
        Line("pstn", "landline: G.711 µ-law, 8 kHz, 300–3400 Hz", pstn),
        Line("gsm", "2G mobile: GSM 06.10 full rate", gsm),
        Line("amr", "mobile: AMR-NB 12.2 kbps", amr),
        Line("noisy-mobile", "mobile outdoors: pink noise at 12 dB SNR, AMR-NB 7.4 kbps",
             noisy_mobile),
        Line("quiet", "quiet, uneven caller (−38 dBFS ± 8 dB) on a landline", quiet_uneven),
        Line("clipped", "overdriven microphone (14 dB hard-clipped) on a landline", clipped),
    )
}  # fmt: skip
