import numpy as np
import pytest

from audio.resample import StreamResampler, resample_to_16k, to_mono


def tone(rate: int, seconds: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_frequency(audio: np.ndarray, rate: int = 16_000) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.fft.rfftfreq(len(audio), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("rate", [8_000, 16_000, 22_050, 44_100, 48_000, 96_000])
def test_streaming_resample_keeps_length_and_pitch(rate):
    source = tone(rate, 2.0)
    resampler = StreamResampler(rate)
    blocks = [resampler.process(source[i : i + 441]) for i in range(0, len(source), 441)]
    out = np.concatenate([*blocks, resampler.flush()])
    assert abs(len(out) - 32_000) <= 2
    assert abs(dominant_frequency(out) - 440.0) < 2.0
    assert out.dtype == np.float32


def test_stereo_is_mixed_to_mono():
    left = np.ones(10, dtype=np.float32)
    right = np.zeros(10, dtype=np.float32)
    assert np.allclose(to_mono(np.stack([left, right], axis=1)), 0.5)


def test_whole_array_resample_matches_rate():
    assert len(resample_to_16k(tone(44_100, 1.0), 44_100)) == 16_000
