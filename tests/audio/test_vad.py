import numpy as np
from support.speech import silence, speak

from audio.vad import FRAME, Segmenter, StreamingVad, VadSettings


def feed_in_blocks(segmenter: Segmenter, audio: np.ndarray, block: int = 320):
    done = []
    for i in range(0, len(audio), block):
        done.extend(segmenter.feed(audio[i : i + block]))
    return done


def test_streaming_vad_matches_whole_file():
    from faster_whisper.vad import get_vad_model

    audio = np.concatenate(
        [silence(0.5), speak("Streaming must not change the result."), silence(1)]
    )
    whole = len(audio) // FRAME * FRAME
    reference = get_vad_model()(audio[:whole]).reshape(-1)
    vad = StreamingVad()
    sizes = [1, 100, 511, 513, 2048, 7]
    parts, i, k = [], 0, 0
    while i < whole:
        n = sizes[k % len(sizes)]
        parts.append(vad.process(audio[i : min(i + n, whole)]))
        i, k = i + n, k + 1
    streamed = np.concatenate(parts)
    assert len(streamed) == len(reference)
    assert np.allclose(streamed, reference, atol=1e-5)


def test_two_sentences_with_a_pause_are_two_utterances():
    first, second = speak("I have been waiting all day."), speak("Nothing works at all.")
    audio = np.concatenate([silence(0.5), first, silence(1.2), second, silence(1.0)])
    utterances = feed_in_blocks(Segmenter(), audio)
    assert len(utterances) == 2
    a, b = utterances
    assert abs(a.start - 0.5) < 0.3 and abs(a.end - (0.5 + len(first) / 16000)) < 0.4
    assert b.start > a.end + 0.8
    assert len(a.audio) >= (a.end_sample - a.start_sample)


def test_utterance_still_open_at_end_of_stream_is_flushed():
    segmenter = Segmenter()
    assert (
        feed_in_blocks(segmenter, np.concatenate([silence(0.3), speak("Hold on a second")])) == []
    )
    assert segmenter.in_speech
    flushed = segmenter.flush()
    assert len(flushed) == 1 and not segmenter.in_speech


def test_silence_noise_and_tone_are_not_speech():
    rng = np.random.default_rng(1)
    t = np.arange(16000 * 3) / 16000
    signals = [
        silence(3),
        (0.003 * rng.standard_normal(48000)).astype(np.float32),
        (0.05 * rng.standard_normal(48000)).astype(np.float32),
        (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32),
        (0.3 * np.sin(2 * np.pi * 425 * t)).astype(np.float32),  # dial tone
    ]
    for signal in signals:
        segmenter = Segmenter()
        assert feed_in_blocks(segmenter, signal) + segmenter.flush() == []


def test_monologue_is_cut_at_the_maximum_length():
    words = speak("and then I restarted it again " * 8)
    segmenter = Segmenter(VadSettings(max_utterance_s=4.0))
    utterances = feed_in_blocks(segmenter, np.concatenate([words, silence(1)]))
    assert len(utterances) >= 2
    assert all(u.duration <= 4.0 + 1e-6 for u in utterances)
    total = sum(u.duration for u in utterances)
    assert total > 0.8 * len(words) / 16000


def test_memory_stays_bounded_on_long_silence():
    segmenter = Segmenter()
    for _ in range(600):  # ten minutes of silence, a second at a time
        segmenter.feed(silence(1))
    assert len(segmenter._audio) < 16000
