"""Team vocabulary: how often the names a team's callers say come out spelt right, with and
without the playbook's ``[vocabulary] terms`` given to speech-to-text.

Scripted client lines of our own (an IT help desk's systems), spoken by espeak-ng at test
time, clean and through a G.711 line. A term counts as heard when the transcript has it as
written (case and punctuation aside): "Global Protect" for GlobalProtect is a miss, since a
ticket or a search for the name would not find it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from app.pipeline.live import LiveSettings
from app.tooling.phone_lines import LINES
from app.tooling.speech_eval import analyze_text
from audio.resample import resample_to_16k
from models.stt import WhisperEngine

TERMS = (
    "Okta",
    "GlobalProtect",
    "SharePoint",
    "ServiceNow",
    "Zscaler",
    "Intune",
    "Citrix",
    "Workday",
    "Confluence",
    "Contoso",
)

LINES_SAID = (
    "Hi, I can't sign in to Okta since this morning.",
    "GlobalProtect keeps disconnecting every ten minutes.",
    "The SharePoint site for the finance team will not open.",
    "I opened a ticket in ServiceNow but nobody answered.",
    "Zscaler is blocking the page I need for the audit.",
    "My new laptop says it is not enrolled in Intune.",
    "Citrix shows a black screen after I log in.",
    "I could not submit my hours in Workday yesterday.",
    "The Confluence page with the instructions is gone.",
    "I work for Contoso in the Leeds office.",
    "After the Okta reset, GlobalProtect asks for the old password.",
    "Can you move my files from SharePoint to the new Contoso drive?",
)
VOICES = (("en-gb+f3", 165), ("en-us+m3", 160))


class VocabularyEvalError(Exception):
    """The evaluation cannot run (espeak-ng missing); the message says what to do."""


@dataclass(frozen=True)
class TermRecall:
    line: str  # phone line (app/tooling/phone_lines.py)
    with_vocabulary: bool
    heard: int
    said: int
    inserted: int  # terms in the transcript that the line did not say
    transcripts: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.heard / self.said if self.said else 1.0


def _speak(text: str, voice: str, speed: int) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        raise VocabularyEvalError("espeak-ng is not installed: bash scripts/install.sh")
    with tempfile.TemporaryDirectory(prefix="calmline-vocab-") as tmp:
        wav = Path(tmp) / "line.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
            check=True,
            capture_output=True,
        )
        samples, rate = soundfile.read(wav, dtype="float32")
    audio = resample_to_16k(samples, rate)
    return (audio / max(1e-6, float(np.abs(audio).max())) * 0.5).astype(np.float32)


def spoken_lines() -> list[np.ndarray]:
    """Each scripted line as 16 kHz audio, the voices taking turns."""
    return [_speak(text, *VOICES[i % len(VOICES)]) for i, text in enumerate(LINES_SAID)]


def _words(text: str) -> str:
    return " " + re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", " ", text.lower())).strip() + " "


def terms_in(text: str) -> list[str]:
    """The terms ``text`` contains, as many times as it contains them."""
    words = _words(text)
    return [term for term in TERMS for _ in range(words.count(f" {term.lower()} "))]


def term_recall(
    engine: WhisperEngine,
    audios: list[np.ndarray],
    line: str = "clean",
    with_vocabulary: bool = True,
) -> TermRecall:
    settings = LiveSettings(vocabulary=TERMS if with_vocabulary else ())
    heard = said = inserted = 0
    transcripts = []
    for text, audio in zip(LINES_SAID, audios, strict=True):
        transcript = analyze_text(engine, LINES[line].make(audio), settings)
        transcripts.append(transcript)
        expected, got = terms_in(text), terms_in(transcript)
        said += len(expected)
        heard += sum(min(expected.count(t), got.count(t)) for t in set(expected))
        inserted += sum(max(0, got.count(t) - expected.count(t)) for t in set(got))
    return TermRecall(line, with_vocabulary, heard, said, inserted, tuple(transcripts))
