"""The telephone lines of the accuracy evaluation (app/tooling/phone_lines.py) are what they say."""

from __future__ import annotations

import numpy as np
import pytest
from support.speech import speak

from app.tooling.phone_lines import LINES, add_noise
from audio.vad import SAMPLE_RATE, ProbabilityScale, StreamingVad


def _share_above_4k(audio: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(audio)) ** 2
    cut = len(power) * 4_100 // (SAMPLE_RATE // 2)
    return float(power[cut:].sum() / power.sum())


@pytest.fixture(scope="module")
def sentence() -> np.ndarray:
    return speak("My laptop will not connect to the office network since this morning.")


@pytest.mark.parametrize("name", [n for n in LINES if n != "clean"])
def test_each_line_is_band_limited_repeatable_and_keeps_the_timeline(name, sentence):
    line = LINES[name].make(sentence)
    assert abs(len(line) - len(sentence)) <= SAMPLE_RATE // 50  # codec framing at most
    assert _share_above_4k(line) < 1e-6 < _share_above_4k(sentence)
    assert np.array_equal(line, LINES[name].make(sentence)), "sox must not dither at random"


def test_noise_is_added_at_the_asked_ratio(sentence):
    noisy = add_noise(sentence, snr_db=12.0)
    voiced = np.abs(sentence) > 1e-4
    speech = np.sqrt(np.mean(sentence[voiced] ** 2))
    noise = np.sqrt(np.mean((noisy - sentence) ** 2))
    assert 20 * np.log10(speech / noise) == pytest.approx(12.0, abs=0.5)


def test_the_vad_thresholds_follow_how_high_the_speech_probability_goes(shared_data, sentence):
    """Silero's probability on the Azure clip through G.711 stays near 0.5, where it is near
    1 on the clean clip (and on espeak-ng's voice, whatever the line)."""
    from app.tooling.speech_eval import load_clips

    def scale(audio: np.ndarray) -> float:
        measured = ProbabilityScale()
        measured.add(StreamingVad().process(audio))
        return measured.value

    azure = next(c for c in load_clips(shared_data) if c.name == "azure").audio
    assert scale(azure) > 0.9 and scale(sentence) > 0.9
    assert scale(LINES["pstn"].make(azure)) < 0.7
    assert scale(LINES["pstn"].make(sentence)) > 0.9
