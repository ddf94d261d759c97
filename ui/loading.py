"""Loading what a call needs — Whisper, the sentiment model, the playbook. Qt-free; runs on
a worker thread and reports progress through a callback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.coaching.mood import SentimentScorer
from app.coaching.playbook import Playbook, PlaybookError, load_playbook
from app.paths import user_playbook_path
from app.pipeline.call import CallSetup
from app.privacy.redact import ALL_KINDS
from audio import SAMPLE_RATE
from models.stt import DEFAULT_THREADS
from ui.workers import Progress

WARM_UP_SECONDS = 1.0


@dataclass(frozen=True)
class ModelOptions:
    whisper: str = "tiny.en"  # tiny.en, base, or a local CTranslate2 Whisper folder
    threads: int = DEFAULT_THREADS
    language: str = "en"  # or "auto"
    sentiment: str = "default"  # "default", a local folder, or "none"
    playbook: str | None = None  # None: the user's playbook if it exists; "none": no coaching
    redact: tuple[str, ...] = ALL_KINDS  # the personal data taken out (settings.toml)


def load_models(options: ModelOptions, progress: Progress) -> CallSetup:
    """Load and warm up Whisper (a failure here raises: no call is possible without it);
    the sentiment model and the playbook degrade to a warning when they cannot be used."""
    from models.stt import WhisperEngine
    from models.whisper_files import resolve_whisper

    progress(f"Loading speech-to-text ({options.whisper})…", 5)
    language = None if options.language == "auto" else options.language
    engine = WhisperEngine(
        resolve_whisper(options.whisper), threads=options.threads, language=language
    )
    progress("Warming up speech-to-text…", 40)
    engine.decode(np.zeros(int(WARM_UP_SECONDS * SAMPLE_RATE), dtype=np.float32))
    warnings: list[str] = []
    progress("Loading the client-mood model…", 65)
    sentiment = _load_sentiment(options, warnings)
    progress("Loading the coaching playbook…", 90)
    playbook = _load_playbook(options.playbook, warnings)
    progress("Ready", 100)
    return CallSetup(engine, sentiment, playbook, options.redact, warnings)


def _load_sentiment(options: ModelOptions, warnings: list[str]) -> SentimentScorer | None:
    if options.sentiment == "none":
        return None
    from models.sentiment import load_sentiment_model

    try:
        model = load_sentiment_model(options.sentiment, threads=options.threads)
        model.classify(["Thanks, that works."])  # warm-up; a corrupt model fails here
    except Exception as exc:  # ModelError, or onnxruntime on a damaged file
        warnings.append(f"Client mood unavailable: {exc}")
        return None
    return model


def _load_playbook(choice: str | None, warnings: list[str]) -> Playbook | None:
    if choice == "none":
        return None
    override = Path(choice) if choice else user_playbook_path()
    try:  # is_file() raises, not returns False, inside a folder we may not enter
        present = override.is_file()
    except OSError as exc:
        warnings.append(
            f"Coaching is off: cannot open {override}: {exc.strerror or exc}. Check the "
            "permissions of the file and of the folders above it."
        )
        return None
    if choice and not present:
        warnings.append(f"Coaching is off: playbook file not found: {override}")
        return None
    try:
        return load_playbook(override if present else None)
    except PlaybookError as exc:
        warnings.append(f"Coaching is off: {exc}. Fix the file, or remove it to use the default.")
        return None
