"""Evaluate a sentiment model: accuracy on public sets and our call-centre lines, speed, memory.

Every utterance is classified on its own (batch of one), as in a live call; this also keeps the
int8 model's dynamic activation quantisation independent of what else is in a batch.

Run: ``python -m models.training.evaluate [MODEL] [--data-dir ...] [--write-metrics]`` where MODEL
is "default" (the shipped model) or a local folder.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from models.sentiment import CONFIG_NAME, LABELS, SentimentModel, load_sentiment_model
from models.training.data import (
    Example,
    callcentre_lines,
    goemotions_group,
    meld_test,
    spoken_style,
    sst2_dev,
    tweeteval_test,
)

CALLCENTRE_LINES = Path(str(resources.files("resources"))) / "sentiment"
LATENCY_WARMUP = 10


@dataclass(frozen=True)
class EvaluationRow:
    dataset: str
    metric: str
    value: float
    examples: int
    note: str = ""


def _predict(model: SentimentModel, texts: Sequence[str]) -> list[dict[str, float]]:
    return [model.classify([text])[0].scores for text in texts]


def _labels(scores: Sequence[dict[str, float]]) -> list[str]:
    return [max(row, key=row.__getitem__) for row in scores]


def macro_recall(gold: Sequence[str], predicted: Sequence[str]) -> tuple[float, dict[str, float]]:
    """Mean over the labels present in ``gold`` of the share of that label found (percent)."""
    recalls = {}
    for label in LABELS:
        positions = [i for i, truth in enumerate(gold) if truth == label]
        if positions:
            hits = sum(predicted[i] == label for i in positions)
            recalls[label] = 100.0 * hits / len(positions)
    return statistics.fmean(recalls.values()), recalls


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return 100.0 * sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def _three_class_rows(
    model: SentimentModel, name: str, examples: Sequence[Example]
) -> list[EvaluationRow]:
    gold = [label for _, label in examples]
    predicted = _labels(_predict(model, [text for text, _ in examples]))
    recall, per_label = macro_recall(gold, predicted)
    note = " ".join(f"{label[:3]} {value:.1f}" for label, value in per_label.items())
    return [
        EvaluationRow(name, "macro-recall %", recall, len(gold), f"recall: {note}"),
        EvaluationRow(name, "accuracy %", accuracy(gold, predicted), len(gold)),
    ]


def _sst2_row(model: SentimentModel, data_dir: Path) -> EvaluationRow:
    examples = sst2_dev(data_dir)
    scores = _predict(model, [example.text for example in examples])
    predicted = ["positive" if row["positive"] > row["negative"] else "negative" for row in scores]
    gold = [example.label for example in examples]
    return EvaluationRow(
        "SST-2 dev (binary)",
        "accuracy %",
        accuracy(gold, predicted),
        len(gold),
        "argmax over negative/positive only",
    )


def _latency_rows(model: SentimentModel, texts: Sequence[str]) -> list[EvaluationRow]:
    for text in texts[:LATENCY_WARMUP]:
        model.classify([text])
    timings = []
    for text in texts:
        started = time.perf_counter()
        model.classify([text])
        timings.append(1000.0 * (time.perf_counter() - started))
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    note = "one utterance at a time, call-centre lines"
    return [
        EvaluationRow("latency", "median ms", statistics.median(timings), len(timings), note),
        EvaluationRow("latency", "p95 ms", p95, len(timings), note),
    ]


def process_memory_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB."""
    status = Path("/proc/self/status")
    if status.exists():
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        current, peak = (int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))
        return current, peak
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak, peak


def evaluate(
    model: SentimentModel,
    data_dir: Path,
    resources_dir: Path = CALLCENTRE_LINES,
    log: Callable[[str], None] = lambda _: None,
) -> list[EvaluationRow]:
    """Accuracy rows for every evaluation set, then latency rows."""
    data_dir = Path(data_dir)
    lines = callcentre_lines(Path(resources_dir) / "callcentre_lines.tsv")
    spoken_lines = [(spoken_style(text), label) for text, label in lines]
    rows: list[EvaluationRow] = []
    three_class_sets: list[tuple[str, Callable[[], Sequence[Example]]]] = [
        ("TweetEval test", lambda: tweeteval_test(data_dir)),
        ("GoEmotions-group test", lambda: goemotions_group(data_dir, "test")),
        ("MELD test (eval only)", lambda: meld_test(data_dir)),
        ("call-centre lines, punctuated", lambda: lines),
        ("call-centre lines, spoken-style", lambda: spoken_lines),
    ]
    for name, load in three_class_sets:
        log(f"evaluating {name} …")
        rows.extend(_three_class_rows(model, name, load()))
    log("evaluating SST-2 dev …")
    rows.append(_sst2_row(model, data_dir))
    rows.extend(_latency_rows(model, [text for text, _ in lines + spoken_lines]))
    return rows


def load_and_evaluate(
    spec: str | Path | None,
    data_dir: Path,
    threads: int = 2,
    resources_dir: Path = CALLCENTRE_LINES,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[SentimentModel, list[EvaluationRow]]:
    """Load the model (timed, with the memory it takes), then :func:`evaluate` it."""
    before, _ = process_memory_mb()
    started = time.perf_counter()
    model = load_sentiment_model(spec, threads=threads)
    load_seconds = time.perf_counter() - started
    after_load, _ = process_memory_mb()
    rows = evaluate(model, data_dir, resources_dir, log)
    _, peak = process_memory_mb()
    rows += [
        EvaluationRow("load", "seconds", load_seconds, 1, f"{threads} threads"),
        EvaluationRow("memory", "RSS after load MB", after_load, 1, f"{before:.0f} MB before load"),
        EvaluationRow("memory", "peak RSS MB", peak, 1, "whole evaluation, data included"),
    ]
    return model, rows


def format_table(rows: Sequence[EvaluationRow]) -> str:
    header = f"{'dataset':34} {'metric':18} {'value':>8} {'n':>6}  note"
    lines = [header, "-" * len(header)]
    lines += [
        f"{row.dataset:34} {row.metric:18} {row.value:8.2f} {row.examples:6d}  {row.note}"
        for row in rows
    ]
    return "\n".join(lines)


def write_metrics(model_dir: Path, rows: Sequence[EvaluationRow]) -> None:
    """Record the rows under "metrics" in the model folder's calmline-sentiment.json."""
    path = Path(model_dir) / CONFIG_NAME
    config = json.loads(path.read_text(encoding="utf-8"))
    config["metrics"] = {
        f"{row.dataset} | {row.metric}": {**asdict(row), "value": round(row.value, 2)}
        for row in rows
    }
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default="default", help='"default" or a local folder')
    parser.add_argument("--data-dir", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument(
        "--write-metrics", action="store_true", help="store the rows in the model's config JSON"
    )
    args = parser.parse_args(argv)
    model, rows = load_and_evaluate(
        args.model, args.data_dir, args.threads, log=lambda message: print(message, flush=True)
    )
    print(json.dumps(model.describe()))
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n")
    if args.write_metrics:
        write_metrics(Path(model.describe()["path"]), rows)


if __name__ == "__main__":
    main()
