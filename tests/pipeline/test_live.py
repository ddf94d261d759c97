"""The streaming transcriber's scheduling, driven with arrays and a fake decoder."""

from dataclasses import dataclass, field

import numpy as np
import pytest
from support.speech import silence, speak

from app.events import Committed, Degraded, Discarded, Partial, Revised, SpeechStarted
from app.pipeline.live import LiveSettings, LiveTranscriber
from audio.sides import Side
from models.stt import Decoded


@dataclass
class FakeDecoder:
    text: str = "hello there"
    calls: list = field(default_factory=list)
    prompts: list = field(default_factory=list)
    windows: list = field(default_factory=list)

    def decode(self, audio, beam_size=5, prompt="", window_s=10.0):
        self.calls.append((len(audio) / 16000, beam_size))
        self.prompts.append(prompt)
        self.windows.append(window_s)
        return Decoded(self.text, avg_logprob=-0.2, no_speech_prob=0.01)


class WordsPerSecondDecoder(FakeDecoder):
    """Two words per second of audio: a longer stretch reads as more complete."""

    def decode(self, audio, beam_size=5, prompt="", window_s=10.0):
        super().decode(audio, beam_size, prompt, window_s)
        words = max(1, round(2 * len(audio) / 16000))
        text = " ".join(f"{'abcdefghij'[i % 10]}{i // 10}" for i in range(words))  # no repeats
        return Decoded(text, avg_logprob=-0.2, no_speech_prob=0.01)


def run(live: LiveTranscriber, agent: np.ndarray, client: np.ndarray, block=1600, step=True):
    events = []
    n = max(len(agent), len(client))
    agent = np.pad(agent, (0, n - len(agent)))
    client = np.pad(client, (0, n - len(client)))
    for i in range(0, n, block):
        live.feed(Side.AGENT, agent[i : i + block])
        live.feed(Side.CLIENT, client[i : i + block])
        if step:
            events.extend(live.step())
    live.finish()
    events.extend(live.drain())
    return events


def committed(events):
    return [e.segment for e in events if isinstance(e, Committed)]


def test_each_side_commits_its_own_utterance():
    decoder = FakeDecoder()
    live = LiveTranscriber(decoder)
    agent = np.concatenate([silence(0.5), speak("How can I help you today?"), silence(4)])
    client = np.concatenate(
        [silence(3.5), speak("My laptop will not start.", "en-us+f3"), silence(1)]
    )
    segments = committed(run(live, agent, client))
    assert [s.speaker for s in segments] == [Side.AGENT, Side.CLIENT]
    assert segments[0].start < 1.0 < 3.4 < segments[1].start  # onset: one frame early at most
    assert [s.id for s in segments] == [1, 2]
    assert sorted(beam for _, beam in decoder.calls)[-2:] == [5, 5]


def test_interim_text_while_speaking_then_cleared_by_commit():
    decoder = FakeDecoder()
    live = LiveTranscriber(decoder)
    long_turn = speak("I have been waiting since nine this morning and nobody has called me back")
    events = run(live, np.concatenate([silence(0.3), long_turn, silence(1)]), silence(0.1))
    partials = [e for e in events if isinstance(e, Partial)]
    assert any(p.text for p in partials), "interim hypotheses while the agent speaks"
    last_partial = max(i for i, e in enumerate(events) if isinstance(e, Partial))
    first_commit = min(i for i, e in enumerate(events) if isinstance(e, Committed))
    assert events[last_partial].text == "" and last_partial < first_commit
    assert {beam for _, beam in decoder.calls} == {1, 5}


def test_commits_win_over_interims_when_behind():
    decoder = FakeDecoder()
    live = LiveTranscriber(decoder)
    # Feed a whole call without stepping: everything piles up as backlog.
    agent = np.concatenate([speak("First thing."), silence(1), speak("Second thing."), silence(1)])
    client = np.concatenate([silence(0.2), speak("A long complaint " * 6, "en-us+f3")])
    for i in range(0, len(agent), 1600):
        live.feed(Side.AGENT, agent[i : i + 1600])
    for i in range(0, len(client), 1600):
        live.feed(Side.CLIENT, client[i : i + 1600])
    waiting = live.pending_commits  # the agent's two lines, the complaint's first 6 s
    assert waiting >= 2 and live.backlog_seconds > 1.0
    commits = [live.step()[-1] for _ in range(waiting)]
    assert all(isinstance(c, Committed) for c in commits)
    ends = [c.segment.end for c in commits]
    assert ends == sorted(ends)  # oldest first, either side
    assert live.backlog_seconds == 0
    assert decoder.calls and all(beam == 5 for _, beam in decoder.calls)


def test_crosstalk_is_kept_on_the_louder_side():
    decoder = FakeDecoder()
    live = LiveTranscriber(decoder)
    words = speak("Thank you for calling, this is Michelle, how can I help?")
    agent = np.concatenate([silence(0.5), words, silence(1)])
    client = agent * 10 ** (-30 / 20)  # the agent's voice leaking into the client line
    events = run(live, agent, client.astype(np.float32))
    segments = committed(events)
    assert [s.speaker for s in segments] == [Side.AGENT]
    assert any(isinstance(e, Discarded) and e.reason == "crosstalk" for e in events)


def test_double_talk_is_kept_on_both_sides():
    live = LiveTranscriber(FakeDecoder())
    agent = np.concatenate([silence(0.5), speak("Let me check that for you"), silence(1)])
    client = np.concatenate([silence(0.7), speak("No wait, listen to me", "en-us+f3"), silence(1)])
    speakers = {s.speaker for s in committed(run(live, agent, client))}
    assert speakers == {Side.AGENT, Side.CLIENT}


def test_invented_text_is_not_committed():
    live = LiveTranscriber(FakeDecoder(text="Thank you."))
    live._decoder.decode = lambda audio, beam_size=5, **_: Decoded("Thank you.", -1.2, 0.7)
    events = run(live, np.concatenate([speak("mm hmm"), silence(1)]), silence(0.1))
    assert committed(events) == []


def test_interims_back_off_when_decoding_is_slow():
    clock = iter(np.arange(0, 10_000, 0.9))  # every decode appears to take 0.9 s
    live = LiveTranscriber(FakeDecoder(), LiveSettings(), timer=lambda: next(clock))
    long_turn = speak("and then the screen went black and the fan started to make a noise " * 2)
    events = run(live, np.concatenate([long_turn, silence(1)]), silence(0.1))
    interims = [e for e in events if isinstance(e, Partial) and e.text]
    assert len(interims) <= len(long_turn) / 16000 / 2.7 + 1


def test_every_decode_gets_the_team_vocabulary_and_not_the_last_line():
    decoder = FakeDecoder()
    settings = LiveSettings(min_interim_audio_s=60, vocabulary=("Okta", " GlobalProtect "))
    first = speak("I need the data set.")
    agent = np.concatenate([silence(0.5), first, silence(3), first, silence(5)])
    run(LiveTranscriber(decoder, settings), agent, silence(0.1))
    assert decoder.prompts == ["Okta, GlobalProtect"] * 2


def _pause_and_go_on(pause_s: float, client_in_pause: bool = False):
    part = speak("I tried to log in this morning")
    agent = np.concatenate([silence(0.5), part, silence(pause_s), part, silence(3)])
    client = silence(len(agent) / 16000)
    if client_in_pause:
        at = int((0.5 + len(part) / 16000 + 0.1) * 16000)
        reply = speak("yes", "en-us+f3")
        client[at : at + len(reply)] = reply
    decoder = WordsPerSecondDecoder()
    live = LiveTranscriber(decoder, LiveSettings(min_interim_audio_s=60))
    return run(live, agent, client), decoder


def test_a_speaker_who_goes_on_after_a_short_pause_gets_the_stretch_decoded_again():
    events, decoder = _pause_and_go_on(0.8)
    first, second = (e.segment for e in events if type(e) is Committed)
    revised = [e for e in events if isinstance(e, Revised)]
    assert len(revised) == 1
    line = revised[0].segment
    assert revised[0].replaces == (first.id, second.id)
    assert (line.id, line.start, line.end, line.revised) == (
        first.id,
        first.start,
        second.end,
        True,
    )
    assert len(line.text.split()) > len(first.text.split()) + len(second.text.split()) - 1
    assert decoder.windows[-1] == 10.0
    assert events.index(revised[0]) > events.index(
        next(e for e in events if isinstance(e, Committed) if e.segment is second)
    )


def test_no_revision_across_a_long_pause_or_the_other_side_taking_the_turn():
    events, _ = _pause_and_go_on(2.5)
    assert not [e for e in events if isinstance(e, Revised)]
    events, _ = _pause_and_go_on(1.2, client_in_pause=True)
    assert not [e for e in events if isinstance(e, Revised)]


def test_a_revision_with_fewer_words_than_the_lines_is_not_taken():
    live = LiveTranscriber(FakeDecoder(), LiveSettings(min_interim_audio_s=60))
    part = speak("I tried to log in this morning")
    events = run(live, np.concatenate([part, silence(0.8), part, silence(3)]), silence(0.1))
    assert not [e for e in events if isinstance(e, Revised)]
    assert live.stats.revisions_kept == 1


class FailingDecoder(FakeDecoder):
    """Raises on the decodes listed in ``fail_on`` (1-based), like a model that breaks."""

    def __init__(self, fail_on: set[int]):
        super().__init__()
        self.fail_on = fail_on

    def decode(self, audio, beam_size=5, prompt="", window_s=10.0):
        if len(self.calls) + 1 in self.fail_on:
            self.calls.append((len(audio) / 16000, beam_size))
            raise RuntimeError("CTranslate2: out of memory")
        return super().decode(audio, beam_size, prompt, window_s)


@pytest.mark.reliability("fault", "Speech-to-text raises once mid-call")
def test_a_decoder_that_fails_once_is_retried_and_the_call_goes_on():
    live = LiveTranscriber(FailingDecoder(fail_on={1}), LiveSettings(interim_every_s=100))
    events = run(live, speak("Good morning, help desk."), silence(3.0))
    assert [e.segment.text for e in events if isinstance(e, Committed)] == ["hello there"]
    assert not [e for e in events if isinstance(e, Degraded)]
    assert live.stats.failures == 1


@pytest.mark.reliability("fault", "Speech-to-text keeps raising mid-call")
def test_a_decoder_that_keeps_failing_skips_that_utterance_and_says_so():
    decoder = FailingDecoder(fail_on={1, 2})
    live = LiveTranscriber(decoder, LiveSettings(interim_every_s=100))
    agent = np.concatenate([speak("Good morning."), silence(1.0), speak("How can I help?")])
    events = run(live, agent, silence(len(agent) / 16000))
    degraded = [e for e in events if isinstance(e, Degraded)]
    assert len(degraded) == 1 and degraded[0].component == "speech-to-text"
    assert "out of memory" in degraded[0].message
    assert [e.segment.text for e in events if isinstance(e, Committed)] == ["hello there"]


@pytest.mark.reliability("fault", "The client-mood model raises mid-call")
def test_a_failing_stage_is_reported_and_the_others_still_run():
    from app.events import EventStage
    from app.pipeline.stages import StageRunner

    class BrokenMood(EventStage):
        component = "client mood"

        def __call__(self, events):
            raise ValueError("onnxruntime: invalid input")

    class Tag(EventStage):
        def __call__(self, events):
            return [*events, "coached"]

    events = StageRunner([BrokenMood(), Tag()]).process(["line"])
    assert events[0] == "line" and events[-1] == "coached"
    assert events[1] == Degraded(
        "client mood",
        "client mood failed (onnxruntime: invalid input); it is missing for this part of the call",
    )


def test_a_recording_decodes_each_stretch_once_when_it_ends():
    part = speak("I tried to log in this morning")
    agent = np.concatenate([silence(0.5), part, silence(0.8), part, silence(3), part, silence(3)])
    decoder = WordsPerSecondDecoder()
    settings = LiveSettings(hold_stretches=True, min_interim_audio_s=60)
    events = run(LiveTranscriber(decoder, settings), agent, silence(0.1), block=16000)
    lines = committed(events)
    assert not [e for e in events if isinstance(e, Revised)]
    assert len(lines) == 2 and len(decoder.calls) == 2  # the first two pieces as one line
    assert lines[0].start < 0.6 and lines[0].end > 0.5 + 2 * len(part) / 16000


def test_each_utterance_tells_once_when_its_own_voice_starts_and_bleed_does_not():
    live = LiveTranscriber(FakeDecoder())
    words = speak("Let me check that for you")
    agent = np.concatenate([silence(0.5), words, silence(1.0), words, silence(1.0)])
    client = agent * 10 ** (-30 / 20)  # the agent's voice leaking into the client line
    events = run(live, agent, client.astype(np.float32))
    started = [e for e in events if isinstance(e, SpeechStarted)]
    assert [e.speaker for e in started] == [Side.AGENT, Side.AGENT]
    second = 0.5 + len(words) / 16000 + 1.0
    assert started[0].t == pytest.approx(0.5, abs=0.15)
    assert started[1].t == pytest.approx(second, abs=0.15)
