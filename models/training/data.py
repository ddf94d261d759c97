"""Sentiment data: training and evaluation sets read in place from the shared data folder.

Every loader returns plain ``(text, label)`` pairs with labels from :data:`LABELS`. Nothing is
copied into the repository. Licences and provenance are in ``SOURCES.md`` of the data folder.

* Training: SemEval-2017 Task 4A English tweets cleaned the way TweetEval did it, the
  GoEmotions sentiment groups (Apache-2.0), and our own support-call client lines
  (``resources/sentiment/support_training_lines.tsv``: complaints as a support line hears them).
* Evaluation only: TweetEval test, SST-2 dev (binary), GoEmotions group test, MELD test
  (GPL-3.0: never trained on), our own call-centre lines and complaint set.
"""

from __future__ import annotations

import csv
import html
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

LABELS = ("negative", "neutral", "positive")

Example = tuple[str, str]  # (text, label)

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_NOT_SPOKEN = re.compile(r"[^a-z0-9' ]")
_STRAY_APOSTROPHE = re.compile(r"(?<![a-z0-9])'|'(?![a-z0-9])")


@dataclass(frozen=True)
class BinaryExample:
    """An SST-2 sentence: only negative or positive."""

    text: str
    label: str  # "negative" or "positive"


def _require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(
            f"sentiment data file missing: {path} (the shared data folder is described in "
            "SOURCES.md; pass its location as data_dir)"
        )
    return path


def _lines(path: Path) -> list[str]:
    return _require(path).read_text(encoding="utf-8").splitlines()


def clean_tweet(text: str) -> str:
    """TweetEval-style cleaning: decode escapes and entities, @name → @user, no URLs."""
    text = _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    text = html.unescape(text)
    text = text.strip().strip('"').strip()
    text = _MENTION.sub("@user", text)
    text = _URL.sub("", text)
    return _SPACES.sub(" ", text).strip()


def spoken_style(text: str) -> str:
    """What a transcript looks like: lower case, no punctuation, emoji, hashtags, @user or URLs.

    Same character set as the transcript normaliser used for word error rate
    (letters, digits, in-word apostrophes).
    """
    text = _URL.sub(" ", text.lower())
    text = _MENTION.sub(" ", text)
    text = _NOT_SPOKEN.sub(" ", text.replace("’", "'"))
    text = _STRAY_APOSTROPHE.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def _tweeteval_texts(data_dir: Path) -> set[str]:
    folder = data_dir / "sentiment" / "tweeteval"
    texts = set()
    for split in ("val", "test"):
        texts.update(clean_tweet(line) for line in _lines(folder / f"{split}_text.txt"))
    return texts


def semeval_train(data_dir: Path) -> list[Example]:
    """SemEval-2017 4A English training tweets (2013–2016), cleaned TweetEval-style (≈47k).

    Duplicate texts keep their first label; texts in TweetEval val or test are dropped.
    """
    folder = data_dir / "sentiment" / "semeval2017_task4a"
    files = sorted(folder.glob("twitter-*-A.tsv"))
    if not files:
        raise FileNotFoundError(f"no SemEval-2017 4A files (twitter-*-A.tsv) in {folder}")
    held_out = _tweeteval_texts(data_dir)
    seen: set[str] = set()
    examples = []
    for path in files:
        for line in _lines(path):
            fields = line.split("\t")
            if len(fields) < 3 or fields[1] not in LABELS:
                continue
            text = clean_tweet("\t".join(fields[2:]))
            if not text or text == "Not Available" or text in seen or text in held_out:
                continue
            seen.add(text)
            examples.append((text, fields[1]))
    return examples


def goemotions_group(data_dir: Path, split: str) -> list[Example]:
    """GoEmotions Reddit comments in sentiment groups; ambiguous and conflicting rows dropped."""
    folder = data_dir / "sentiment" / "goemotions_group"
    names = [name.strip() for name in _lines(folder / "labels.txt") if name.strip()]
    examples = []
    for line in _lines(folder / f"{split}.tsv"):
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        groups = {names[int(index)] for index in fields[1].split(",")}
        if len(groups) == 1 and (label := groups.pop()) in LABELS:
            examples.append((fields[0].strip(), label))
    return examples


def tweeteval_split(data_dir: Path, split: str) -> list[Example]:
    """A TweetEval sentiment split: "val" (2,000 tweets) or "test" (12,284)."""
    folder = data_dir / "sentiment" / "tweeteval"
    mapping = dict(line.split("\t") for line in _lines(folder / "mapping.txt") if line.strip())
    texts = _lines(folder / f"{split}_text.txt")
    labels = [mapping[line.strip()] for line in _lines(folder / f"{split}_labels.txt")]
    if len(texts) != len(labels):
        raise ValueError(f"TweetEval {split}: {len(texts)} texts but {len(labels)} labels")
    return [(text.strip(), label) for text, label in zip(texts, labels, strict=True)]


def tweeteval_test(data_dir: Path) -> list[Example]:
    """TweetEval sentiment test (12,284 tweets); its official metric is macro-recall."""
    return tweeteval_split(data_dir, "test")


def sst2_dev(data_dir: Path) -> list[BinaryExample]:
    """SST-2 dev (872 movie-review sentences, negative/positive). Licence unclear: eval only."""
    rows = _lines(data_dir / "sentiment" / "sst2" / "dev.tsv")[1:]
    examples = []
    for row in rows:
        sentence, label = row.rstrip("\r").rsplit("\t", 1)
        examples.append(BinaryExample(sentence, "positive" if label == "1" else "negative"))
    return examples


def meld_test(data_dir: Path) -> list[Example]:
    """MELD test utterances (Friends dialogue). GPL-3.0: evaluation only, never trained on."""
    path = _require(data_dir / "sentiment" / "meld" / "test_sent_emo.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (row["Utterance"].replace("’", "'").strip(), row["Sentiment"])
        for row in rows
        if row["Sentiment"] in LABELS
    ]


def callcentre_lines(path: Path) -> list[Example]:
    """Our own call-centre client lines: ``text<TAB>label`` per line, ``#`` starts a comment."""
    return _our_lines(path, label_first=False)


def labelled_lines(path: Path) -> list[Example]:
    """Our own lines written ``label<TAB>text``, after a ``label<TAB>text`` header; ``#``
    starts a comment."""
    return _our_lines(path, label_first=True)


def _our_lines(path: Path, label_first: bool) -> list[Example]:
    labels = "negative|neutral|positive"
    shape = f"{labels}<TAB>text" if label_first else f"text<TAB>{labels}"
    examples = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip() or line.startswith("#") or (label_first and line == "label\ttext"):
            continue
        if label_first:
            label, _, text = line.partition("\t")
        else:
            text, _, label = line.rpartition("\t")
        if label not in LABELS or not text.strip():
            raise ValueError(f"{path}:{number}: expected {shape}")
        examples.append((text.strip(), label))
    return examples


def with_spoken_style(examples: Iterable[Example], probability: float, seed: int) -> list[Example]:
    """Each example rewritten spoken-style with the given probability (seeded, reproducible).

    Examples that would become empty (a tweet of only emoji or a URL) stay as written.
    """
    chooser = random.Random(seed)
    mixed = []
    for text, label in examples:
        if chooser.random() < probability and (spoken := spoken_style(text)):
            text = spoken
        mixed.append((text, label))
    return mixed


def subsample(examples: Sequence[Example], count: int | None, seed: int) -> list[Example]:
    """A seeded random subset of ``count`` examples (all, shuffled, if ``count`` is None)."""
    chosen = list(examples)
    random.Random(seed).shuffle(chosen)
    return chosen if count is None else chosen[:count]


def label_counts(examples: Iterable[Example]) -> dict[str, int]:
    counts = Counter(label for _, label in examples)
    return {label: counts.get(label, 0) for label in LABELS}
