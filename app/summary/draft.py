"""Drafting the ticket note from the call's (already redacted) transcript, on the agent's PC.

No instruction-tuned language model runs here (none ships without a model hub), so the note
is extractive: every item is a condensed sentence that was said, linked to its line. Each
sentence is read once — who said it, where in the call, and the words that mark a problem,
a cause, an action, a result or a promise — and the note is assembled from those readings:

* **reason** — the client's problem statements from the opening of the call (their words,
  without greetings, venting and deadline context);
* **cause** — the agent's statements of what was found ("your password expired…");
* **steps** — what the agent did or told the client to do;
* **outcome** — the last decisive line: the client confirming it works (resolved), it still
  failing (unresolved), or the agent passing it to another team (escalated);
* **follow-up** — the agent's promises of a later e-mail, call or check-in, and when.

:class:`SummaryDrafter` keeps each line's reading, so drafting again after every new line
(the live note) only reads the new line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.events import Outcome, Segment, Summary, SummaryItem
from audio.sides import Side

MAX_ITEMS = {"reason": 3, "cause": 3, "steps": 8, "follow_up": 3}
OPENING_CLIENT_TURNS = 3  # the client's problem is told in their first turns
MIN_WORDS = 3
MAX_REASON_SENTENCES = 2  # of one client turn
SHORT_LINE_WORDS = 4  # an outcome line this short is shown with the sentence before it


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_FILLER = _words(
    r"^(?:(?:yes|yeah|yep|no|nope|okay|ok|oh|ah|um+|uh+|erm|hmm+|well|so|right|hi|hello|hey|"
    r"great|perfect|excellent|lovely|brilliant|good|alright|all right|sure|thanks|thank you|"
    r"finally|look|listen|honestly|basically|now|then|first|next|and|also|actually|anyway|"
    r"just|please|cool|got it|i see|understood|wonderful|fine|"
    r"i'm calling (?:because|about|since)|i'm ringing (?:because|about)|"
    r"the thing is|the problem is that|the problem is|the issue is that|the issue is)"
    r"\b[,.!:;]?\s*)+"
)
_CLAUSE_SPLIT = re.compile(r",\s+(?:and\s+|but\s+)?|;\s+|\s+but\s+")

# -- what marks each kind of sentence -------------------------------------------------------
_FAILING_VERBS = (
    r"work|load|open|print|connect|sign|log|start|turn|send|receive|hear|see|get|access|find|"
    r"sync|charge|boot|show|play|save|install|update|join|reach|scan|type|display|come|go|let"
)
_PROBLEM = _words(
    r"\b(?:keeps? \w+ing|kept \w+ing|"
    rf"(?:won't|wont|can't|cannot|couldn't|doesn't|don't|didn't|isn't|aren't|wasn't|will not|"
    rf"does not|is not|not) (?:\w+ )?(?:{_FAILING_VERBS})\w*|"
    r"(?:haven't|hasn't|have not|has not) (?:\w+ )?(?:had|got|received|seen|been able)|"
    r"sitting in|stuck in|"
    r"stopped|broken|broke|errors?|fails?|failed|failing|crash\w*|freez\w*|frozen|stuck|slow|"
    r"sluggish|locked|missing|disappeared|dropp\w*|disconnect\w*|offline|down|unavailable|"
    r"problems?|issues?|trouble|unable|blank|black screen|blue screen|no (?:signal|sound|"
    r"internet|connection|picture|power|audio)|nothing happens|keeps asking|expired|denied|"
    r"jammed|flicker\w*|dead|bounc\w*|comes? (?:straight )?back|full|none of|warning|"
    r"(?:it|that|the screen|the message) (?:just )?says|"
    r"need(?:s)? (?:access|a new|to (?:install|get|reset|set up))|reset my)\b"
)
_REQUEST = _words(
    r"\b(?:i need|i'd like|i want|can you|could you|i was wondering|how do i|is it possible|"
    r"i'm trying to|i am trying to|i've been trying to|i keep trying to)\b"
)
_VENTING = _words(
    r"\b(?:always|ever|never|nothing (?:ever )?works|ridiculous|stupid|useless|joke|idiot|"
    r"sick of|fed up|waiting all|been waiting|on hold|every time|this place|you people|"
    r"unacceptable|incompetent|damn|hell|bloody|pathetic|seriously|unbelievable)\b"
)
_CONTEXT = _words(
    r"\b(?:deadline|(?:have|got) a meeting|meeting (?:in|at|soon)|my boss|report (?:is )?due|"
    r"presentation (?:in|at|today|tomorrow|on)|in an hour|by noon|at noon|by (?:five|four|three|"
    r"the end)|client call|waiting|on hold|long day|sorry|not urgent)\b"
)
_GREETING_NAME = _words(
    r"^(?:hi|hello|hey|(?:good )?(?:morning|afternoon|evening))(?: there)?(?: [a-z]+)?,\s+"
)
_GREETING = _words(r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|morning|afternoon)\b")
_NOT_A_LEAD = _words(r"^(?:let me|hang on|one moment|hold on|okay|ok|right|so|yes|yeah|no)\b")
_CAUSE = _words(
    r"\b(?:because|that's why|this is why|which is why|caused|the (?:problem|issue|cause|"
    r"reason|fault) (?:is|was)|it turns out|turns out|i can see (?:that|your|the) \w+ \w+|"
    r"it looks like|looks like|it seems|seems|expired|out of date|outdated|old version|"
    r"locked|is full|was full|ran out|corrupt\w*|misconfigured|wrong|not synced|disabled|"
    r"no licen[cs]e|wasn't (?:added|set|assigned|given)|isn't (?:added|set|assigned)|"
    r"was removed|got removed|loose|unplugged|switched off|turned off|blocked|quarantined|"
    r"paused|stuck in|filled up|the culprit|that's the problem|there's the problem)\b"
)
_ANNOUNCES_CAUSE = _words(
    r"^(?:that's|that is|this is|there's|here's) (?:why|the (?:problem|issue|cause|reason|"
    r"culprit))\b[^,]{0,20}[.!]?$|^i (?:can )?see (?:the|what the) (?:problem|issue)\b[^,]{0,20}"
    r"[.!]?$|^(?:found it|got it|there we go)[.!]?$|^that (?:explains|would do) it[.!]?$"
)
_DIAGNOSIS = _words(
    r"^(?:your|the|a|an|it's|it is|there's|there is|you're still|you are still|this is|that's|"
    r"one of|someone|somebody|it was|they|it has|it's been)\b[^?]*\b(?:still|old|expired|"
    r"full|limit|wrong|off|offline|disabled|missing|out of date|outdated|saved|switched|"
    r"set to|failed|down|broken|locked|blocked|only|isn't|wasn't|didn't|doesn't|hasn't|"
    r"aren't|not)\b"
)
_NO_CAUSE = _words(
    r"\b(?:don't see|can't see|cannot see|nothing wrong|no problem with|not sure (?:what|why)|"
    r"don't know (?:what|why)|no idea|looks? (?:fine|normal|okay|good)|don't point|"
    r"not yet|can't promise)\b"
)
_ACTION_VERBS = (
    r"open|close|click|double-click|right-click|go|type|enter|restart|reboot|reset|sign|log|"
    r"choose|select|press|hold|unplug|plug|turn|switch|install|uninstall|reinstall|run|update|"
    r"check|clear|delete|remove|disconnect|reconnect|connect|forget|rejoin|join|tap|scan|"
    r"approve|accept|allow|enable|disable|drag|save|wait|try|put|move|pull|push|download|copy|"
    r"paste|empty|change|pick|find|look for|make sure|leave|set|add|start|quit|exit|shut|"
    r"power|reseat|swap|hit|use|follow|scroll|search|lock|unlock|approve|confirm|re-enter|"
    r"pair|unpair|mute|unmute|plug|reinsert|insert|eject|print|send|attach|refresh|reload"
)
_IMPERATIVE = _words(
    r"^(?:(?:can|could|would) you (?:please )?|please |go ahead and |i need you to |"
    r"i'd like you to |i want you to |you'll need to |you need to |you can |you should |"
    r"try to |let's |we'll |we will |we're going to |we are going to |just )?"
    rf"(?:{_ACTION_VERBS})\b"
)
_AGENT_ACTION = _words(
    r"\b(?:i(?:'ll| will|'m going to| am going to|'ve| have|'m| am| just)|we(?:'ll| will|'ve|"
    r" have)|let me|i've gone ahead and|i went ahead and)\s+(?:just |now |also |quickly |"
    r"gone ahead and |go ahead and |going to |went ahead and )?"
    r"(?:reset\w*|unlock\w*|send\w*|sent|push\w*|install\w*|restart\w*|reboot\w*|clear\w*|"
    r"renew\w*|creat\w*|add\w*|grant\w*|gave|giv\w*|remov\w*|updat\w*|fix\w*|re-?enabl\w*|"
    r"enabl\w*|assign\w*|map\w*|reconnect\w*|rebuil\w*|replac\w*|order\w*|ship\w*|book\w*|"
    r"schedul\w*|chang\w*|extend\w*|increas\w*|restor\w*|remote\w*|connect\w*|sync\w*|"
    r"refresh\w*|issu\w*|re-?regist\w*|register\w*|disabl\w*|turn\w*|switch\w*|set\w*|"
    r"mov\w*|delet\w*|releas\w*|approv\w*|whitelist\w*|allow\w*|unblock\w*|reinstat\w*|"
    r"repair\w*|roll\w*|downgrad\w*|upgrad\w*|deploy\w*|activat\w*|licens\w*|"
    r"reactivat\w*|clean\w*|empt\w*|purg\w*|archiv\w*|free\w*|kill\w*|end\w*|stop\w*)\b"
)
_INVESTIGATING = _words(
    r"^(?:let me (?:check|look|see|have a look|take a look|pull up|find|just check)|"
    r"i'll (?:check|look|have a look|take a look)|i'm (?:checking|looking))\b"
)
_RESOLVED = _words(
    r"\b(?:it works|it's working|it is working|working (?:now|again|fine|perfectly)|"
    r"works (?:now|again|fine|perfectly)|that (?:did it|did the trick|worked|fixed it|"
    r"sorted it|'s done it|has done it)|that's (?:fixed|sorted|done) it|it's fixed|"
    r"(?:it )?says connected|connected now|"
    r"i'm (?:in|back in|logged in|signed in)(?: now)?(?=[.!,]|$)|"
    r"i can (?:print|log in|sign in|get in|hear|send|connect|access|open|see|get to|use|"
    r"type|join)\b[^.?!]*\b(?:again|now)\b|(?:messages|emails?|e-mails?) (?:are )?"
    r"coming (?:in|through)|back to normal|all good now|problem solved|it's back|it printed|"
    r"it's printing|(?:it )?loads? (?:now|fine)|it's (?:loading|syncing|connecting) (?:now|fine)|"
    r"(?:it )?(?:started|booted|turned on|came on|came up) (?:fine|now|normally)?|"
    r"you're all set|glad (?:it's|that's|to hear)|that's (?:resolved|fixed|sorted)|"
    r"(?:both|all|everything|they|it|screens?|monitors?) (?:is |are |'s )?working"
    r"(?: now| again)?\b|it went(?: through)?[.!]|(?:has|have) gone (?:through|to)|"
    r"went through|didn't come back|up and running|that's better|(?:it|that) helped)\b"
)
_UNRESOLVED = _words(
    r"\b(?:still (?:not|isn't|doesn't|won't|can't|the same|getting|says|shows|broken|failing|"
    r"nothing|no|dropping|slow|stuck|offline|blank|black)|same (?:error|problem|thing|message|"
    r"issue)|no luck|didn't (?:work|help|fix|change)|hasn't (?:fixed|helped|worked|changed)|"
    r"not (?:fixed|resolved|working) yet|couldn't (?:fix|resolve|find)|can't fix|"
    r"haven't (?:been able|fixed|found)|not able to fix|keep (?:looking|investigating|digging)|"
    r"look into (?:it|this) (?:further|more)|try again (?:tomorrow|later)|"
    r"(?:wait|waiting) (?:for|on) (?:the|a|your) (?:part|replacement|update|delivery|new)|"
    r"on order|not solved|nothing changed|no change|it's not fixed|doesn't work|"
    r"try again (?:after|in|this|once|when)|nothing more (?:we|i) can do|not (?:sorted|fixed) "
    r"today|still (?:down|there|happening|does it|failing)|can't find the (?:cause|problem)|"
    r"(?:dropped|failed|crashed|froze|happened|stopped) again|until (?:then|it arrives)|"
    r"(?:will|should) arrive|i'm afraid so)\b"
)
_ESCALATED = _words(
    r"\b(?:escalat\w*|second[- ]line|second level|level two|tier two|third[- ]line|"
    r"(?:pass|passing|passed|hand|handing|handed|send|sending|forward\w*|transfer\w*|"
    r"refer\w*|assign\w*|rais\w*|log\w*|put|putting|open\w*)\b[^.?!]{0,40}?\b(?:to|with|for) "
    r"(?:our|the|a|an|your)\b[^.?!]{0,30}?\b(?:team|line|engineer|technician|specialist|"
    r"vendor|supplier|manufacturer|department|colleagues?|experts?|admins?|administrators?)|"
    r"(?:network|server|security|infrastructure|desktop|field|hardware|application|apps|"
    r"identity|vendor|on-site|onsite|telecom|facilities|database|exchange|e-mail|email) team "
    r"(?:will|is going to|are going to|can|needs to|has to|to)|on-site technician|"
    r"(?:technician|engineer) (?:will|is going to|to come)|open(?:ed|ing)? a case with|"
    r"(?:pass|passing|passed|hand|handing|handed|escalat\w*|forward\w*|transfer\w*)\b"
    r"[^.?!]{0,40}?\bteam)\b"
)
_CONDITIONAL = _words(r"^(?:if|in case|should|unless)\b|\b(?:if it|if this|if that|if you still)\b")
_FOLLOW_UP = _words(
    r"\b(?:i(?:'ll| will|'m going to| am going to)|we(?:'ll| will|'re going to)|"
    r"someone (?:will|from)|they(?:'ll| will)|you'll (?:get|receive|"
    r"hear)|you will (?:get|receive|hear))\b[^.?!]*\b(?:e-?mails?|call you|ring you|phone you|"
    r"call back|give you a (?:call|ring)|check (?:in|back|on you|with you)|follow(?:[- ]up)?|"
    r"get back to you|let you know|update (?:you|the ticket|your ticket)|text you|"
    r"message you|send you (?:a|an|the) (?:message|note|summary|link|e-?mail)|touch base|"
    r"hear (?:from|back)|contact you|reach out)\b"
)
_NOT_FOLLOW_UP = _words(r"\b(?:if you need|feel free|any other|anything else)\b")
_QUESTION = re.compile(r"\?\s*$")


@dataclass(frozen=True)
class Reading:
    """One sentence of the call and what it says."""

    segment_id: int
    turn: int  # one speaker's lines until the other speaks (a pause splits lines, not turns)
    speaker: Side
    t: float
    text: str  # as said
    condensed: str
    problem: bool = False
    request: bool = False
    venting: bool = False
    cause: bool = False
    step: bool = False
    investigating: bool = False
    resolved: bool = False
    unresolved: bool = False
    escalated: bool = False
    follow_up: bool = False


def sentences(text: str, speaker: Side) -> list[str]:
    """The sentences of a line; the agent's "cause, so action" is two (``"Your app is an
    old version, so I'm sending you the new one"``: what was found, then a step)."""
    parts = [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]
    if speaker is not Side.AGENT:
        return parts
    split: list[str] = []
    for part in parts:
        found, so, action = part.partition(", so ")
        if (
            so
            and _CAUSE.search(found)
            and (_IMPERATIVE.search(condense(action)) or _AGENT_ACTION.search(action))
        ):
            split += [found.rstrip(",") + ".", action]
        else:
            split.append(part)
    return split


def condense(sentence: str) -> str:
    """``"Okay, so now restart the VPN."`` → ``"Restart the VPN."``: the sentence without
    greetings, fillers and discourse words in front, with a capital first letter."""
    text = sentence.replace("’", "'").strip()
    text = _GREETING_NAME.sub("", text)
    text = _FILLER.sub("", text).strip(" ,;:-")
    if not text:
        return ""
    return text[0].upper() + text[1:]


def read_sentence(segment: Segment, sentence: str, turn: int = 0) -> Reading:
    text = sentence.replace("’", "'")
    condensed = condense(text)
    agent = segment.speaker is Side.AGENT
    question = bool(_QUESTION.search(text))
    lowered = condensed.lower()
    investigating = agent and bool(_INVESTIGATING.search(lowered))
    # "On the laptop, press…", "Before anything else, open…": the action after the comma
    after_clause = lowered.partition(", ")[2]
    imperative = bool(_IMPERATIVE.search(lowered) or _IMPERATIVE.search(after_clause))
    agent_action = bool(_AGENT_ACTION.search(lowered))
    polite_request = lowered.startswith(("can you", "could you", "would you"))
    step = (
        agent
        and not investigating
        and (imperative or agent_action)
        and (not question or polite_request)
        and len(condensed.split()) >= MIN_WORDS
    )
    conditional = bool(_CONDITIONAL.search(lowered))
    follow_up = (
        agent
        and not question
        and bool(_FOLLOW_UP.search(text))
        and not _NOT_FOLLOW_UP.search(text)
        and not lowered.startswith("if")
    )
    escalated = agent and not conditional and not question and bool(_ESCALATED.search(text))
    return Reading(
        segment_id=segment.id,
        turn=turn,
        speaker=segment.speaker,
        t=segment.start,
        text=text,
        condensed=condensed,
        problem=not agent and bool(_PROBLEM.search(text)),
        request=not agent and bool(_REQUEST.search(text)),
        venting=not agent and bool(_VENTING.search(text)),
        cause=agent
        and not question
        and bool(_CAUSE.search(text) or _DIAGNOSIS.search(condensed))
        and not _NO_CAUSE.search(text),
        step=step and not follow_up and not escalated,
        investigating=investigating,
        resolved=not question and not conditional and bool(_RESOLVED.search(text)),
        unresolved=not question and not conditional and bool(_UNRESOLVED.search(text)),
        escalated=escalated,
        follow_up=follow_up,
    )


def problem_statement(reading: Reading) -> str:
    """The client's problem in their words: the clauses that state it, without the venting
    and the context around it (``"My VPN keeps dropping, my email won't load, and I have a
    deadline today"`` → ``"My VPN keeps dropping, my email won't load."``)."""
    clauses = [c.strip(" ,.!?") for c in _CLAUSE_SPLIT.split(reading.condensed)]
    kept = [
        c
        for c in clauses
        if c and not _VENTING.search(c) and not (_CONTEXT.search(c) and not _PROBLEM.search(c))
    ]
    if not any(_PROBLEM.search(c) or _REQUEST.search(c) for c in kept):
        return ""
    text = ", ".join(kept)
    end = "?" if reading.condensed.endswith("?") and len(kept) == len(clauses) else "."
    return text[0].upper() + text[1:] + end


class SummaryDrafter:
    """Drafts the note again as lines arrive; each line is read only once (a revised line is
    read again)."""

    def __init__(self) -> None:
        self._segments: dict[int, Segment] = {}
        self._readings: dict[int, tuple[tuple[str, int], list[Reading]]] = {}

    def add(self, segment: Segment, replaces: Iterable[int] = ()) -> None:
        for gone in replaces:
            self._segments.pop(gone, None)
            self._readings.pop(gone, None)
        self._segments[segment.id] = segment

    def draft(self) -> Summary:
        ordered = sorted(self._segments.values(), key=lambda s: (s.start, s.id))
        readings: list[Reading] = []
        turn, speaker = 0, None
        for segment in ordered:
            if segment.speaker is not speaker:
                turn, speaker = turn + 1, segment.speaker
            cached = self._readings.get(segment.id)
            if cached is None or cached[0] != (segment.text, turn):
                parts = sentences(segment.text, segment.speaker)
                cached = ((segment.text, turn), [read_sentence(segment, s, turn) for s in parts])
                self._readings[segment.id] = cached
            readings.extend(cached[1])
        return assemble(readings)


def draft_summary(segments: Sequence[Segment]) -> Summary:
    """The note of a whole call (its segments, already redacted)."""
    drafter = SummaryDrafter()
    for segment in segments:
        drafter.add(segment)
    return drafter.draft()


def assemble(readings: Sequence[Reading]) -> Summary:
    """The note from the call's sentences, in call order."""
    first_step = next((i for i, r in enumerate(readings) if r.step), len(readings))
    client_turns: list[int] = []
    statements: dict[int, list[Reading]] = {}  # client turn → its problem statements
    for index, reading in enumerate(readings):
        if reading.speaker is not Side.CLIENT:
            continue
        if not client_turns or client_turns[-1] != reading.turn:
            client_turns.append(reading.turn)
        opening = len(client_turns) <= OPENING_CLIENT_TURNS and index < first_step
        greeting_only = _GREETING.search(reading.text) and len(reading.condensed.split()) <= 2
        if opening and (reading.problem or reading.request) and not greeting_only:
            statements.setdefault(reading.turn, []).append(reading)
    reason = []
    for turn_id, said in statements.items():
        turn = [r for r in readings if r.turn == turn_id]
        position = turn.index(said[0])
        lead = turn[position - 1] if position else None  # "The VPN. It says connected, but…"
        if (
            lead is not None
            and 0 < len(lead.condensed.split()) <= 3
            and not lead.venting
            and not _GREETING.search(lead.text)
            and not _NOT_A_LEAD.search(lead.text)
        ):
            said = [lead, *said]
        text = " ".join(
            problem_statement(s) if s is not lead else s.condensed
            for s in said[: MAX_REASON_SENTENCES + (lead is not None)]
        ).strip()
        if len(text.split()) >= MIN_WORDS:
            reason.append(SummaryItem(text, said[0].t, said[0].segment_id))

    cause = [_item(r) for r in _causes(readings)]
    steps = [_item(r) for r in readings if r.step]
    follow_up = [_item(r) for r in readings if r.follow_up]
    working_from = min(first_step, _after_opening(readings))
    return Summary(
        reason=tuple(_distinct(reason)[: MAX_ITEMS["reason"]]),
        cause=tuple(_distinct(cause)[: MAX_ITEMS["cause"]]),
        steps=tuple(_distinct(steps)[: MAX_ITEMS["steps"]]),
        outcome=outcome(readings[working_from:]),
        follow_up=tuple(_distinct(follow_up)[-MAX_ITEMS["follow_up"] :]),
    )


def _causes(readings: Sequence[Reading]) -> list[Reading]:
    """What the agent found: statements of a cause, and the sentence an announcement
    ("That's why." / "I see the problem.") points at in the same turn — the next one, or
    the one before for an announcement that ends the turn."""
    found: list[Reading] = []
    for reading in readings:
        if reading.speaker is not Side.AGENT or reading.step or reading.follow_up:
            continue
        if _ANNOUNCES_CAUSE.search(reading.condensed):
            turn = [r for r in readings if r.turn == reading.turn]
            position = turn.index(reading)
            after = [r for r in turn[position + 1 :] if not r.step and not r.follow_up]
            before = [r for r in turn[:position] if not r.step]
            pointed = after[:1] or before[-1:]
            found.extend(r for r in pointed if r not in found)
        elif reading.cause and len(reading.condensed.split()) >= MIN_WORDS and reading not in found:
            found.append(reading)
    return sorted(found, key=readings.index)


def outcome(readings: Sequence[Reading]) -> Outcome:
    """How the call ended: the last decisive line. Once the agent has passed the problem
    on, it stays escalated unless the client then says it works."""
    status, shown_by = "unknown", None
    for reading in readings:
        if reading.escalated:
            if status == "escalated" and reading.follow_up:
                continue  # a promise to report back names the team again; no new outcome
            status, shown_by = "escalated", reading
        elif reading.unresolved and not (reading.resolved and reading.speaker is Side.CLIENT):
            if status != "escalated":
                status, shown_by = "unresolved", reading
        elif reading.resolved and (status != "escalated" or reading.speaker is Side.CLIENT):
            if status == "resolved" and reading.speaker is Side.AGENT and shown_by is not None:
                continue  # the client's own confirmation shows it best
            status, shown_by = "resolved", reading
    if shown_by is None:
        return Outcome()
    text = shown_by.condensed or shown_by.text
    turn = [r for r in readings if r.turn == shown_by.turn]
    position = turn.index(shown_by)
    if len(text.split()) <= SHORT_LINE_WORDS and position > 0:
        text = f"{turn[position - 1].condensed} {text}".strip()
    return Outcome(status, text, shown_by.segment_id, shown_by.t)


def _after_opening(readings: Sequence[Reading]) -> int:
    """Where the client's opening turns end: what they tried before the call is no outcome."""
    seen: list[int] = []
    for index, reading in enumerate(readings):
        if reading.speaker is Side.CLIENT and reading.turn not in seen:
            seen.append(reading.turn)
            if len(seen) > 2:
                return index
    return len(readings)


def _item(reading: Reading) -> SummaryItem:
    return SummaryItem(reading.condensed or reading.text, reading.t, reading.segment_id)


def _distinct(items: list[SummaryItem]) -> list[SummaryItem]:
    seen: set[str] = set()
    kept = []
    for item in items:
        key = re.sub(r"[^a-z0-9 ]", "", item.text.lower())
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept
