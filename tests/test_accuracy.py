"""Real models on real speech: word error rate, offline and through the live path.

Thresholds were set from measurement on this data (see README, "Choosing the default
model"), with a margin for run-to-run variation.
"""

from __future__ import annotations

import jiwer
import numpy as np
import pytest
from conftest import normalise, silence
from speech_data import load_clips

from app.live import LiveTranscriber
from app.transcript import Committed
from audio.sides import Side

# model → (offline, live) WER limits; measured 0.010/0.005 (tiny.en), 0.038/0.033 (base)
LIMITS = {"tiny.en": (0.05, 0.05), "base": (0.08, 0.08)}


def live_text(engine, audio: np.ndarray) -> str:
    live = LiveTranscriber(engine)
    padded = np.concatenate([silence(0.3), audio, silence(1.0)])
    block = 1600
    texts = []
    for i in range(0, len(padded), block):
        live.feed(Side.AGENT, padded[i : i + block])
        live.feed(Side.CLIENT, np.zeros(len(padded[i : i + block]), dtype=np.float32))
        texts.extend(e.segment.text for e in live.step() if isinstance(e, Committed))
    live.finish()
    texts.extend(e.segment.text for e in live.drain() if isinstance(e, Committed))
    return " ".join(texts)


@pytest.fixture(scope="module")
def clips(shared_data):
    return load_clips(shared_data)


@pytest.mark.parametrize("model", ["tiny.en", "base"])
def test_word_error_rate(model, clips, request):
    engine = request.getfixturevalue("tiny_engine" if model == "tiny.en" else "base_engine")
    references = [normalise(c.reference) for c in clips]
    offline = [normalise(" ".join(t.text for t in engine.transcribe(c.audio))) for c in clips]
    live = [normalise(live_text(engine, c.audio)) for c in clips]
    offline_wer = jiwer.wer(references, offline)
    live_wer = jiwer.wer(references, live)
    print(f"{model}: offline WER {offline_wer:.3f}, live WER {live_wer:.3f}")
    for clip, ref, off, liv in zip(clips, references, offline, live, strict=True):
        print(f"  {clip.name}: offline {jiwer.wer(ref, off):.3f} live {jiwer.wer(ref, liv):.3f}")
    offline_limit, live_limit = LIMITS[model]
    assert offline_wer <= offline_limit
    assert live_wer <= live_limit
