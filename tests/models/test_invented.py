"""Text Whisper made up rather than heard is recognised from its own evidence."""

import pytest

from models.stt import is_invented


@pytest.mark.parametrize(
    ("text", "logprob", "no_speech", "seconds"),
    [
        ("", -0.2, 0.01, 2.0),
        ("Thanks for watching!", -0.8, 0.3, 2.0),  # a stock subtitle phrase, weak evidence
        ("I'm gonna kill him.", -1.55, 0.20, 0.8),  # an "mm-hm" of 0.8 s, guessed at
        ("the the the the the the the the the the the the", -0.3, 0.01, 3.0),
    ],
)
def test_made_up_text(text, logprob, no_speech, seconds):
    assert is_invented(text, logprob, no_speech, seconds)


@pytest.mark.parametrize(
    ("text", "logprob", "no_speech", "seconds"),
    [
        ("Okay.", -1.08, 0.21, 0.65),  # a short reply heard over the other side
        ("Better!", -1.67, 0.26, 0.42),  # short and unsure, but one word fits the sound
        ("Okay, thank you.", -1.4, 0.2, 0.8),
        ("Yes, the S drive.", -0.4, 0.02, 1.2),
        ("My laptop will not connect to the office network.", -1.5, 0.1, 3.0),  # long, unsure
    ],
)
def test_heard_text(text, logprob, no_speech, seconds):
    assert not is_invented(text, logprob, no_speech, seconds)
