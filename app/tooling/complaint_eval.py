"""How the client's mood reads complaints: the sentiment model alone, and with the
playbook's complaint phrases (app/coaching/mood.py ``complaint_style``), on a set of spoken
complaint-style lines kept out of training and out of the lexicon's writing
(``resources/sentiment/complaint_lines.tsv``), and on the call-centre lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.coaching.mood import SentimentScorer, complaint_style
from app.coaching.playbook import Playbook
from app.coaching.wording import PhraseList
from app.paths import resources_dir
from models.sentiment import LABELS
from models.training.data import callcentre_lines, labelled_lines

COMPLAINT_LINES = resources_dir() / "sentiment" / "complaint_lines.tsv"
CALLCENTRE_LINES = resources_dir() / "sentiment" / "callcentre_lines.tsv"


@dataclass(frozen=True)
class Line:
    label: str
    text: str


@dataclass
class SetScore:
    name: str
    lines: int
    before: dict[str, tuple[int, int]]  # label → (right, of)
    after: dict[str, tuple[int, int]]
    changed: list[tuple[str, str, str]]  # (text, before, after) where the label changed


def load_complaint_lines(path: Path = COMPLAINT_LINES) -> list[Line]:
    return [Line(label, text) for text, label in labelled_lines(path)]


def load_callcentre_lines(path: Path = CALLCENTRE_LINES) -> list[Line]:
    """The call-centre lines, read by the sentiment evaluation's own reader (stdlib only)."""
    return [Line(label, text) for text, label in callcentre_lines(path)]


def score_set(
    name: str, lines: Sequence[Line], scorer: SentimentScorer, playbook: Playbook
) -> SetScore:
    complaints = PhraseList(playbook.lexicon.get("complaint", ()))
    model = [s.to_json() for s in scorer.classify([line.text for line in lines])]
    before = {label: [0, 0] for label in LABELS}
    after = {label: [0, 0] for label in LABELS}
    changed = []
    for line, sentiment in zip(lines, model, strict=True):
        adjusted = complaint_style(sentiment, line.text, complaints)
        for tally, result in ((before, sentiment), (after, adjusted)):
            tally[line.label][1] += 1
            tally[line.label][0] += result["label"] == line.label
        if adjusted["label"] != sentiment["label"]:
            changed.append((line.text, sentiment["label"], adjusted["label"]))
    return SetScore(
        name,
        len(lines),
        {k: (v[0], v[1]) for k, v in before.items() if v[1]},
        {k: (v[0], v[1]) for k, v in after.items() if v[1]},
        changed,
    )


def macro_recall(tally: dict[str, tuple[int, int]]) -> float:
    return sum(right / of for right, of in tally.values()) / len(tally)


def format_scores(scores: Sequence[SetScore]) -> str:
    lines = []
    for score in scores:
        lines += [f"{score.name} ({score.lines} lines)",
                  f"  {'label':<9} {'model alone':>14} {'with complaint phrases':>24}"]  # fmt: skip
        for label in score.before:
            b, a = score.before[label], score.after[label]
            lines.append(
                f"  {label:<9} {b[0]:>4}/{b[1]:<3} {b[0] / b[1]:.2f} {a[0]:>12}/{a[1]:<3} "
                f"{a[0] / a[1]:.2f}"
            )
        lines.append(
            f"  macro-recall {macro_recall(score.before):.3f} → {macro_recall(score.after):.3f}"
        )
        for text, was, now in score.changed:
            lines.append(f"    {was} → {now}: {text}")
        lines.append("")
    return "\n".join(lines)
