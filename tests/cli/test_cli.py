"""The command-line contract: JSON shape, exit codes, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from support import REPO
from support.speech import silence, speak, write_stereo


def calmline(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_bad_input(result: subprocess.CompletedProcess, *phrases: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("calmline: error: "), result.stderr
    for phrase in phrases:
        assert phrase in result.stderr


@pytest.fixture(scope="module")
def call_file(tmp_path_factory) -> Path:
    agent = np.concatenate([silence(0.4), speak("Good morning, how can I help you?"), silence(3)])
    client = np.concatenate(
        [silence(2.8), speak("My printer is not working again.", "en-us+f3"), silence(1)]
    )
    return write_stereo(tmp_path_factory.mktemp("call") / "call.wav", agent, client)


def check_contract(document: dict) -> None:
    assert set(document) >= {
        "calmline", "model", "sentiment_model", "duration_s", "segments", "mood", "cues", "flags"
    }  # fmt: skip
    ids_known = {s["id"] for s in document["segments"]}
    for cue in document["cues"]:
        assert set(cue) == {"t", "kind", "message", "phrases", "segment_id"}
        assert cue["segment_id"] is None or cue["segment_id"] in ids_known
        assert cue["message"] and cue["phrases"]
    for flag in document["flags"]:
        assert set(flag) == {"t", "kind", "excerpt", "segment_id"}
        assert flag["kind"] in ("abusive_language", "manager_request", "sustained_negative")
    assert document["model"]["name"] == "tiny.en"
    ids = [s["id"] for s in document["segments"]]
    assert len(ids) == len(set(ids))
    for segment in document["segments"]:
        assert segment["speaker"] in ("agent", "client")
        assert 0 <= segment["start"] < segment["end"] <= document["duration_s"] + 0.5
        assert segment["text"].strip()
        if segment["speaker"] == "agent":
            assert segment["sentiment"] is None
        else:
            sentiment = segment["sentiment"]
            assert set(sentiment["scores"]) == {"negative", "neutral", "positive"}
            assert sum(sentiment["scores"].values()) == pytest.approx(1, abs=0.01)
            assert sentiment["label"] == max(sentiment["scores"], key=sentiment["scores"].get)
    client_ends = [s["end"] for s in document["segments"] if s["speaker"] == "client"]
    assert [m["t"] for m in document["mood"]] == sorted(client_ends)
    for point in document["mood"]:
        assert -1 <= point["value"] <= 1 and point["trend"] in ("rising", "steady", "falling")


@pytest.mark.slow
def test_analyze_writes_the_json_contract(call_file, tmp_path):
    out = tmp_path / "out.json"
    result = calmline("analyze", str(call_file), "--json", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    check_contract(document)
    by_side = {s["speaker"]: s["text"].lower() for s in document["segments"]}
    assert "help" in by_side["agent"] and "printer" in by_side["client"]
    client = next(s for s in document["segments"] if s["speaker"] == "client")
    assert client["sentiment"]["label"] == "negative"  # "My printer is not working again."
    assert document["mood"][0]["value"] < 0


@pytest.mark.slow
def test_agent_channel_right_swaps_the_sides(call_file):
    result = calmline("analyze", str(call_file), "--agent-channel", "right", "--json", "-")
    document = json.loads(result.stdout)
    by_side = {s["speaker"]: s["text"].lower() for s in document["segments"]}
    assert "printer" in by_side["agent"] and "help" in by_side["client"]


@pytest.mark.slow
def test_analyze_realtime_records_latency_per_segment(call_file):
    result = calmline("analyze", str(call_file), "--realtime", "--json", "-")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    check_contract(document)
    assert {s["speaker"] for s in document["segments"]} == {"agent", "client"}
    for segment in document["segments"]:
        assert 0 < segment["latency_s"] < 5
    assert document["capture"]["agent"]["frames_dropped"] == 0
    assert 0 <= document["capture"]["backlog_max_s"] < 10


@pytest.mark.slow
def test_two_mono_files(tmp_path):
    agent = tmp_path / "agent.wav"
    client = tmp_path / "client.flac"
    soundfile.write(agent, np.concatenate([speak("Let me check that"), silence(1)]), 16000)
    soundfile.write(client, np.concatenate([silence(2.5), speak("Okay thanks")]), 22050)
    result = calmline("analyze", "--agent", str(agent), "--client", str(client), "--json", "-")
    assert result.returncode == 0, result.stderr
    speakers = [s["speaker"] for s in json.loads(result.stdout)["segments"]]
    assert speakers == ["agent", "client"]


def test_missing_file(tmp_path):
    assert_bad_input(calmline("analyze", str(tmp_path / "nope.wav")), "not found")


def test_not_audio(tmp_path):
    bogus = tmp_path / "notes.wav"
    bogus.write_text("this is not audio")
    assert_bad_input(calmline("analyze", str(bogus)), "cannot read", "sox")


def test_truncated_header(tmp_path, call_file):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(call_file.read_bytes()[:30])
    assert_bad_input(calmline("analyze", str(broken)))


def test_mono_call_file_cannot_be_split(tmp_path):
    mono = tmp_path / "mono.wav"
    soundfile.write(mono, speak("hello"), 16000)
    assert_bad_input(calmline("analyze", str(mono)), "mono", "--agent")


def test_wrong_model_path(tmp_path, call_file):
    assert_bad_input(
        calmline("analyze", str(call_file), "--model", str(tmp_path / "missing")), "does not exist"
    )


def test_unknown_model_name(call_file):
    assert_bad_input(calmline("analyze", str(call_file), "--model", "large"), "tiny.en, base")


def test_bad_device():
    result = calmline("listen", "--agent-device", "no such mic", "--client-device", "0")
    assert_bad_input(result, "no input device named 'no such mic'", "calmline devices")


def test_damaged_model_file(tmp_path, call_file):
    import shutil

    from models.whisper_files import resolve_whisper

    model = tmp_path / "model"
    shutil.copytree(resolve_whisper("tiny.en").path, model)
    (model / "model.bin").write_bytes((model / "model.bin").read_bytes()[:3_000_000])
    result = calmline("analyze", str(call_file), "--model", str(model))
    assert_bad_input(result, "cannot load the Whisper model", str(model))


@pytest.mark.slow
def test_bench_prints_ratios_against_the_baseline(shared_data):
    result = calmline(
        "bench", "--data", str(shared_data), "--models", "tiny.en",
        "--calls-seconds", "15", "--live-seconds", "8",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("Calmline benchmark", 1)[1]
    offline = next(line for line in table.splitlines() if line.startswith("tiny.en"))
    audio_s, calmline_s, baseline_s, _, ratio = offline.split()[1:6]
    assert float(audio_s) == pytest.approx(60, abs=1)  # two calls × two sides × 15 s
    assert float(ratio) == pytest.approx(float(calmline_s) / float(baseline_s), abs=0.02)
    assert "Live latency" in table and "peak RSS" in table


def test_bench_without_data_says_where_to_point_it(tmp_path):
    assert_bad_input(calmline("bench", "--data", str(tmp_path)), "--data")


@pytest.mark.slow
def test_sentiment_command_scores_lines(tmp_path):
    result = calmline("sentiment", "thank you so much that fixed it", "this is a waste of my time")
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.startswith("positive") and second.startswith("negative")

    lines = tmp_path / "lines.txt"
    lines.write_text("my account number is four five six\n\nyou people are useless\n")
    result = calmline("sentiment", "--file", str(lines), "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == [
        "my account number is four five six",
        "you people are useless",
    ]
    assert rows[1]["label"] == "negative"
    assert set(rows[0]["scores"]) == {"negative", "neutral", "positive"}


def test_sentiment_command_bad_input(tmp_path):
    assert_bad_input(calmline("sentiment"), "give text")
    assert_bad_input(calmline("sentiment", "--file", str(tmp_path / "nope.txt"), "x"), "nope.txt")
    assert_bad_input(
        calmline("sentiment", "--sentiment-model", str(tmp_path), "hello"), str(tmp_path)
    )


@pytest.mark.slow
def test_coach_on_a_written_transcript(shared_data, tmp_path):
    transcript = shared_data / "transcripts" / "Json_input_customer_support.json"
    out = tmp_path / "coach.json"
    result = calmline("coach", str(transcript), "--json", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    client = [s for s in document["segments"] if s["speaker"] == "client"]
    assert len(client) == 7 and all(s["sentiment"] for s in client)
    assert len(document["mood"]) == 7
    # the customer reports failures, then "Ah, yes! It works now": mood ends above its low
    values = [m["value"] for m in document["mood"]]
    assert values[-1] > min(values)
    assert "resolution" in [c["kind"] for c in document["cues"]]
    assert not {"abuse", "abuse_continues", "profanity"} & {c["kind"] for c in document["cues"]}


@pytest.mark.slow
def test_coach_on_a_script_and_bad_transcripts(tmp_path):
    script = tmp_path / "call.txt"
    script.write_text(
        "AGENT: Help desk, how can I help?\n"
        "CLIENT: Are you an idiot? I asked this twice.\n"
        "AGENT: I do ask that we keep this respectful so I can help you.\n"
        "CLIENT: You are completely useless.\n"
    )
    result = calmline("coach", str(script), "--json", "-")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [c["kind"] for c in document["cues"]] == ["abuse", "abuse_continues"]
    assert document["flags"][0]["kind"] == "abusive_language"
    assert document["incidents"][0]["excerpt"] == "You are completely useless."

    empty = tmp_path / "empty.txt"
    empty.write_text("hello\n")
    assert_bad_input(calmline("coach", str(empty)), "no turns found")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert_bad_input(calmline("coach", str(broken)), "not valid JSON")
