"""The live coach: the playbook applied to the call as it happens.

A pipeline stage after :class:`app.coaching.mood.ClientMood`. It reads committed segments
(client lines already scored), mood updates and interim text, and a call clock that the
session (or a test) advances with :meth:`Coach.tick`. It raises at most one cue at a time, by
priority, with cooldowns and expiry; raises flags for supervisor review; and writes incident notes
when abuse continues after a boundary. Qt-free and thread-free: plain calls, plain data.
"""

from __future__ import annotations

import itertools
import logging
import re
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, assert_never

from app.coaching.mood import SentimentScorer
from app.coaching.playbook import Playbook, Situation
from app.coaching.wording import Wording
from app.events import (
    CHECKLIST,
    ChecklistTick,
    Committed,
    Cue,
    CueCleared,
    Degraded,
    Discarded,
    Event,
    Flag,
    IncidentNote,
    InputLost,
    InputRestored,
    MoodUpdate,
    Partial,
    Revised,
    Segment,
    SpeechStarted,
    SummaryDraft,
    clock,
)
from audio.sides import Side

log = logging.getLogger(__name__)


@dataclass
class _Detected:
    kind: str
    segment: Segment | None
    detail: dict[str, str] = field(default_factory=dict)


EXPLANATION_MIN_WORDS = 5  # an agent line after a refusal this long is its reason…
NOT_A_REASON = ("apology", "checklist_acknowledged", "hold", "resolved_agent")  # …without these
RECENT_LINES = 4
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class Coach:
    """Turns the call's events into cues, flags and incident notes (see module docstring)."""

    component = "coaching"

    def __init__(self, playbook: Playbook, scorer: SentimentScorer | None = None) -> None:
        self.playbook = playbook
        self._scorer = scorer  # scores agent lines, for `mirroring`
        self.wording = Wording({**playbook.lexicon, "jargon": list(playbook.jargon)})
        self.active: Cue | None = None
        self.cues: list[Cue] = []
        self.flags: list[Flag] = []
        self.notes: list[IncidentNote] = []
        self.dismissed: list[tuple[float, str]] = []
        self._last_raised: dict[str, float] = {}
        self._phrase_turn = {kind: itertools.count() for kind in playbook.situations}
        self._now = 0.0
        self._mood = 0.0
        self._boundary_at: float | None = None  # agent set a boundary, or an abuse cue showed
        self._negative_run = 0  # client's negative lines in a row
        self._strong_negative_at: list[float] = []
        self._negative_since: float | None = None
        self._sustained_flagged = False
        self._worst_excerpt: tuple[str, int | None, float] = ("", None, 0.0)
        self._last_speech_at = 0.0
        self._hold_at: float | None = None
        self._silence_cued = False
        self._inputs_lost: set[Side] = set()  # a lost line's silence is not the client's
        self._agent_rates: list[float] = []
        self._flagged_manager = False
        self.checklist: dict[str, float] = {}  # item → call time it was ticked
        self._client_explained = False
        self._heard_now: set[str] = set()  # checklist items heard in the agent's current line
        self._refusal: Segment | None = None  # a "no" still waiting for its reason
        self._agent_levels: list[float] = []  # speech level of the agent's ordinary lines
        self._raised_run = 0  # the agent's loud lines in a row
        # each side's latest lines: the client line an agent line started over may not be the
        # client's last one by the time the agent's line commits
        self._recent_lines: dict[Side, deque[Segment]] = {
            side: deque(maxlen=RECENT_LINES) for side in Side
        }
        self._spoken_since_refusal = False  # anyone's voice after it: no silence cue
        # each side's recent own-voice onsets (a recording's can run ahead of its lines)
        self._voice_started: dict[Side, deque[float]] = {side: deque(maxlen=50) for side in Side}

    # -- the stage interface -------------------------------------------------------------
    def __call__(self, events: list[Event]) -> list[Event]:
        out: list[Event] = []
        moods = {e.segment_id: e for e in events if isinstance(e, MoodUpdate)}
        for event in events:
            out.append(event)
            out.extend(self._on_event(event, moods))
        return out

    def _on_event(self, event: Event, moods: dict[int, MoodUpdate]) -> list[Event]:
        out: list[Event] = []
        match event:
            case Revised():
                out.extend(self._on_revised(event.segment, event.replaces))
            case Committed():
                segment = event.segment
                self._advance(segment.end + (segment.latency_s or 0.0), out)
                self._last_speech_at = max(self._last_speech_at, segment.end)
                self._silence_cued = False
                others = list(self._recent_lines[segment.speaker.other])
                self._recent_lines[segment.speaker].append(segment)
                if segment.speaker is Side.CLIENT:
                    mood = moods.get(segment.id)
                    if mood is not None:
                        self._mood = mood.value
                    out.extend(self._on_client(segment, mood))
                    found = [d for a in others for d in self._check_interrupting(a, segment)]
                else:
                    found = [d for c in others for d in self._check_interrupting(segment, c)]
                out.extend(self._raise_best(found[-1:]))
                if segment.speaker is Side.AGENT:
                    out.extend(self._on_agent(segment))
            case Partial():
                if event.text:
                    self._last_speech_at = max(self._last_speech_at, self._now)
                    self._silence_cued = False
                    if self._refusal is not None and event.start > self._refusal.end:
                        self._spoken_since_refusal = True
            case SpeechStarted():
                self._voice_started[event.speaker].append(event.t)
                if self._refusal is not None and event.t > self._refusal.end:
                    self._spoken_since_refusal = True
            case InputLost():
                self._inputs_lost.add(event.speaker)
            case InputRestored():
                self._inputs_lost.discard(event.speaker)
                self._last_speech_at = max(self._last_speech_at, event.t)  # silence restarts
            case (
                Discarded() | Degraded() | MoodUpdate() | Cue() | CueCleared() | Flag()
                | IncidentNote() | ChecklistTick() | SummaryDraft()
            ):  # fmt: skip
                pass  # the coach's own events, or nothing it reacts to
            case _:
                assert_never(event)
        return out

    def tick(self, now: float) -> list[Any]:
        """Advance the call clock: expire cues, notice long silences, sustained negativity."""
        out: list[Any] = []
        self._advance(now, out)
        out.extend(self._check_silence())
        out.extend(self._check_sustained(None))
        out.extend(self._check_refusal_waited())
        return out

    def dismiss(self, now: float) -> list[Event]:
        """The agent dismissed the cue in front (recorded)."""
        if self.active is None:
            return []
        kind = self.active.kind
        self.dismissed.append((now, kind))
        self.active = None
        return [CueCleared(now, kind, "dismissed")]

    # -- time ------------------------------------------------------------------------------
    def _advance(self, now: float, out: list[Any]) -> None:
        self._now = max(self._now, now)
        if self.active is not None and self._now >= self.active.expires_at:
            out.append(CueCleared(self.active.expires_at, self.active.kind, "expired"))
            self.active = None

    # -- client lines ----------------------------------------------------------------------
    def _on_client(self, segment: Segment, mood: MoodUpdate | None) -> list[Any]:
        words = self.wording.words(segment.text)
        if len(words) >= 6:
            self._client_explained = True
        sentiment = segment.sentiment or {}
        scores = sentiment.get("scores", {})
        negative = float(scores.get("negative", 0.0))
        is_negative = sentiment.get("label") == "negative"
        self._negative_run = self._negative_run + 1 if is_negative else 0
        found: list[_Detected] = []
        out: list[Any] = []

        insults = self.wording.aimed_at_you(words, self.wording.find("insults", words))
        profane = self.wording.find("profanity", words)
        abusive = insults or self.wording.has("abuse_phrases", words)
        if abusive:
            window = self.playbook["abuse_continues"].setting("window_s")
            if self._boundary_at is not None and self._now - self._boundary_at <= window:
                found.append(_Detected("abuse_continues", segment))
            else:
                found.append(_Detected("abuse", segment))
        elif profane:
            found.append(_Detected("profanity", segment))
        if self.wording.has("manager_request", words):
            found.append(_Detected("manager_request", segment))

        anger = self.playbook["anger"]
        apologising = self.wording.has("apology", words)  # "sorry for grumbling" reads negative
        if not is_negative or apologising:
            self._strong_negative_at = []  # repetition means strongly negative lines in a row
        elif negative >= anger.setting("negative_min") and len(words) >= anger.setting("min_words"):
            window = anger.setting("window_s")
            recent = [t for t in self._strong_negative_at if self._now - t <= window]
            heat = len(self.wording.find("heat", words)) + segment.text.count("!")
            if heat >= anger.setting("heat_words_min") or recent:
                found.append(_Detected("anger", segment))
            self._strong_negative_at = [*recent, self._now]

        frustration = self.playbook["frustration"]
        if (
            mood is not None
            and mood.value <= frustration.setting("mood_max")
            and negative >= frustration.setting("negative_min")
            and self._negative_run >= frustration.setting("negative_lines_min")
        ):
            found.append(_Detected("frustration", segment))

        if not is_negative and self.wording.has("resolved_client", words):
            found.append(_Detected("resolution", segment))

        for detected in found:
            if detected.kind == "abuse_continues":
                out.extend(self._document_abuse(segment))
            if detected.kind == "manager_request" and not self._flagged_manager:
                self._flagged_manager = True
                out.append(self._flag("manager_request", segment))
        out.extend(self._raise_best(found))
        if any(d.kind == "abuse" for d in found):
            self._boundary_at = self._now  # the abuse cue asks the agent to set the boundary
        out.extend(self._check_sustained(segment))
        return out

    def _on_revised(self, segment: Segment, replaces: tuple[int, ...]) -> list[Any]:
        """A line decoded again over a longer stretch: the words it now has can show a
        situation its pieces did not ("you are" + "an idiot"). Only what the words say is
        looked for, and only kinds not raised on the replaced lines; the running counts
        (negative lines in a row, pace) already took the pieces."""
        raised = {c.kind for c in self.cues if c.segment_id in replaces}
        if raised & {"abuse", "abuse_continues"}:  # the same insult is not a second one
            raised |= {"abuse", "abuse_continues"}
        words = self.wording.words(segment.text)
        found: list[_Detected] = []
        out: list[Any] = []
        if segment.speaker is Side.CLIENT:
            insults = self.wording.aimed_at_you(words, self.wording.find("insults", words))
            if insults or self.wording.has("abuse_phrases", words):
                window = self.playbook["abuse_continues"].setting("window_s")
                recent = self._boundary_at is not None and self._now - self._boundary_at <= window
                found.append(_Detected("abuse_continues" if recent else "abuse", segment))
            elif self.wording.find("profanity", words):
                found.append(_Detected("profanity", segment))
            if self.wording.has("manager_request", words):
                found.append(_Detected("manager_request", segment))
                if not self._flagged_manager:
                    self._flagged_manager = True
                    out.append(self._flag("manager_request", segment))
        else:
            out.extend(self._tick_checklist(segment, words))
            if self.wording.has("blame", words):
                found.append(_Detected("blame", segment))
        found = [d for d in found if d.kind not in raised]
        if any(d.kind == "abuse_continues" for d in found):
            out.extend(self._document_abuse(segment))
        out.extend(self._raise_best(found))
        if any(d.kind == "abuse" for d in found):
            self._boundary_at = self._now
        return out

    def _document_abuse(self, segment: Segment) -> list[Any]:
        note = IncidentNote(
            self._now,
            f"[{clock(segment.start)}] Abusive language continued after a respectful boundary "
            "was set. Supervisor alerted.",
            segment.text,
            segment.id,
        )
        self.notes.append(note)
        return [note, self._flag("abusive_language", segment)]

    def _flag(self, kind: str, segment: Segment) -> Flag:
        flag = Flag(self._now, kind, segment.text, segment.id)
        self.flags.append(flag)
        return flag

    def _check_sustained(self, segment: Segment | None) -> list[Any]:
        threshold = self.playbook.flags["sustained_negative_mood"]
        if segment is not None:
            if self._mood <= threshold:
                if self._negative_since is None:
                    self._negative_since = self._now
                    self._worst_excerpt = (segment.text, segment.id, self._mood)
                elif self._mood <= self._worst_excerpt[2]:
                    self._worst_excerpt = (segment.text, segment.id, self._mood)
            else:
                self._negative_since = None
        if (
            self._negative_since is not None
            and not self._sustained_flagged
            and self._now - self._negative_since >= self.playbook.flags["sustained_negative_s"]
        ):
            self._sustained_flagged = True
            text, segment_id, _ = self._worst_excerpt
            flag = Flag(self._now, "sustained_negative", text, segment_id)
            self.flags.append(flag)
            return [flag]
        return []

    # -- agent lines -----------------------------------------------------------------------
    def _tick_checklist(self, segment: Segment, words: list[str]) -> list[Any]:
        heard = {
            item
            for item in ("acknowledged", "next_step", "kept_informed", "follow_up")
            if self.wording.has(f"checklist_{item}", words)
        }
        self._heard_now = set(heard)
        if self._client_explained:
            heard.add("listened")
        if self._hold_at is not None:
            heard.add("kept_informed")  # came back to the client after going to check
        ticks = []
        for item in CHECKLIST:
            if item in heard and item not in self.checklist:
                self.checklist[item] = self._now
                ticks.append(ChecklistTick(self._now, item, segment.id))
        return ticks

    def _on_agent(self, segment: Segment) -> list[Any]:
        words = self.wording.words(segment.text)
        found: list[_Detected] = []
        ticks = self._tick_checklist(segment, words)
        if self.wording.has("boundary", words):
            self._boundary_at = self._now
        self._hold_at = segment.end if self.wording.has("hold", words) else None
        if self.wording.has("blame", words):
            found.append(_Detected("blame", segment))
        jargon = self.wording.find("jargon", words)
        if jargon:
            term = max(jargon, key=lambda m: m.end - m.start).phrase
            found.append(
                _Detected("jargon", segment, {"term": term, "plain": self.playbook.jargon[term]})
            )
        if self._mirrors_the_client(segment, words):
            found.append(_Detected("mirroring", segment))
        found.extend(self._check_pace(segment, words))
        if self.wording.has("resolved_agent", words):
            found.append(_Detected("resolution", segment))
        found.extend(self._check_refusal(segment, words))
        found.extend(self._check_voice(segment))
        return ticks + self._raise_best(found)

    def _check_voice(self, segment: Segment) -> list[_Detected]:
        """The agent's voice well above their own level earlier in the call, over more than
        one line. Their own channel only, so a loud client does not count; the first
        seconds (a headset's gain settling) are not the baseline."""
        raised = self.playbook["raised_voice"]
        level = segment.level_db
        if level is None or segment.start < raised.setting("settle_s"):
            return []
        baseline = self._agent_levels
        if len(baseline) < raised.setting("baseline_lines_min"):
            self._agent_levels.append(level)
            return []
        if level >= statistics.median(baseline) + raised.setting("rise_db"):
            self._raised_run += 1
            if self._raised_run >= raised.setting("lines_min"):
                self._raised_run = 0
                return [_Detected("raised_voice", segment)]
            return []
        self._raised_run = 0
        self._agent_levels.append(level)  # loud lines don't raise the baseline
        return []

    def _check_interrupting(self, agent: Segment, client: Segment) -> list[_Detected]:
        """The agent started while the upset client was still speaking, and went on for
        more than a backchannel ("mm-hm", "okay")."""
        rule = self.playbook["interrupting"]
        if not client.start < agent.start < client.end:
            return []
        overlap = min(agent.end, client.end) - agent.start
        if overlap < rule.setting("overlap_min_s"):
            return []
        if agent.end - agent.start < rule.setting("agent_min_s"):
            return []
        words = self.wording.words(agent.text)
        backchannel = self.wording.find("backchannel", words)
        if backchannel and sum(m.end - m.start for m in backchannel) >= len(words):
            return []
        scores = (client.sentiment or {}).get("scores", {})
        negative = float(scores.get("negative", 0.0)) >= rule.setting("client_negative_min")
        if self._mood > rule.setting("client_mood_max") and not negative:
            return []
        return [_Detected("interrupting", agent)]

    def _check_refusal(self, segment: Segment, words: list[str]) -> list[_Detected]:
        """A refusal needs a reason or an alternative in its line or the agent's next one
        (the client may speak in between: "Why not?"); the next line settles the one waiting,
        then this line may start waiting itself."""
        explained = self.wording.has("reason_given", words)
        refusal = self._refuses(words)
        found = []
        waiting, self._refusal = self._refusal, None
        reasoned = explained or (not refusal and self._explains(segment.text))
        if waiting is not None and not reasoned:
            found.append(_Detected("no_without_reason", waiting))
        if refusal and not explained:
            self._refusal = segment
            # a recording's onsets can run ahead of its lines (offline analysis)
            self._spoken_since_refusal = any(
                t > segment.end for onsets in self._voice_started.values() for t in onsets
            )
        return found

    def _refuses(self, words: list[str]) -> bool:
        """A refusal phrase, or "I/we can't / am not able to …" followed (within two words)
        by something the agent would grant: "I cannot extend the deadline"."""
        if self.wording.has("refusal", words):
            return True
        actions = self.wording.lists["refusal_action"]
        return any(
            actions.find(words[match.end : match.end + 3])
            for match in self.wording.find("refusal_opening", words)
        )

    def _explains(self, text: str) -> bool:
        """An agent line that goes on to say more is taken as the reason ("That's not
        possible." "Licences come from your department's budget."); its sentences of
        sympathy, a hold or moving on ("I'm sorry, I know it's a stressful time.", "Let me
        look.", "Is there anything else?") and a bare "okay" are not."""
        said = 0
        for sentence in SENTENCE_END.split(text):
            words = self.wording.words(sentence)
            if not any(self.wording.has(name, words) for name in NOT_A_REASON):
                said += len(words)
        return said >= EXPLANATION_MIN_WORDS

    def _check_refusal_waited(self) -> list[Any]:
        """Nobody spoke within the grace after a bare refusal: the agent stopped there."""
        waiting = self._refusal
        if waiting is None or self._spoken_since_refusal:
            return []
        if self._now < waiting.end + self.playbook["no_without_reason"].setting("grace_s"):
            return []
        self._refusal = None
        return self._raise_best([_Detected("no_without_reason", waiting)])

    def _mirrors_the_client(self, segment: Segment, words: list[str]) -> bool:
        """The agent's tone turns negative or dismissive while the client is upset."""
        mirroring = self.playbook["mirroring"]
        if self._mood > mirroring.setting("client_mood_max"):
            return False
        # "I'm sorry…" reads negative to a sentiment model, but it is the opposite of mirroring
        if "acknowledged" in self._heard_now or self.wording.has("apology", words):
            return False
        if self.wording.has("dismissive", words):
            return True
        if self._scorer is None:
            return False
        try:
            own = self._scorer.classify([segment.text])[0]
        except Exception:
            log.exception("scoring the agent's line failed; mirroring skipped")
            return False
        return own.scores.get("negative", 0.0) >= mirroring.setting("agent_negative_min")

    def _check_pace(self, segment: Segment, words: list[str]) -> list[_Detected]:
        pace = self.playbook["agent_pace"]
        duration = segment.end - segment.start
        if len(words) < pace.setting("min_words") or duration <= 0:
            return []
        rate = len(words) / duration
        baseline = self._agent_rates[:-1] if len(self._agent_rates) > 6 else self._agent_rates
        detected = []
        if len(baseline) >= pace.setting("baseline_lines_min") and rate >= pace.setting(
            "ratio_min"
        ) * statistics.median(baseline):
            detected.append(_Detected("agent_pace", segment))
        if not detected:
            self._agent_rates.append(rate)  # fast lines don't raise the baseline
        return detected

    def _check_silence(self) -> list[Any]:
        if self._silence_cued or self._last_speech_at <= 0 or self._inputs_lost:
            return []
        silence = self.playbook["long_silence"]
        quiet = self._now - self._last_speech_at
        held = self._hold_at is not None and self._hold_at >= self._last_speech_at
        if quiet >= silence.setting("after_any_s") or (
            held and quiet >= silence.setting("after_hold_s")
        ):
            raised = self._raise_best([_Detected("long_silence", None)])
            self._silence_cued = any(isinstance(e, Cue) for e in raised)
            return raised
        return []

    # -- raising cues ----------------------------------------------------------------------
    def _raise_best(self, found: Sequence[_Detected]) -> list[Any]:
        candidates = [d for d in found if self._cooled_down(d.kind)]
        if not candidates:
            return []
        best = max(candidates, key=lambda d: self.playbook[d.kind].priority)
        situation = self.playbook[best.kind]
        out: list[Any] = []
        if self.active is not None:
            if self.active.priority > situation.priority:
                return []
            out.append(CueCleared(self._now, self.active.kind, "replaced"))
        cue = self._cue(situation, best)
        self.active = cue
        self.cues.append(cue)
        self._last_raised[best.kind] = self._now
        out.append(cue)
        return out

    def _cooled_down(self, kind: str) -> bool:
        last = self._last_raised.get(kind)
        return last is None or self._now - last >= self.playbook[kind].cooldown_s

    def _cue(self, situation: Situation, detected: _Detected) -> Cue:
        start = next(self._phrase_turn[situation.kind]) % len(situation.phrases)
        phrases = situation.phrases[start:] + situation.phrases[:start]  # a new one first
        if detected.detail:
            phrases = tuple(p.format(**detected.detail) for p in phrases)
        message = situation.cue
        if situation.kind == "jargon":
            message = f'{situation.cue}: "{detected.detail["term"]}"'
        return Cue(
            t=self._now,
            kind=situation.kind,
            message=message,
            phrases=phrases,
            segment_id=detected.segment.id if detected.segment else None,
            practice=situation.practice,
            priority=situation.priority,
            expires_at=self._now + situation.expires_s,
        )
