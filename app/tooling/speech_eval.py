"""Word error rate on the reference clips in ../shared/data/speech (tests and `calmline bench`)."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile

from app.events import Committed, Revised
from app.pipeline.live import LiveSettings, LiveTranscriber
from audio.resample import resample_to_16k
from audio.sides import Side
from audio.vad import SAMPLE_RATE
from models.stt import WhisperEngine


@dataclass(frozen=True)
class Clip:
    name: str
    audio: np.ndarray  # 16 kHz mono
    reference: str


def load_clips(data: Path, include_long: bool = True, include_silver: bool = False) -> list[Clip]:
    """The clips with human references; ``include_silver`` adds RealtimeSTT's 52 s monologue,
    whose reference was made by Whisper large-v2 (more words for the telephone-band
    comparison, where both sides of a ratio are measured against the same reference)."""
    speech = data / "speech"
    clips = []
    for wav in sorted((speech / "ljspeech").glob("*.wav")):
        samples, rate = soundfile.read(wav, dtype="float32")
        clips.append(
            Clip(wav.stem, resample_to_16k(samples, rate), wav.with_suffix(".txt").read_text())
        )
    refs = json.loads((speech / "faster_whisper" / "references.json").read_text())
    samples, rate = soundfile.read(speech / "faster_whisper" / "jfk.flac", dtype="float32")
    clips.append(
        Clip("jfk", resample_to_16k(samples, rate), refs["jfk.flac"]["reference_with_comma"])
    )
    samples, rate = soundfile.read(
        speech / "faster_whisper" / "stereo_diarization.wav", dtype="float32"
    )
    stereo = refs["stereo_diarization.wav"]
    for index, key in enumerate(("left", "right")):
        reference = stereo[key]
        clips.append(Clip(f"stereo-{key}", resample_to_16k(samples[:, index], rate), reference))
    if include_long:
        with zipfile.ZipFile(
            speech / "azure_customspeech" / "en-US_general_testing_audio-and-trans.zip"
        ) as z:
            names = z.namelist()
            wav_name = next(n for n in names if n.endswith(".wav"))
            txt_name = next(n for n in names if n.endswith(".txt"))
            with z.open(wav_name) as handle:
                samples, rate = soundfile.read(handle, dtype="float32")
            text = z.read(txt_name).decode("utf-8-sig").split("\t", 1)[1]
        clips.append(Clip("azure", resample_to_16k(samples, rate), text))
    if include_silver:
        folder = speech / "realtimestt"
        expected = json.loads((folder / "asr-reference.expected_sentences.json").read_text())
        text = " ".join(u["text"] for u in expected["utterances"])
        samples, rate = soundfile.read(folder / "asr-reference.wav", dtype="float32")
        clips.append(Clip("realtimestt", resample_to_16k(samples, rate), text))
    return clips


def normalise(text: str) -> str:
    """Lower case, no punctuation, single spaces: what word error rate is computed on."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9' ]", " ", text.lower())).strip()


def offline_text(engine: WhisperEngine, audio: np.ndarray) -> str:
    """Bare faster-whisper over the whole clip (the baseline)."""
    return " ".join(t.text for t in engine.transcribe(audio))


class Lines:
    """The transcript as the window shows it: committed lines, revisions replacing them."""

    def __init__(self) -> None:
        self._lines: dict[int, tuple[float, str]] = {}

    def add(self, events: list) -> None:
        for event in events:
            if isinstance(event, Revised):
                for gone in event.replaces:
                    self._lines.pop(gone, None)
            if isinstance(event, Committed):
                self._lines[event.segment.id] = (event.segment.start, event.segment.text)

    @property
    def text(self) -> str:
        return " ".join(text for _start, text in sorted(self._lines.values()))


def live_text(
    engine: WhisperEngine,
    audio: np.ndarray,
    settings: LiveSettings | None = None,
    block_s: float = 0.1,
    interims: bool = True,
) -> str:
    """The clip through the live path, other side silent: 100 ms blocks with interims as on
    a live call, or (``block_s=1, interims=False``) as `calmline analyze` feeds a file."""
    live = LiveTranscriber(engine, settings)
    padded = np.concatenate(
        [np.zeros(SAMPLE_RATE * 3 // 10, np.float32), audio, np.zeros(SAMPLE_RATE, np.float32)]
    )
    block = int(SAMPLE_RATE * block_s)
    lines = Lines()
    for i in range(0, len(padded), block):
        live.feed(Side.AGENT, padded[i : i + block])
        live.feed(Side.CLIENT, np.zeros(len(padded[i : i + block]), dtype=np.float32))
        lines.add(live.step(allow_interim=interims))
    live.finish()
    lines.add(live.drain())
    return lines.text


def analyze_text(
    engine: WhisperEngine, audio: np.ndarray, settings: LiveSettings | None = None
) -> str:
    """The clip as `calmline analyze` transcribes a file: 1 s blocks, no interims, each
    speaker's stretch decoded once."""
    held = replace(settings or LiveSettings(), hold_stretches=True)
    return live_text(engine, audio, held, block_s=1.0, interims=False)
