"""Cutting an utterance to where its own speaker is heard, on frame levels."""

import numpy as np

from app.pipeline.crosstalk import own_voice_spans

SPEAKING, BLEED, SILENT = -21.0, -49.0, -75.0


def frames(*runs: tuple[float, int]) -> np.ndarray:
    return np.concatenate([np.full(count, level, dtype=np.float32) for level, count in runs])


def test_nothing_is_cut_when_the_other_side_is_silent_or_both_talk():
    own = frames((SPEAKING, 40), (SILENT, 10), (SPEAKING, 40))
    assert own_voice_spans(own, np.full(90, SILENT), -21.0, -21.0) == [(0, 90)]
    assert own_voice_spans(own, np.full(90, -19.0), -21.0, -21.0) == [(0, 90)]  # double-talk


def test_the_other_sides_voice_before_the_own_words_is_cut_off():
    own = frames((BLEED, 100), (SPEAKING, 60))
    other = frames((-20.0, 130), (SILENT, 30))
    assert own_voice_spans(own, other, -21.0, -21.0) == [(100, 160)]


def test_the_other_side_talking_on_after_the_own_words_is_cut_off():
    own = frames((SPEAKING, 60), (BLEED, 40))
    other = frames((SILENT, 30), (-20.0, 70))
    assert own_voice_spans(own, other, -21.0, -21.0) == [(0, 60)]


def test_a_long_stretch_of_only_the_other_side_splits_the_utterance():
    own = frames((SPEAKING, 50), (BLEED, 100), (SPEAKING, 50))
    other = frames((SILENT, 50), (-20.0, 110), (SILENT, 40))
    assert own_voice_spans(own, other, -21.0, -21.0) == [(0, 50), (150, 200)]


def test_short_pauses_between_own_words_during_double_talk_are_kept():
    own = frames((SPEAKING, 30), (BLEED, 8), (SPEAKING, 30))  # a 256 ms pause
    other = np.full(68, -20.0)
    assert own_voice_spans(own, other, -21.0, -21.0) == [(0, 68)]


def test_levels_are_judged_against_how_loud_each_side_usually_speaks():
    # a quiet agent (usually -40 dBFS) over a loud client: still their own voice
    own = np.full(60, -40.0)
    other = np.full(60, -15.0)
    assert own_voice_spans(own, other, -40.0, -15.0) == [(0, 60)]
    assert own_voice_spans(own, other, -21.0, -21.0) == []  # only the client's bleed


def test_a_remainder_shorter_than_a_syllable_is_dropped():
    own = frames((BLEED, 60), (SPEAKING, 4))
    other = frames((-20.0, 60), (SILENT, 4))
    assert own_voice_spans(own, other, -21.0, -21.0) == []
