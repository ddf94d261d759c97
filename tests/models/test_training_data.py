"""Our own sentiment training lines: well-formed, and kept apart from the evaluation sets."""

from __future__ import annotations

import difflib
import re
from collections import Counter

import pytest

from app.tooling.complaint_eval import CALLCENTRE_LINES, COMPLAINT_LINES
from models.training.data import LABELS, callcentre_lines, labelled_lines
from models.training.train import SUPPORT_CALM_LINES, SUPPORT_LINES, adaptation_examples


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def _four_grams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + 4]) for i in range(len(words) - 3)}


def test_the_support_lines_cover_every_label_without_repeats():
    lines = labelled_lines(SUPPORT_LINES) + labelled_lines(SUPPORT_CALM_LINES)
    counts = Counter(label for _, label in lines)
    assert all(counts[label] >= 100 for label in LABELS)
    assert counts["negative"] >= 500  # complaints are what the model has to learn
    texts = [" ".join(_words(text)) for text, _ in lines]
    assert len(set(texts)) == len(texts)


def test_no_training_line_is_close_to_an_evaluation_line():
    evaluation = [text for text, _ in labelled_lines(COMPLAINT_LINES)]
    evaluation += [text for text, _ in callcentre_lines(CALLCENTRE_LINES)]
    held_out = [(_words(text), _four_grams(_words(text))) for text in evaluation]
    close = []
    for text, _ in labelled_lines(SUPPORT_LINES) + labelled_lines(SUPPORT_CALM_LINES):
        words = _words(text)
        grams = _four_grams(words)
        matcher = difflib.SequenceMatcher(None, words)
        for other, other_grams in held_out:
            matcher.set_seq1(other)
            if len(grams & other_grams) >= 2 or (
                matcher.real_quick_ratio() > 0.6 and matcher.ratio() > 0.6
            ):
                close.append((text, " ".join(other)))
    assert close == []


def test_a_malformed_line_names_its_place(tmp_path):
    path = tmp_path / "lines.tsv"
    path.write_text("label\ttext\nnegative\tIt is still broken.\nangry\tWhat now?\n")
    with pytest.raises(ValueError, match=r"lines.tsv:3: expected negative\|neutral\|positive"):
        labelled_lines(path)


def test_the_adaptation_mix_holds_every_support_line_and_a_replay_of_the_first_stage():
    support = labelled_lines(SUPPORT_LINES) + labelled_lines(SUPPORT_CALM_LINES)
    first_stage = [(f"tweet number {i}", LABELS[i % 3]) for i in range(20_000)]
    mixed, is_replay, summary = adaptation_examples(first_stage, seed=13, repeats=2, replay=2)
    replayed = [example for example in mixed if example[0].startswith("tweet number")]
    assert len(replayed) == summary["first_stage_replayed"] == 2 * 2 * len(support)
    assert [e for e, r in zip(mixed, is_replay, strict=True) if r] == replayed
    assert len(mixed) == summary["examples_trained"] == 3 * 2 * len(support)
    spoken = {" ".join(_words(text)) for text, _ in mixed}
    assert all(" ".join(_words(text)) in spoken for text, _ in support)
    assert adaptation_examples(first_stage, seed=13, repeats=2, replay=2)[0] == mixed
    assert adaptation_examples(first_stage, seed=14, repeats=2, replay=2)[0] != mixed
