"""Client sentiment at run time: negative, neutral or positive for each utterance.

Two engines behind one protocol:

* :class:`OnnxSentimentModel` — the shipped model (int8 ONNX + ``tokenizer.json``), run with
  onnxruntime and the ``tokenizers`` library only; no torch or transformers import.
* :class:`TransformersSentimentModel` — any local transformers text-classification folder the
  user points at. Its labels are mapped onto ours (see :func:`map_labels`).

:func:`load_sentiment_model` picks the engine from what the folder holds. It never downloads
anything; missing, partial or corrupt files raise :class:`~models.errors.ModelError` naming the
file, what was expected and how to fix it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from models.errors import ModelError

LABELS = ("negative", "neutral", "positive")
CONFIG_NAME = "calmline-sentiment.json"
DEFAULT_MODEL_NAME = "calmline-sentiment-minilm"
# A binary negative/positive model says "neutral" when neither side reaches this probability.
BINARY_NEUTRAL_BELOW = 0.75

_RETRAIN_HINT = (
    "reinstall Calmline, or rebuild the model with "
    "`python -m models.training.train resources/sentiment/calmline-sentiment-minilm`"
)
_NAMED_LABELS = {
    "negative": "negative",
    "neg": "negative",
    "very negative": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "positive": "positive",
    "pos": "positive",
    "very positive": "positive",
}
_STARS = re.compile(r"^([1-5])\s*stars?$")
_GENERIC = re.compile(r"^label_(\d+)$")


@dataclass(frozen=True)
class Sentiment:
    label: str  # one of LABELS
    scores: dict[str, float]  # probability per label, summing to 1

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "scores": {name: round(score, 4) for name, score in self.scores.items()},
        }


class SentimentModel(Protocol):
    def classify(self, texts: Sequence[str]) -> list[Sentiment]: ...

    def describe(self) -> dict[str, Any]: ...


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _sentiment(scores: Mapping[str, float]) -> Sentiment:
    ordered = {label: float(scores[label]) for label in LABELS}
    return Sentiment(max(ordered, key=ordered.__getitem__), ordered)


def default_model_dir() -> Path:
    """Where the shipped model lives: ``resources/sentiment/calmline-sentiment-minilm``."""
    return Path(str(resources.files("resources"))) / "sentiment" / DEFAULT_MODEL_NAME


def _require_file(folder: Path, name: str, expected: str, fix: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise ModelError(f"sentiment model file missing: {path} (expected {expected}); {fix}")
    return path


class OnnxSentimentModel:
    """The Calmline ONNX format: ``model.onnx``, ``tokenizer.json``, ``calmline-sentiment.json``."""

    def __init__(self, folder: Path, threads: int = 2, fix: str = _RETRAIN_HINT) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.threads = threads
        config_path = _require_file(
            self.folder, CONFIG_NAME, "the model's labels and max_length as JSON", fix
        )
        model_path = _require_file(self.folder, "model.onnx", "an ONNX text classifier", fix)
        tokenizer_path = _require_file(
            self.folder, "tokenizer.json", "the Hugging Face tokenizers file", fix
        )
        try:
            self.config = json.loads(config_path.read_text(encoding="utf-8"))
            self.labels = tuple(self.config["labels"])
            self.max_length = int(self.config["max_length"])
            self.logit_bias = [float(b) for b in self.config.get("logit_bias", [0.0] * 3)]
        except (ValueError, KeyError, TypeError) as error:
            raise ModelError(
                f"sentiment model config unreadable: {config_path} ({error}); expected JSON with "
                f'"labels" and "max_length"; {fix}'
            ) from None
        if len(self.logit_bias) != len(self.labels):
            raise ModelError(
                f"sentiment model config {config_path}: logit_bias has {len(self.logit_bias)} "
                f"values for {len(self.labels)} labels; {fix}"
            )
        if sorted(self.labels) != sorted(LABELS):
            raise ModelError(
                f"sentiment model config {config_path} has labels {list(self.labels)}; expected "
                f"the three labels {list(LABELS)} in any order; {fix}"
            )
        try:
            self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as error:
            raise ModelError(
                f"sentiment tokenizer unreadable: {tokenizer_path} ({error}); expected a Hugging "
                f"Face tokenizers JSON file; {fix}"
            ) from None
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:
            raise ModelError(
                f"sentiment model unreadable: {model_path} ({str(error).splitlines()[0]}); the "
                f"file is truncated or not an ONNX model; {fix}"
            ) from None
        input_names = {node.name for node in self.session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= input_names:
            raise ModelError(
                f"sentiment model {model_path} takes inputs {sorted(input_names)}; expected "
                f"input_ids and attention_mask; {fix}"
            )
        self._needs_token_types = "token_type_ids" in input_names

    def classify(self, texts: Sequence[str]) -> list[Sentiment]:
        if not texts:
            return []
        encodings = self.tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
        if self._needs_token_types:
            feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
        (logits,) = self.session.run(["logits"], feeds)
        probabilities = _softmax(logits.astype(np.float64) + np.array(self.logit_bias))
        return [_sentiment(dict(zip(self.labels, row, strict=True))) for row in probabilities]

    def describe(self) -> dict[str, Any]:
        return {
            "engine": "onnxruntime",
            "name": self.config.get("name", self.folder.name),
            "path": str(self.folder),
            "labels": list(self.labels),
            "max_length": self.max_length,
            "logit_bias": self.logit_bias,
            "threads": self.threads,
            "model_bytes": (self.folder / "model.onnx").stat().st_size,
        }


def map_labels(id2label: Mapping[int, str]) -> dict[int, str]:
    """Map a foreign model's class ids onto negative/neutral/positive; ModelError if impossible.

    Understood: names such as negative/neg/neutral/neu/positive/pos (any case, "very negative"
    counts as negative); ``LABEL_0/1/2`` only for three-label models (the cardiffnlp order
    negative, neutral, positive); "1 star" … "5 stars" (1–2 negative, 3 neutral, 4–5 positive).
    A binary negative/positive model has no neutral class: see :func:`_binary_scores`.
    """
    names = {int(index): str(name).strip().lower() for index, name in id2label.items()}
    mapping: dict[int, str] = {}
    for index, name in names.items():
        if name in _NAMED_LABELS:
            mapping[index] = _NAMED_LABELS[name]
        elif stars := _STARS.match(name):
            mapping[index] = LABELS[min(2, max(0, int(stars.group(1)) - 2))]
        elif (generic := _GENERIC.match(name)) and len(names) == 3 and int(generic.group(1)) < 3:
            mapping[index] = LABELS[int(generic.group(1))]
    found = set(mapping.values())
    unmapped = [names[index] for index in names if index not in mapping]
    if unmapped or not ({"negative", "positive"} <= found):
        raise ModelError(
            f"cannot map the model's labels {sorted(names.values())} onto {list(LABELS)}: "
            f"unknown {unmapped or 'none'}, found {sorted(found)}. Expected names like "
            "negative/neutral/positive, neg/neu/pos, LABEL_0..2 (3-label models) or 1..5 stars; "
            "fix the id2label entry of the model's config.json"
        )
    return mapping


def _binary_scores(negative: float, positive: float) -> dict[str, float]:
    """Scores for a model with no neutral class: neutral takes what the two sides leave open.

    neutral = 1 − |p(positive) − p(negative)|, the winning side keeps the difference; so the
    label is neutral exactly when neither side reaches :data:`BINARY_NEUTRAL_BELOW` (75 %).
    """
    difference = positive - negative
    return {
        "negative": max(0.0, -difference),
        "neutral": 1.0 - abs(difference),
        "positive": max(0.0, difference),
    }


class TransformersSentimentModel:
    """A local transformers text-classification folder (``config.json`` + weights)."""

    def __init__(self, folder: Path, threads: int = 2) -> None:
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as error:
            raise ModelError(
                f"{folder} is a transformers model, which needs the training extra "
                f"({error.name} is not installed): pip install 'calmline[train]'; or use "
                "Calmline's own model (--sentiment-model default)"
            ) from None

        self.folder = Path(folder)
        self.threads = threads
        torch.set_num_threads(threads)
        fix = "point Calmline at a complete local transformers text-classification folder"
        config_path = _require_file(self.folder, "config.json", "a transformers config", fix)
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ModelError(f"config unreadable: {config_path} ({error}); {fix}") from None
        self.label_of_id = map_labels(config.get("id2label") or {})
        self.binary = set(self.label_of_id.values()) == {"negative", "positive"}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder), local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                str(self.folder), local_files_only=True
            ).eval()
        except Exception as error:
            raise ModelError(
                f"transformers model in {self.folder} could not be loaded "
                f"({str(error).splitlines()[0]}); expected config.json, the weights "
                "(model.safetensors or pytorch_model.bin) and tokenizer files; " + fix
            ) from None
        self._torch = torch

    def classify(self, texts: Sequence[str]) -> list[Sentiment]:
        if not texts:
            return []
        encoded = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt"
        )
        with self._torch.inference_mode():
            logits = self.model(**encoded).logits.double().numpy()
        results = []
        for row in _softmax(logits):
            grouped = dict.fromkeys(LABELS, 0.0)
            for index, probability in enumerate(row):
                grouped[self.label_of_id[index]] += float(probability)
            if self.binary:
                grouped = _binary_scores(grouped["negative"], grouped["positive"])
            results.append(_sentiment(grouped))
        return results

    def describe(self) -> dict[str, Any]:
        return {
            "engine": "transformers",
            "name": self.folder.name,
            "path": str(self.folder),
            "labels": {str(index): label for index, label in self.label_of_id.items()},
            "binary": self.binary,
            "threads": self.threads,
        }


def load_sentiment_model(spec: str | Path | None = None, threads: int = 2) -> SentimentModel:
    """The shipped model (None or "default"), or a local folder: ONNX if it holds model.onnx,
    transformers if it holds config.json. Never downloads."""
    if spec is None or str(spec) == "default":
        folder = default_model_dir()
        if not folder.is_dir():
            raise ModelError(
                f"the shipped sentiment model folder is missing: {folder}; " + _RETRAIN_HINT
            )
        return OnnxSentimentModel(folder, threads)
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        raise ModelError(
            f"sentiment model folder not found: {folder}; expected a local folder holding "
            "model.onnx (Calmline ONNX format) or config.json (transformers); models are never "
            'downloaded, so pass an existing folder or "default"'
        )
    fix = f"re-copy or re-export the model into {folder}"
    if (folder / "model.onnx").exists():
        return OnnxSentimentModel(folder, threads, fix=fix)
    if (folder / "config.json").exists():
        return TransformersSentimentModel(folder, threads)
    raise ModelError(
        f"sentiment model file missing: {folder / 'model.onnx'} (and no config.json either); "
        "expected a Calmline ONNX folder (model.onnx, tokenizer.json, calmline-sentiment.json) or "
        "a transformers text-classification folder (config.json, weights, tokenizer)"
    )
