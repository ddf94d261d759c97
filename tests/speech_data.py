"""The reference clips in ../shared/data/speech, with their transcripts."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from audio.resample import resample_to_16k


@dataclass(frozen=True)
class Clip:
    name: str
    audio: np.ndarray  # 16 kHz mono
    reference: str


def load_clips(data: Path, include_long: bool = True) -> list[Clip]:
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
    return clips
