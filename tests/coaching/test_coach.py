"""The coach's rules, one by one, including the negatives, on a clock the test controls."""

from __future__ import annotations

import itertools

import pytest

from app.coaching.coach import Coach
from app.coaching.mood import MoodTracker, utterance_score
from app.coaching.playbook import load_playbook
from app.events import (
    ChecklistTick,
    Committed,
    Cue,
    CueCleared,
    Flag,
    IncidentNote,
    MoodUpdate,
    Partial,
    Revised,
    Segment,
    Trend,
)
from audio.sides import Side


@pytest.fixture(scope="module")
def playbook():
    return load_playbook()


class Call:
    """Feeds a coach line by line, the way the pipeline would (client lines with sentiment
    and a mood update), ticking the clock in between."""

    def __init__(self, playbook, scorer=None) -> None:
        self.coach = Coach(playbook, scorer)
        self.mood = MoodTracker()
        self.ids = 0
        self.events: list = []

    def wait_until(self, t: float) -> list:
        out = []
        now = int(self.coach._now)
        for second in range(now + 1, int(t) + 1):
            out += self.coach.tick(second)
        self.events += out
        return out

    def say(self, speaker: Side, text: str, seconds: float = 3.0, negative: float = 0.1,
            positive: float = 0.1, gap: float = 1.0) -> list:  # fmt: skip
        start = self.coach._now + gap
        self.wait_until(start)
        self.ids += 1
        sentiment = None
        batch: list = []
        if speaker is Side.CLIENT:
            scores = {
                "negative": negative,
                "neutral": 1 - negative - positive,
                "positive": positive,
            }
            sentiment = {"label": max(scores, key=scores.get), "scores": scores}
        segment = Segment(self.ids, speaker, start, start + seconds, text, sentiment=sentiment)
        batch.append(Committed(segment))
        if sentiment:
            value = self.mood.add(segment.end, utterance_score(sentiment["scores"]))
            batch.append(MoodUpdate(segment.end, value, Trend.STEADY, segment.id))
        out = [e for e in self.coach(batch) if not isinstance(e, Committed | MoodUpdate)]
        self.events += out
        return out

    def client(self, text: str, **kw) -> list:
        return self.say(Side.CLIENT, text, **kw)

    def agent(self, text: str, **kw) -> list:
        return self.say(Side.AGENT, text, **kw)


def kinds(events) -> list[str]:
    return [e.kind for e in events if isinstance(e, Cue)]


def test_profanity_about_the_system_is_not_abuse(playbook):
    call = Call(playbook)
    assert kinds(call.client("Why is this damn system always broken?", negative=0.9)) == [
        "profanity"
    ]
    assert not [e for e in call.events if isinstance(e, Flag)]


@pytest.mark.parametrize(
    "line",
    ["Are you an idiot?", "You are completely useless.", "you people are a joke",
     "Shut up and listen.", "You're a f***ing moron"],
)  # fmt: skip
def test_insults_aimed_at_the_agent_are_abuse(playbook, line):
    assert kinds(Call(playbook).client(line, negative=0.95)) == ["abuse"]


@pytest.mark.parametrize(
    "line",
    ["This system is useless.", "The app is a joke, honestly.", "I feel like an idiot for "
     "clicking that", "You know, the update is useless"],
)  # fmt: skip
def test_venting_about_things_is_not_abuse(playbook, line):
    assert "abuse" not in kinds(Call(playbook).client(line, negative=0.9))


def test_masked_spellings_count(playbook):
    assert kinds(Call(playbook).client("this d*mn thing", negative=0.8)) == ["profanity"]
    assert kinds(Call(playbook).client("sh!t, it crashed again", negative=0.8)) == ["profanity"]


def test_words_inside_other_words_do_not(playbook):
    call = Call(playbook)
    assert kinds(call.client("Hello, I have a question about my class schedule")) == []
    assert kinds(call.agent("Let me pass that to the assessment team.")) == []


def test_abuse_after_a_boundary_is_documented_and_flagged(playbook):
    call = Call(playbook)
    call.client("Are you stupid?", negative=0.95)
    call.agent("I do ask that we keep this respectful so I can focus on the fix.")
    out = call.client("You are useless.", negative=0.95)
    assert kinds(out) == ["abuse_continues"]
    note = next(e for e in out if isinstance(e, IncidentNote))
    assert note.excerpt == "You are useless." and "[00:" in note.text
    flag = next(e for e in out if isinstance(e, Flag))
    assert flag.kind == "abusive_language" and flag.segment_id == 3


def test_abuse_after_a_boundary_the_agent_set_unprompted(playbook):
    call = Call(playbook)
    call.agent("Please, let's keep the conversation respectful.")
    assert kinds(call.client("Are you an idiot?", negative=0.95)) == ["abuse_continues"]


def test_manager_request_is_flagged(playbook):
    out = Call(playbook).client("I want to speak to your manager right now.", negative=0.7)
    assert kinds(out) == ["manager_request"]
    assert [f.kind for f in out if isinstance(f, Flag)] == ["manager_request"]


def test_a_single_terse_fine_is_not_anger(playbook):
    call = Call(playbook)
    assert kinds(call.client("Fine.", negative=0.92)) == []


def test_anger_needs_heat_or_repetition(playbook):
    call = Call(playbook)
    assert kinds(
        call.client("This is absolutely unacceptable, I am sick of it", negative=0.97)
    ) == ["anger"]
    calm = Call(playbook)
    assert kinds(calm.client("I am not happy with how long this took", negative=0.9)) == []
    assert kinds(calm.client("and nobody called me back about it", negative=0.9)) == ["anger"]


def test_frustration_is_sustained_negativity(playbook):
    call = Call(playbook)
    assert kinds(call.client("It still does not load for me", negative=0.8)) == []
    assert kinds(call.client("I tried that twice and it did not help", negative=0.8)) == [
        "frustration"
    ]


def test_one_cue_at_a_time_by_priority_with_cooldown_and_expiry(playbook):
    call = Call(playbook)
    call.client("This damn printer again", negative=0.8)
    # a lower-priority cue does not replace the one in front
    assert kinds(call.agent("You should have restarted it first.")) == []
    out = call.wait_until(call.coach._now + playbook["profanity"].expires_s + 1)
    assert [e.reason for e in out if isinstance(e, CueCleared)] == ["expired"]
    assert kinds(call.agent("You should have restarted it first.")) == ["blame"]
    assert kinds(call.agent("You should have saved it before.")) == []  # cooling down


def test_dismiss_is_recorded(playbook):
    call = Call(playbook)
    call.client("this crap never works", negative=0.8)
    [cleared] = call.coach.dismiss(20.0)
    assert cleared.reason == "dismissed" and call.coach.active is None
    assert call.coach.dismissed == [(20.0, "profanity")]


def test_phrases_rotate_never_twice_in_a_row(playbook):
    call = Call(playbook)
    firsts = []
    for _ in range(4):
        out = call.client("This damn thing", negative=0.8)
        firsts += [e.phrases[0] for e in out if isinstance(e, Cue)]
        call.coach.dismiss(call.coach._now)
        call.wait_until(call.coach._now + playbook["profanity"].cooldown_s)
    assert len(firsts) == 4
    assert all(a != b for a, b in itertools.pairwise(firsts))


def test_long_silence_after_let_me_check(playbook):
    call = Call(playbook)
    call.agent("Let me check your account.")
    ended = call.coach._now  # the end of the agent's line
    out = call.wait_until(ended + 30)
    cue = next(e for e in out if isinstance(e, Cue))
    assert cue.kind == "long_silence"
    assert cue.t == pytest.approx(ended + playbook["long_silence"].setting("after_hold_s"), abs=1)


def test_interim_speech_is_not_silence(playbook):
    call = Call(playbook)
    call.agent("Let me check your account.")
    for second in range(int(call.coach._now) + 1, int(call.coach._now) + 30):
        call.coach([Partial(Side.AGENT, second, "I can see that the")])
        assert kinds(call.coach.tick(second)) == []


def test_no_silence_cue_for_a_normal_pause(playbook):
    call = Call(playbook)
    call.agent("Could you read me the error message?")
    assert kinds(call.wait_until(call.coach._now + 15)) == []


def test_jargon_gets_plain_words(playbook):
    out = Call(playbook).agent("Okay, now flush your DNS cache and renew the DHCP lease.")
    cue = next(e for e in out if isinstance(e, Cue))
    assert cue.kind == "jargon" and "dns cache" in cue.message.lower()
    assert "saved list of website addresses" in cue.phrases[0]


def test_blame(playbook):
    assert kinds(Call(playbook).agent("Well, you should have read the email.")) == ["blame"]
    assert kinds(Call(playbook).agent("If you'd restarted it first, it would work.")) == ["blame"]
    assert kinds(Call(playbook).agent("You should see a green light now.")) == []


@pytest.mark.parametrize(
    "offer",
    ["If you'd like, I can book you in tomorrow.", "If you had any questions, call us.",
     "So if you'd still like the part, we'll take care of it at no cost."],
)  # fmt: skip
def test_an_offer_with_if_you_would_is_not_blame(playbook, offer):
    """A real call (Auto_Repairs_40) had "if you'd still…" read as blame."""
    assert kinds(Call(playbook).agent(offer)) == []


def test_agent_pace_against_their_own_baseline(playbook):
    call = Call(playbook)
    normal = "Okay so the next thing we will do is open the settings page"
    for _ in range(4):
        assert kinds(call.agent(normal, seconds=4.0)) == []  # 3 words/s
    assert kinds(call.agent(normal, seconds=2.4)) == ["agent_pace"]  # 5 words/s


def test_mirroring_needs_a_negative_agent_and_a_negative_client(playbook):
    class Scorer:
        def classify(self, texts):
            from models.sentiment import Sentiment

            negative = 0.9 if "not my problem" in texts[0] else 0.05
            return [Sentiment("x", {"negative": negative, "neutral": 1 - negative, "positive": 0})]

    call = Call(playbook, Scorer())
    assert kinds(call.agent("That's not my problem.")) == []  # the client is calm
    call.client("This is a disaster, nothing works", negative=0.95)
    call.client("I have been waiting for hours", negative=0.95)
    call.coach.dismiss(call.coach._now)
    assert kinds(call.agent("Look, that's not my problem.", gap=100)) == ["mirroring"]


def test_resolution(playbook):
    call = Call(playbook)
    assert kinds(call.client("Oh it works now, thank you!", positive=0.9, negative=0.02)) == [
        "resolution"
    ]


def test_sustained_negative_mood_is_flagged_once(playbook):
    call = Call(playbook)
    for _ in range(12):
        call.client("This is still not working and I am losing money", negative=0.95, gap=5)
    flags = [e for e in call.events if isinstance(e, Flag) and e.kind == "sustained_negative"]
    assert len(flags) == 1
    assert flags[0].excerpt.startswith("This is still not working")


def test_calm_call_raises_nothing(playbook):
    call = Call(playbook)
    call.agent("Good morning, service desk, this is Sam.")
    call.client("Hi, I'd like to reset my password please.", positive=0.3)
    call.agent("Sure, can you confirm your employee number?")
    call.client("Fine. It's four five six seven.", negative=0.3)
    call.agent("Thanks. I've sent a reset link to your phone.")
    call.client("Got it, thanks.", positive=0.8, negative=0.02)
    assert kinds(call.events) == []


def test_checklist_ticks_what_the_coach_can_hear(playbook):
    call = Call(playbook)
    call.client("My VPN keeps dropping and my email will not load at all today", negative=0.7)
    call.agent("I'm sorry for the wait. First we'll look at your VPN access.")
    call.agent("Let me check your account.")
    call.agent("Thanks for waiting, your password expired this morning.", gap=10)
    call.agent("I'll send you a follow up email with these steps.")
    ticks = [(e.item, e.segment_id) for e in call.events if isinstance(e, ChecklistTick)]
    assert ticks == [
        ("listened", 2), ("acknowledged", 2), ("next_step", 2), ("kept_informed", 4),
        ("follow_up", 5),
    ]  # fmt: skip


def test_an_apology_is_not_mirroring(playbook):
    class ApologyReadsNegative:
        def classify(self, texts):
            from models.sentiment import Sentiment

            return [Sentiment("negative", {"negative": 0.9, "neutral": 0.1, "positive": 0.0})]

    call = Call(playbook, ApologyReadsNegative())
    call.client("This is a disaster, nothing works", negative=0.95)
    call.coach.dismiss(call.coach._now)
    assert kinds(call.agent("I'm sorry for the wait, I can see why that's disruptive.")) == []


def test_an_apology_after_a_calm_stretch_is_not_anger(playbook):
    call = Call(playbook)
    call.client(
        "Honestly this new expense system is a pain, it keeps logging me out", negative=0.92
    )
    call.client("Thanks, that would be great.", positive=0.98, negative=0.0)
    call.client("Thank you, I appreciate it.", positive=0.99, negative=0.0, gap=20)
    assert kinds(call.client("Sorry for grumbling earlier.", negative=0.93)) == []


def test_a_lost_line_is_not_a_silence_to_fill(playbook):
    from app.events import InputLost, InputRestored

    call = Call(playbook)
    call.agent("Let me check your account.")
    ended = call.coach._now
    call.coach([InputLost(Side.CLIENT, ended + 1, "device 2: headset", "unplugged")])
    assert not [e for e in call.wait_until(ended + 60) if isinstance(e, Cue)]
    call.coach([InputRestored(Side.CLIENT, ended + 60, "device 2: headset", 59.0)])
    quiet = playbook["long_silence"].setting("after_any_s")
    assert not [e for e in call.wait_until(ended + 60 + quiet - 1) if isinstance(e, Cue)]
    cues = [e for e in call.wait_until(ended + 60 + quiet + 1) if isinstance(e, Cue)]
    assert [c.kind for c in cues] == ["long_silence"]  # counted again from the return


def test_a_revised_line_shows_what_its_pieces_did_not(playbook):
    call = Call(playbook)
    call.say(Side.CLIENT, "Honestly, are you", seconds=1.0, negative=0.5)
    call.say(Side.CLIENT, "an idiot or what?", seconds=1.0, negative=0.8, gap=0.5)
    assert not [e for e in call.events if isinstance(e, Cue) and e.kind == "abuse"]
    whole = Segment(1, Side.CLIENT, 1.0, 3.5, "Honestly, are you an idiot or what?", revised=True)
    out = call.coach([Revised(whole, replaces=(1, 2))])
    cues = [e for e in out if isinstance(e, Cue)]
    assert [c.kind for c in cues] == ["abuse"] and cues[0].segment_id == 1
    again = call.coach([Revised(whole, replaces=(1,))])  # same words again: nothing new
    assert not [e for e in again if isinstance(e, Cue)]
