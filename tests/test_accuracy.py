"""Real models on real speech: word error rate, offline and through the live path.

Thresholds were set from measurement on this data (see README, "Choosing the default
model"), with a margin for run-to-run variation.
"""

from __future__ import annotations

import jiwer
import pytest

from app.speech_eval import live_text, load_clips, normalise, offline_text

# model → (offline, live) WER limits; measured 0.010/0.005 (tiny.en), 0.038/0.033 (base)
LIMITS = {"tiny.en": (0.05, 0.05), "base": (0.08, 0.08)}


@pytest.fixture(scope="module")
def clips(shared_data):
    return load_clips(shared_data)


@pytest.mark.parametrize("model", ["tiny.en", "base"])
def test_word_error_rate(model, clips, request):
    engine = request.getfixturevalue("tiny_engine" if model == "tiny.en" else "base_engine")
    references = [normalise(c.reference) for c in clips]
    offline = [normalise(offline_text(engine, c.audio)) for c in clips]
    live = [normalise(live_text(engine, c.audio)) for c in clips]
    offline_wer = jiwer.wer(references, offline)
    live_wer = jiwer.wer(references, live)
    print(f"{model}: offline WER {offline_wer:.3f}, live WER {live_wer:.3f}")
    for clip, ref, off, liv in zip(clips, references, offline, live, strict=True):
        print(f"  {clip.name}: offline {jiwer.wer(ref, off):.3f} live {jiwer.wer(ref, liv):.3f}")
    offline_limit, live_limit = LIMITS[model]
    assert offline_wer <= offline_limit
    assert live_wer <= live_limit
