"""What a call was about in a few words, for the follow-up e-mail's "regarding the VPN and
e-mail problem you had today"."""

from __future__ import annotations

import re

from app.events import Summary

# The things IT-support calls are about, as the e-mail names them; the first two the client
# mentions make the topic.
TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("VPN", r"\bvpn\b"),
        ("e-mail", r"\b(?:e-?mails?|outlook|inbox|mailbox|outbox)\b"),
        ("printer", r"\bprint(?:er|ing|s)?\b"),
        ("Wi-Fi", r"\b(?:wi-?fi|wireless)\b"),
        ("Teams", r"\bteams\b"),
        ("password", r"\bpasswords?\b"),
        (
            "sign-in",
            r"\b(?:sign(?:ing)? in|log(?:ging)? in|locked out|account is locked|"
            r"authenticator|codes?)\b",
        ),
        ("shared drive", r"\b(?:shared drive|drive|folder)\b"),
        ("laptop", r"\blaptop\b"),
        ("computer", r"\b(?:computer|pc)\b"),
        ("screen", r"\b(?<!blue )(?:monitor|screen|display)\b"),
        ("website", r"\b(?:web ?site|site|portal)\b"),
        ("software install", r"\b(?:install\w*|software)\b"),
        ("headset", r"\b(?:headset|headphones|microphone|speakers)\b"),
        ("phone", r"\bphone\b"),
    )
)


def topic_words(summary: Summary, limit: int = 2) -> list[str]:
    """The things the client's problem was about, in the order they named them."""
    text = " ".join(item.text for item in summary.reason)
    found = sorted(
        ((match.start(), name) for name, pattern in TOPICS if (match := pattern.search(text))),
    )
    names: list[str] = []
    for _, name in found:
        if name not in names:
            names.append(name)
    return names[:limit]


def issue_phrase(summary: Summary | None) -> str:
    """``the VPN and e-mail problem``; ``the issue`` when the note names nothing known."""
    words = topic_words(summary) if summary is not None else []
    if not words:
        return "the issue"
    return f"the {' and '.join(words)} problem"
