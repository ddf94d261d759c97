"""Redaction of personal data in call text, before anything is stored or exported.

Three kinds are found and replaced in place by a visible placeholder:

``[card number]``
    13–19 digits that pass the Luhn check, written ("4111 1111 1111 1111", "4111-1111-…",
    "4111111111111111", also "4,111,111,…" as Whisper sometimes formats it) or spoken as
    Whisper transcribes them: number words ("four one one one …"), mixtures ("4111 one one
    …"), "oh"/"o"/"zero"/"nought" for 0, "double four", "triple one", "twenty six", "five
    hundred", separated by spaces, commas, dashes or periods. A sequence that fails the Luhn
    check is never a card.
``[email]``
    Written addresses ("jane.doe+work@example.co.uk") and spoken ones ("jane dot doe at
    example dot com", "jane underscore doe at gmail dot com", "jdoe at example.com"). A
    spoken "at" counts only before a plausible domain: "<label> dot <known TLD>" or a
    literal domain ending in a known TLD, and not after a pronoun or filler ("is at gmail
    dot com" is left alone).
``[phone number]``
    International numbers after "+" or "00" (7–15 digits), North American shapes ("(415)
    555-2671", "415-555-2671", "415.555.2671", "4155552671", "1 800 555 1234", "555-2671"),
    national numbers starting with 0 grouped consistently ("020 7946 0958", "06 12 34 56
    78"), and dictated digits of phone length (7–15 digits): number words, at least half of
    them read digit by digit ("four one five triple five twenty six seventy one"), or mostly
    single written digits ("4, 1, 5, …").

How numbers are found: the text is cut into whitespace-separated words; a word is numeric
when, after stripping brackets, quotes, "+" and trailing punctuation, it consists only of
digit groups and number words joined by "-", ".", "," or brackets. Consecutive numeric words
form a *run*; any other word ends it, and so does a digit group glued to something else
("10:30", "$1,299.99", "12/05/2024", "3pm", "192.168.1.1:8080"). Each run is classified as a
whole (card first, then phone); if that fails, it is split at punctuation that separates only
a few of its groups ("4111 1111 1111 1111, 415 555 2671"), and a run of written groups is
searched for the longest sub-run of whole groups that is a card or a phone ("room 12 020
7946 0958"). Dictated digits are never searched that way, so a Luhn-invalid spoken card is
not turned into a "phone" by chance. A lone "oh", "o" or "one" at either end of a run, next to
written digits ("Oh, 415 555 2671"), is left out when the rest classifies without it.

Not redacted: times, money, dates and years, IP addresses, versions and short numbers
(tickets, error codes, order numbers under 7 digits): they are either glued to ":", "/",
"$" or letters, too short, or not grouped like a phone.

Known limits:

* A Luhn-invalid card number (one digit misheard or mistyped) is not a card, and at 16+
  digits it is not a phone either, so it stays (as required). Spoken 13–15 digit runs that
  fail Luhn are redacted as phone numbers.
* Homophones Whisper may write for digits ("for", "to", "too", "won", "ate") are not digits;
  "thousand", "million" and "and" end a run ("one thousand two hundred" is not read as 1200).
* Phone numbers read mostly in pairs ("fifty five, fifty two, sixty seven, one") are missed:
  the rule that keeps "twelve oh five nineteen eighty" (a date) and "twenty, thirty, forty"
  from being phones. Spoken runs of 7+ single digits that are not phones (an order number
  read out digit by digit) are redacted as ``[phone number]``: over-redaction, the safe side.
* Two numbers written back to back with only spaces between them and no group structure to
  tell them apart may form one run that is neither a card nor a phone.
* Phone numbers without a "+" that follow none of the shapes above (e.g. "612 345 678") are
  missed unless dictated; spoken emails keep only the last word before "at" as the local part
  ("Jane Doe at gmail dot com" → "Jane [email]"); names and street addresses are not handled.
* Interim (Partial) text is redacted as it stands: the first groups of a number still being
  spoken ("4111 1111") are too short to recognise and show until the rest arrives.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from typing import Any

from app.events import Committed, EventStage, Partial

log = logging.getLogger(__name__)

CARD = "card number"
EMAIL = "email"
PHONE = "phone number"
ALL_KINDS = (CARD, EMAIL, PHONE)

FAILED = "[redaction failed]"  # what the stage puts in place of text it could not redact


@dataclass(frozen=True)
class Redacted:
    text: str  # with placeholders "[card number]", "[email]", "[phone number]"
    found: tuple[str, ...]  # kinds found, in order of appearance (may repeat)


def placeholder(kind: str) -> str:
    return f"[{kind}]"


def luhn_valid(digits: str) -> bool:
    """True if the digit string passes the Luhn (mod 10) check used by payment cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return bool(digits) and total % 10 == 0


# --- e-mail addresses -----------------------------------------------------------------------


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Top-level domains accepted after a spoken "at" (a literal "@" accepts any).
_TLDS = _words(
    "com net org edu gov mil int info biz name pro io co ai app dev me tv cc us uk ca au nz ie "
    "de fr es it nl be ch at se no dk fi is pl pt cz sk hu ro bg gr tr ru ua in jp cn hk sg kr "
    "tw br mx ar cl za eu"
)
_TLD = "(?:" + "|".join(sorted(_TLDS, key=lambda t: (-len(t), t))) + ")"

_WRITTEN_EMAIL = re.compile(
    r"(?<![\w.%+'’-])[a-z0-9._%+-]+\s?@\s?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?![\w-]|\.\w)",
    re.IGNORECASE,
)

_LOCAL_WORD = r"[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9])?"
_JOIN_WORDS = ("dot", "underscore", "dash", "hyphen", "plus")
_JOIN_WORD = "(?:" + "|".join(_JOIN_WORDS) + ")"
_SPOKEN_JOIN = rf"\s{_JOIN_WORD}\s"  # one space each side, as Whisper writes it
# The local part starts at a word that neither is nor follows a joiner (not mid-way through
# "jane dot doe"), which also keeps the search linear on long runs of "dot".
_LOCAL_START = (
    r"(?<![\w.@%+'’-])" + "".join(rf"(?<!\s{w}\s)" for w in _JOIN_WORDS) + rf"(?!{_JOIN_WORD}\s)"
)
_DOMAIN_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_DOMAIN_DOT = r"(?:\s+dot\s+|\.)"
_SPOKEN_EMAIL = re.compile(
    rf"{_LOCAL_START}(?P<local>{_LOCAL_WORD}(?:{_SPOKEN_JOIN}{_LOCAL_WORD})*)"
    rf"(?:\s+at\s+|\s*@\s*)"
    rf"(?P<domain>{_DOMAIN_LABEL}(?:{_DOMAIN_DOT}{_DOMAIN_LABEL})*{_DOMAIN_DOT}{_TLD})"
    r"(?![\w-]|\.\w)",
    re.IGNORECASE,
)

# Words before a spoken "at" that are not the local part of an address ("reach me at …").
_NOT_LOCAL = _words(
    "i me you he him she her it we us they them is am are was were be been to from and or "
    "but so that this there here email mail address reach contact write send sent "
    "look looked looking stay staying work working home"
)
# First domain labels that make "… at <label> dot com" ordinary speech ("at the dot com").
_NOT_DOMAIN = _words("the a an my your our their his her its this that")


def _find_emails(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _WRITTEN_EMAIL.finditer(text)]
    for m in _SPOKEN_EMAIL.finditer(text):
        if m.group("local").lower() in _NOT_LOCAL:
            continue
        first_label = re.split(_DOMAIN_DOT, m.group("domain"), maxsplit=1, flags=re.I)[0]
        if first_label.lower() in _NOT_DOMAIN:
            continue
        spans.append(m.span())
    return _drop_overlaps(spans)


def _drop_overlaps(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Keep the earliest (then longest) of overlapping spans."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    return kept


# --- numbers: words → digit tokens ----------------------------------------------------------

_UNITS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_TEENS = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
}  # fmt: skip
_TENS = {
    "twenty": "2", "thirty": "3", "forty": "4", "fifty": "5",
    "sixty": "6", "seventy": "7", "eighty": "8", "ninety": "9",
}  # fmt: skip
_REPEATS = {"double": 2, "triple": 3}
_HUNDRED = "hundred"
_NUMBER_WORDS = frozenset({*_UNITS, *_TEENS, *_TENS, *_REPEATS, _HUNDRED})
_ZERO_WORDS = frozenset({"zero", "oh", "o", "nought"})
# Spoken words that are often not digits at all ("Oh, …", "that one …"): may be left out of a
# run next to written digits.
_FILLERS = frozenset({"oh", "o", "one"})

_WORD = re.compile(r"\S+")
_LEAD_CHARS = "([{\"'“‘+"  # stripped from the start of a word
_TRAIL_CHARS = ")]}\"'”’.,;:!?"  # stripped from its end
_PART = re.compile(r"[^-–.,()]+")  # digit groups / number words inside a word ("415-555-2671")
_DIGITS = re.compile(r"[0-9]+")
# Between two groups, punctuation that marks a pause or an end, not a group separator.
_STRONG_SEPARATOR = re.compile(r"[,;:!?]|\.(?:\s|\Z)")


@dataclass(frozen=True)
class _Piece:
    """A digit group or number word inside a word of the text."""

    text: str  # lower-cased
    start: int
    end: int
    lead: str  # what was stripped before it, if it starts its word ("+", "(")
    trail: str  # what was stripped after it, if it ends its word (")", ",", ".")


@dataclass(frozen=True)
class _Token:
    """One or more digits from a digit group or one spoken number ("double four" → "44")."""

    digits: str
    start: int
    end: int
    spoken: bool
    word: str | None  # the spoken word, when the token is exactly one word ("oh", "one")
    one_by_one: bool  # read out digit by digit: "4", "four", "double four" (not "44", "forty")
    lead: str
    trail: str
    sep: str = ""  # the text between the previous token of its run and this one


def _is_number_part(part: str) -> bool:
    return bool(_DIGITS.fullmatch(part)) or part.lower() in _NUMBER_WORDS


def _pieces(text: str) -> Iterator[_Piece | None]:
    """The numeric pieces of ``text`` in order; ``None`` for each word that is not numeric."""
    for word in _WORD.finditer(text):
        w = word.group()
        lead_end = len(w) - len(w.lstrip(_LEAD_CHARS))
        trail_start = max(lead_end, len(w.rstrip(_TRAIL_CHARS)))
        core = w[lead_end:trail_start]
        parts = list(_PART.finditer(core))
        if not all(_is_number_part(p.group()) for p in parts):
            yield None
            continue
        base = word.start() + lead_end
        for i, p in enumerate(parts):
            yield _Piece(
                text=p.group().lower(),
                start=base + p.start(),
                end=base + p.end(),
                lead=w[:lead_end] if i == 0 and p.start() == 0 else "",
                trail=w[trail_start:] if i == len(parts) - 1 and p.end() == len(core) else "",
            )


def _runs(text: str) -> list[list[_Token]]:
    """Consecutive digit tokens of ``text``, one list per run."""
    pieces = list(_pieces(text))
    runs: list[list[_Token]] = []
    run: list[_Token] = []

    def add(digits: str, first: _Piece, last: _Piece, spoken: bool, one_by_one: bool) -> None:
        word = first.text if spoken and first is last else None
        sep = text[run[-1].end : first.start] if run else ""
        run.append(
            _Token(
                digits=digits,
                start=first.start,
                end=last.end,
                spoken=spoken,
                word=word,
                one_by_one=one_by_one,
                lead=first.lead,
                trail=last.trail,
                sep=sep,
            )
        )

    def end_run() -> None:
        nonlocal run
        if run:
            runs.append(run)
        run = []

    i = 0
    while i < len(pieces):
        piece = pieces[i]
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        i += 1
        if piece is None:
            end_run()
            continue
        t = piece.text
        if _DIGITS.fullmatch(t):
            add(t, piece, piece, spoken=False, one_by_one=len(t) == 1)
        elif t in _UNITS:
            if nxt is not None and nxt.text == _HUNDRED and t not in _ZERO_WORDS:
                add(_UNITS[t] + "00", piece, nxt, spoken=True, one_by_one=False)  # "five hundred"
                i += 1
            else:
                add(_UNITS[t], piece, piece, spoken=True, one_by_one=True)
        elif t in _TEENS:
            add(_TEENS[t], piece, piece, spoken=True, one_by_one=False)
        elif t in _TENS:
            if nxt is not None and nxt.text in _UNITS and nxt.text not in _ZERO_WORDS:
                add(_TENS[t] + _UNITS[nxt.text], piece, nxt, spoken=True, one_by_one=False)
                i += 1
            else:
                add(_TENS[t] + "0", piece, piece, spoken=True, one_by_one=False)
        elif (
            t in _REPEATS
            and nxt is not None
            and (nxt.text in _UNITS or (len(nxt.text) == 1 and _DIGITS.fullmatch(nxt.text)))
        ):
            digit = _UNITS.get(nxt.text, nxt.text)
            add(digit * _REPEATS[t], piece, nxt, spoken=True, one_by_one=True)  # "double four"
            i += 1
        else:  # "double" before a non-digit, "hundred" on its own
            end_run()
    end_run()
    return runs


# --- numbers: classifying runs --------------------------------------------------------------

_CARD_DIGITS = range(13, 20)
_PHONE_DIGITS = range(7, 16)


def _is_dictated(tokens: Sequence[_Token]) -> bool:
    """Digits read out one by one, as a phone number is: number words at least half of them
    single digits ("four one five triple five twenty six seventy one", but not "twenty,
    thirty, forty, fifty" or "twelve oh five nineteen eighty"), or mostly single written
    digits ("4, 1, 5, …")."""
    one_by_one = sum(t.one_by_one for t in tokens)
    if any(t.spoken for t in tokens):
        return one_by_one * 2 >= len(tokens)
    return len(tokens) >= 4 and one_by_one * 2 > len(tokens)


def _has_phone_shape(tokens: Sequence[_Token], digits: str) -> bool:
    """Written digit groups laid out like a phone number."""
    groups = tuple(len(t.digits) for t in tokens)
    seps = {re.sub(r"\s+", " ", re.sub(r"[()]", "", t.sep)) or " " for t in tokens[1:]}
    n = len(digits)
    if groups == (3, 3, 4):  # (415) 555-2671, 415.555.2671
        return True
    if groups == (1, 3, 3, 4) and digits[0] == "1":  # 1 800 555 1234
        return True
    if groups == (3, 4) and seps <= {"-", "."}:  # 555-2671
        return True
    if groups == (10,) and digits[0] in "23456789":  # 4155552671
        return True
    if groups == (11,) and digits[0] == "1" and digits[1] in "23456789":  # 14155552671
        return True
    if digits[:2] == "00" and digits[2] != "0" and n >= 9:  # 0044 20 7946 0958
        return True
    # National numbers with a trunk 0, consistently grouped: 020 7946 0958, 06 12 34 56 78.
    national = digits[0] == "0" and digits[1] != "0" and 9 <= n <= 11
    return national and min(groups) >= 2 and len(seps) <= 1


def _classify(tokens: Sequence[_Token]) -> str | None:
    digits = "".join(t.digits for t in tokens)
    international = "+" in tokens[0].lead
    if not international and len(digits) in _CARD_DIGITS and luhn_valid(digits):
        return CARD
    if len(digits) in _PHONE_DIGITS and (
        international or _is_dictated(tokens) or _has_phone_shape(tokens, digits)
    ):
        return PHONE
    return None


def _classify_trimmed(tokens: Sequence[_Token]) -> tuple[str, int, int] | None:
    """Classify the run without a filler word ("oh", "one") that stands at either end next
    to written digits ("Oh, 415 555 2671"), else as a whole. Returns (kind, first, last + 1)
    token indices."""
    n = len(tokens)
    trim_first = n > 1 and tokens[0].word in _FILLERS and not tokens[1].spoken
    trim_last = n > 1 and tokens[-1].word in _FILLERS and not tokens[-2].spoken
    candidates = []
    if trim_first and trim_last and n > 2:
        candidates.append((1, n - 1))
    if trim_first:
        candidates.append((1, n))
    if trim_last:
        candidates.append((0, n - 1))
    candidates.append((0, n))
    for a, b in candidates:
        kind = _classify(tokens[a:b])
        if kind is not None:
            return kind, a, b
    return None


def _search(tokens: Sequence[_Token]) -> list[tuple[str, int, int]]:
    """The cards and phones in a run: (kind, first, last + 1) token indices, in order."""
    if not tokens:
        return []
    whole = _classify_trimmed(tokens)
    if whole is not None:
        return [whole]
    # A pause (", ", ". ") between a few of the groups: probably separate numbers.
    strong = [k for k in range(1, len(tokens)) if _STRONG_SEPARATOR.search(tokens[k].sep)]
    if strong and len(strong) * 2 < len(tokens) - 1:
        found: list[tuple[str, int, int]] = []
        for a, b in zip([0, *strong], [*strong, len(tokens)], strict=True):
            found += [(kind, a + x, a + y) for kind, x, y in _search(tokens[a:b])]
        return found
    # Written groups: the longest sub-run of whole groups that is a card or a phone.
    written = not any(t.spoken for t in tokens)
    if len(tokens) > 1 and written and all(len(t.digits) >= 2 for t in tokens[1:]):
        ends = list(accumulate(len(t.digits) for t in tokens))  # digits up to each token
        for size in range(min(len(tokens) - 1, _CARD_DIGITS[-1]), 0, -1):
            for a in range(len(tokens) - size + 1):
                if ends[a + size - 1] - (ends[a - 1] if a else 0) > _CARD_DIGITS[-1]:
                    continue  # too many digits for a card or a phone
                kind = _classify(tokens[a : a + size])
                if kind is not None:
                    before = _search(tokens[:a])
                    b = a + size
                    after = [(k, b + x, b + y) for k, x, y in _search(tokens[b:])]
                    return [*before, (kind, a, b), *after]
    return []


def _find_numbers(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every card and phone number in ``text``."""
    found = []
    for run in _runs(text):
        for kind, a, b in _search(run):
            first, last = run[a], run[b - 1]
            start, end = first.start, last.end
            # Take a "+" right before the number, and a "(" that a ")" inside it closes.
            if first.lead.endswith("+"):
                start -= 1
            span = text[start:end]
            if text[start - 1 : start] == "(" and span.count(")") > span.count("("):
                start -= 1
            found.append((kind, start, end))
    return found


# --- public API -----------------------------------------------------------------------------


def _check_kinds(kinds: Collection[str]) -> frozenset[str]:
    unknown = set(kinds) - set(ALL_KINDS)
    if unknown:
        raise ValueError(f"unknown kinds of personal data: {sorted(unknown)}; use {ALL_KINDS}")
    return frozenset(kinds)


def redact(text: str, kinds: Collection[str] = ALL_KINDS) -> Redacted:
    """Replace each card number, e-mail address and phone number in ``text`` (only the
    ``kinds`` asked for) by its placeholder, e.g. "[card number]"."""
    wanted = _check_kinds(kinds)
    emails = _find_emails(text)
    spans = [(EMAIL, start, end) for start, end in emails]
    # Numbers are looked for outside the e-mail addresses (digits in "jdoe85@…" are not ones).
    masked = text
    for start, end in emails:
        masked = masked[:start] + "\0" * (end - start) + masked[end:]
    spans += _find_numbers(masked)
    spans.sort(key=lambda s: s[1])

    out: list[str] = []
    found: list[str] = []
    pos = 0
    for kind, start, end in spans:
        if kind not in wanted:
            continue
        out += [text[pos:start], placeholder(kind)]
        found.append(kind)
        pos = end
    out.append(text[pos:])
    return Redacted("".join(out), tuple(found))


class RedactStage(EventStage):
    """Replaces the text of each Committed segment (and Partial interim text) with its
    redacted text.

    Fails closed: text whose redaction raises is replaced by "[redaction failed]" (and the
    error logged, without the text), so the original never goes further down the pipeline.
    The segment is changed in place, so no other holder of it keeps the original text.
    """

    component = "redaction"

    def __init__(self, kinds: Collection[str] = ALL_KINDS) -> None:
        self.kinds = _check_kinds(kinds)

    def __call__(self, events: list[Any]) -> list[Any]:
        out: list[Any] = []
        for event in events:
            if isinstance(event, Committed):
                text = self._redact(event.segment.text)
                if text != event.segment.text:
                    event.segment.text = text
            elif isinstance(event, Partial):
                text = self._redact(event.text)
                if text != event.text:
                    event = replace(event, text=text)
            out.append(event)
        return out

    def _redact(self, text: str) -> str:
        if text == "":
            return text
        try:
            return redact(text, self.kinds).text
        except Exception:
            log.exception("redaction failed; the text was replaced by %r", FAILED)
            return FAILED
