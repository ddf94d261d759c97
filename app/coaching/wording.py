"""Finding the playbook's words in transcribed speech: whole words, case-insensitive,
tolerant of masked spellings ("d*mn", "f**king", "sh!t") and of word forms (plurals,
"-ing", "-ed")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MASK_CHARACTERS = "*#@!$%&_"
MASKED_LISTS = ("profanity", "insults", "abuse_phrases")  # the words people mask
_MASK_LETTERS = {"!": "i", "@": "a", "$": "s"}  # look-alikes; the others hide any letter
_TOKEN = re.compile(r"[a-z0-9'*#@!$%&_]+")
_SUFFIXES = ("", "s", "es", "ed", "ing", "in", "er", "ers")
# Words that may stand between "you" and an insult aimed at the person:
# "you are a complete idiot", "are you stupid", "you people are useless".
_LINKING = frozenset(
    {
        "are", "is", "re", "r", "an", "a", "such", "so", "the", "complete", "total", "absolute",
        "absolutely", "totally", "completely", "really", "just", "being", "people", "guys",
        "lot", "all", "bunch", "of", "utterly", "must", "be", "even", "how", "one", "big",
        "bloody", "damn", "freaking", "fucking", "stupid", "useless", "incompetent", "pathetic",
    }
)  # fmt: skip
_YOU = frozenset({"you", "you're", "youre", "ya", "u", "y'all", "yall"})


def forms(word: str) -> set[str]:
    """The forms of a word that count as the word: idiot → idiots, fuck → fucking."""
    found = {word + suffix for suffix in _SUFFIXES}
    if word.endswith("e"):
        found |= {word[:-1] + "ing", word[:-1] + "ed"}
    return found


def split_words(text: str) -> list[str]:
    text = text.lower().replace("’", "'").replace("-", " ")
    return [t.strip("'") for t in _TOKEN.findall(text) if t.strip("'")]


@dataclass(frozen=True)
class Match:
    phrase: str  # as written in the playbook
    start: int  # token span in the words of the text
    end: int


class PhraseList:
    """One word list of the playbook, matched on whole words; the last word of a phrase
    may appear in any of its :func:`forms`."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = tuple(dict.fromkeys(p.lower().strip() for p in phrases if p.strip()))
        self._split = [(phrase, split_words(phrase)) for phrase in self.phrases]
        self._last_forms = {phrase: forms(words[-1]) for phrase, words in self._split}

    def find(self, words: list[str]) -> list[Match]:
        found = []
        for index in range(len(words)):
            for phrase, phrase_words in self._split:
                end = index + len(phrase_words)
                if end > len(words):
                    continue
                head = phrase_words[:-1]
                if words[index : end - 1] == head and words[end - 1] in self._last_forms[phrase]:
                    found.append(Match(phrase, index, end))
        return found


class Wording:
    """All of the playbook's word lists; unmasks spellings against their shared vocabulary."""

    def __init__(self, lists: Mapping[str, Iterable[str]]) -> None:
        self.lists = {name: PhraseList(words) for name, words in lists.items()}
        single = {w for lst in self.lists.values() for p in lst.phrases for w in split_words(p)}
        self._vocabulary = {form for word in single for form in forms(word)}
        # what people mask is swearing and insults: those words win when several fit
        masked = {
            w for name in MASKED_LISTS if name in self.lists
            for p in self.lists[name].phrases for w in split_words(p)
        }  # fmt: skip
        self._masked_vocabulary = {form for word in masked for form in forms(word)}

    def _unmask(self, token: str) -> str:
        """'d*mn' → 'damn' when exactly one known word fits the visible letters."""
        masked = any(c in MASK_CHARACTERS for c in token)
        if not masked:
            return token
        if not token[:1].isalpha():
            return token.strip(MASK_CHARACTERS)
        body = token.rstrip("!")  # "sh!t!" keeps its inner mask, loses the exclamation
        pattern = re.compile(
            "".join(
                _MASK_LETTERS.get(c, "[a-z]") if c in MASK_CHARACTERS else re.escape(c)
                for c in body
            )
        )
        for vocabulary in (self._masked_vocabulary, self._vocabulary):
            fits = {word for word in vocabulary if pattern.fullmatch(word)}
            if fits:
                return fits.pop() if len(fits) == 1 else body.strip(MASK_CHARACTERS)
        return body.strip(MASK_CHARACTERS)

    def words(self, text: str) -> list[str]:
        return [self._unmask(token) for token in split_words(text)]

    def find(self, name: str, words: list[str]) -> list[Match]:
        return self.lists[name].find(words)

    def has(self, name: str, words: list[str]) -> bool:
        return bool(self.lists[name].find(words))

    @staticmethod
    def aimed_at_you(words: list[str], matches: list[Match]) -> list[Match]:
        """The matches said to the person: "you …", "are you …", "you people are …"."""
        aimed = []
        for match in matches:
            index = match.start - 1
            while index >= 0 and words[index] in _LINKING:
                index -= 1
            if index >= 0 and words[index] in _YOU:
                aimed.append(match)
        return aimed
