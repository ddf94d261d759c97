"""The playbook: situations, their cues and phrases, detection settings and word lists.

Loaded from ``resources/playbook/default.toml``, with a team/user override file merged over
it key by key. A broken file is reported with its path, line and field; the caller keeps the
last good playbook (see :class:`PlaybookSource`).
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from app.coaching.wording import split_words

KINDS = (
    "frustration",
    "anger",
    "profanity",
    "abuse",
    "abuse_continues",
    "manager_request",
    "long_silence",
    "jargon",
    "agent_pace",
    "mirroring",
    "blame",
    "resolution",
    "no_without_reason",
    "raised_voice",
    "interrupting",
)
DE_ESCALATION_KINDS = (
    "frustration",
    "anger",
    "profanity",
    "abuse",
    "abuse_continues",
    "manager_request",
    "mirroring",
    "blame",
)
COMMON_KEYS = {
    "practice": str,
    "priority": int,
    "cue": str,
    "cooldown_s": float,
    "expires_s": float,
    "phrases": list,
}
DETECTION_KEYS: dict[str, dict[str, type]] = {
    "abuse_continues": {"window_s": float},
    "abuse": {},
    "manager_request": {},
    "anger": {"negative_min": float, "heat_words_min": int, "window_s": float, "min_words": int},
    "profanity": {},
    "frustration": {"mood_max": float, "negative_min": float, "negative_lines_min": int},
    "blame": {},
    "mirroring": {"agent_negative_min": float, "client_mood_max": float},
    "long_silence": {"after_hold_s": float, "after_any_s": float},
    "jargon": {},
    "agent_pace": {"ratio_min": float, "baseline_lines_min": int, "min_words": int},
    "resolution": {},
    "no_without_reason": {"grace_s": float},
    "raised_voice": {
        "rise_db": float,
        "lines_min": int,
        "baseline_lines_min": int,
        "settle_s": float,
    },
    "interrupting": {
        "overlap_min_s": float,
        "agent_min_s": float,
        "client_mood_max": float,
        "client_negative_min": float,
    },
}
LEXICON_LISTS = (
    "profanity",
    "insults",
    "abuse_phrases",
    "heat",
    "manager_request",
    "boundary",
    "hold",
    "dismissive",
    "apology",
    "blame",
    "resolved_client",
    "resolved_agent",
    "checklist_acknowledged",
    "checklist_next_step",
    "checklist_kept_informed",
    "checklist_follow_up",
    "refusal",
    "refusal_opening",
    "refusal_action",
    "reason_given",
    "complaint",
    "backchannel",
)
FLAG_KEYS = {"sustained_negative_mood": float, "sustained_negative_s": float}
MOOD_KEYS = {"mood_max", "client_mood_max", "sustained_negative_mood"}  # −1 … +1
MAX_DEPTH = 16  # tables and lists inside each other; a playbook needs 3
MAX_VOCABULARY_TERMS = 30  # Whisper reads the first 64 tokens of them (models/stt.py)
MAX_TERM_CHARS = 40


class PlaybookError(Exception):
    """A playbook file that cannot be used; says which file, line and field, and why."""


@dataclass(frozen=True)
class Situation:
    kind: str
    practice: str
    priority: int
    cue: str
    cooldown_s: float
    expires_s: float
    phrases: tuple[str, ...]
    settings: Mapping[str, float | int] = field(default_factory=dict)

    def setting(self, name: str) -> Any:
        return self.settings[name]


@dataclass(frozen=True)
class Playbook:
    situations: Mapping[str, Situation]
    lexicon: Mapping[str, tuple[str, ...]]
    jargon: Mapping[str, str]  # term → plain words
    flags: Mapping[str, float]
    sources: tuple[Path, ...]
    vocabulary: tuple[str, ...] = ()  # names the team's callers say, spelt as they should be

    def __getitem__(self, kind: str) -> Situation:
        return self.situations[kind]


def default_playbook_path() -> Path:
    return Path(str(resources.files("resources"))) / "playbook" / "default.toml"


def _line_of(text: str, table: str, key: str | None) -> int | None:
    """The line of ``key`` inside ``[table]`` (or of the table header), for messages."""
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*") + r"\s*\]")
    for index, line in enumerate(lines):
        if header.match(line):
            if key is None:
                return index + 1
            for offset, inner in enumerate(lines[index + 1 :], start=index + 2):
                if re.match(r"^\s*\[", inner):
                    break
                if re.match(r"^\s*\"?" + re.escape(key) + r"\"?\s*=", inner):
                    return offset
            return index + 1
    return None


def _read(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlaybookError(f"{path}: playbook file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(f"{path}: cannot read the playbook ({exc})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlaybookError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise PlaybookError(_too_deep(path)) from None
    _check_depth(path, document)
    return document, text


def _too_deep(path: Path) -> str:
    return (
        f"{path}: tables or lists nested more than {MAX_DEPTH} deep; a playbook needs "
        "three levels at most ([situations.KIND] key = [...])"
    )


def _check_depth(path: Path, document: dict[str, Any]) -> None:
    """Refuse deep nesting here, so merging, checking and messages never recurse too far."""
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PlaybookError(_too_deep(path))
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class _Checker:
    """Validates the merged document; errors point at the file and line that set the field."""

    def __init__(self, files: list[tuple[Path, dict[str, Any], str]]) -> None:
        self.files = files

    def fail(self, table: str, key: str | None, problem: str) -> PlaybookError:
        problem = _one_line(problem)
        for path, document, text in reversed(self.files):  # the last file that set it
            node: Any = document
            for part in table.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict) and (key is None or key in node):
                line = _line_of(text, table, key)
                where = f"{path}, line {line}" if line else str(path)
                name = _one_line(f"[{table}] {key}" if key else f"[{table}]")
                return PlaybookError(f"{where}: {name}: {problem}")
        name = _one_line(f"[{table}] {key}" if key else f"[{table}]")
        return PlaybookError(f"{self.files[-1][0]}: {name}: {problem}")

    def typed(self, table: str, values: Mapping[str, Any], key: str, kind: type) -> Any:
        if key not in values:
            raise self.fail(table, None, f"missing '{key}'")
        value = values[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is int and isinstance(value, bool):
            raise self.fail(table, key, f"expected a whole number, got {value!r}")
        if not isinstance(value, kind):
            expected = {str: "text", int: "a whole number", float: "a number", list: "a list"}
            raise self.fail(table, key, f"expected {expected[kind]}, got {value!r}")
        if kind is float and value != value:  # nan passes every comparison below
            raise self.fail(table, key, "expected a number, got nan")
        if key in MOOD_KEYS and not -1 <= value <= 1:
            raise self.fail(table, key, f"a mood runs from -1 to 1, got {value!r}")
        if kind in (int, float) and key not in MOOD_KEYS and value < 0:
            raise self.fail(table, key, f"must not be negative, got {value!r}")
        return value


def _one_line(text: str) -> str:
    """Keys may hold newlines and other control characters; messages stay one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _matchable(check: _Checker, table: str, key: str, word: str) -> None:
    """The coach matches whole words of a-z, 0-9 and masking characters: a word list entry
    without any of them could never match (and used to crash the coach)."""
    if not split_words(word):
        raise check.fail(
            table, key, f"{word!r} has no letters a-z or digits, so it can never be heard"
        )


def _not_a_table(check: _Checker, name: str) -> PlaybookError:
    """``name = 5`` at the top: merging replaced the table, so the last file with it is wrong."""
    path = next(path for path, document, _ in reversed(check.files) if name in document)
    return PlaybookError(f"{path}: {name}: expected a [{name}] table, not a single value")


def _strings(check: _Checker, table: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise check.fail(table, key, "expected a non-empty list of text")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise check.fail(table, key, f"expected text, got {item!r}")
    return tuple(item.strip() for item in value)


def _build(check: _Checker, document: dict[str, Any]) -> Playbook:
    known_top = {"version", "situations", "lexicon", "flags", "vocabulary"}
    for key in document:
        if key not in known_top:
            raise check.fail(key, None, f"unknown section; expected one of {sorted(known_top)}")
    situations_doc = document.get("situations")
    if not isinstance(situations_doc, dict):
        raise PlaybookError(f"{check.files[-1][0]}: missing the [situations.*] tables")
    situations = {}
    for kind, values in situations_doc.items():
        table = f"situations.{kind}"
        if kind not in KINDS:
            raise check.fail(table, None, f"unknown situation; expected one of {', '.join(KINDS)}")
        if not isinstance(values, dict):
            raise check.fail("situations", kind, "expected a table")
        allowed = COMMON_KEYS | DETECTION_KEYS[kind]
        for key in values:
            if key not in allowed:
                raise check.fail(
                    table, key, f"unknown field; expected one of {', '.join(sorted(allowed))}"
                )
        common = {key: check.typed(table, values, key, kind_) for key, kind_ in COMMON_KEYS.items()}
        phrases = _strings(check, table, "phrases", common["phrases"])
        settings = {
            key: check.typed(table, values, key, kind_)
            for key, kind_ in DETECTION_KEYS[kind].items()
        }
        if not common["cue"].strip():
            raise check.fail(table, "cue", "the cue must not be empty")
        situations[kind] = Situation(
            kind=kind,
            practice=common["practice"],
            priority=common["priority"],
            cue=common["cue"].strip(),
            cooldown_s=common["cooldown_s"],
            expires_s=common["expires_s"],
            phrases=phrases,
            settings=settings,
        )
    missing = [kind for kind in KINDS if kind not in situations]
    if missing:
        raise PlaybookError(f"{check.files[-1][0]}: missing situations: {', '.join(missing)}")

    lexicon_doc = document.get("lexicon", {})
    if not isinstance(lexicon_doc, dict):
        raise _not_a_table(check, "lexicon")
    lexicon = {
        name: tuple(w.lower() for w in _strings(check, "lexicon", name, lexicon_doc.get(name)))
        for name in LEXICON_LISTS
    }
    for name, words in lexicon.items():
        for word in words:
            _matchable(check, "lexicon", name, word)
    jargon_doc = lexicon_doc.get("jargon", {})
    if not isinstance(jargon_doc, dict) or not jargon_doc:
        raise check.fail("lexicon", "jargon", "expected a [lexicon.jargon] table of term = plain")
    jargon = {}
    for term, plain in jargon_doc.items():
        if not isinstance(plain, str) or not plain.strip():
            raise check.fail("lexicon.jargon", term, "expected the plain words as text")
        _matchable(check, "lexicon.jargon", term, term)
        jargon[term.lower()] = plain.strip()
    for key in lexicon_doc:
        if key not in (*LEXICON_LISTS, "jargon"):
            raise check.fail("lexicon", key, "unknown word list")

    flags_doc = document.get("flags", {})
    if not isinstance(flags_doc, dict):
        raise _not_a_table(check, "flags")
    flags = {key: check.typed("flags", flags_doc, key, kind_) for key, kind_ in FLAG_KEYS.items()}
    sources = tuple(p for p, _, _ in check.files)
    vocabulary = _vocabulary(check, document.get("vocabulary", {}))
    return Playbook(situations, lexicon, jargon, flags, sources, vocabulary)


def _vocabulary(check: _Checker, table: Any) -> tuple[str, ...]:
    """``[vocabulary] terms = ["Okta", "GlobalProtect", …]``: product names, internal
    systems, the company's name. Speech-to-text is biased towards them."""
    if not isinstance(table, dict):
        raise _not_a_table(check, "vocabulary")
    for key in table:
        if key != "terms":
            raise check.fail("vocabulary", key, "unknown field; expected 'terms'")
    terms = table.get("terms", [])
    if not isinstance(terms, list):
        raise check.fail("vocabulary", "terms", f"expected a list of text, got {terms!r}")
    if len(terms) > MAX_VOCABULARY_TERMS:
        raise check.fail(
            "vocabulary", "terms",
            f"{len(terms)} terms; at most {MAX_VOCABULARY_TERMS} reach speech-to-text — keep "
            "the names callers say most and that it gets wrong",
        )  # fmt: skip
    for term in terms:
        if not isinstance(term, str) or not term.strip():
            raise check.fail("vocabulary", "terms", f"expected text, got {term!r}")
        if len(term.strip()) > MAX_TERM_CHARS or "\n" in term:
            raise check.fail(
                "vocabulary", "terms", f"{term[:60]!r}: one name per entry, at most "
                f"{MAX_TERM_CHARS} characters"
            )  # fmt: skip
    return tuple(dict.fromkeys(term.strip() for term in terms))


def load_playbook(override: Path | None = None, default: Path | None = None) -> Playbook:
    """The default playbook with ``override`` merged over it; raises :class:`PlaybookError`."""
    files = [(default or default_playbook_path(), *_read(default or default_playbook_path()))]
    merged = files[0][1]
    if override is not None:
        document, text = _read(override)
        files.append((override, document, text))
        merged = _merge(merged, document)
    return _build(_Checker(files), merged)


class PlaybookSource:
    """Keeps the last good playbook: reloading a broken file reports the error and goes on
    with what was loaded before."""

    def __init__(self, override: Path | None = None, default: Path | None = None) -> None:
        self.override = override
        self.default = default
        self.error: str | None = None
        self.playbook = load_playbook(None, default)
        self.reload()

    def reload(self) -> Playbook:
        try:
            self.playbook = load_playbook(
                self.override if self.override and self.override.exists() else None, self.default
            )
            self.error = None
        except PlaybookError as exc:
            self.error = f"{exc} — still using the last good playbook"
        return self.playbook
