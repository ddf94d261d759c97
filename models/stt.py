"""Speech-to-text with faster-whisper (CTranslate2), int8 on the CPU, offline.

Two ways in:

* :meth:`WhisperEngine.decode` — one utterance from the live path. The utterance is padded
  with silence to a 10 s window instead of Whisper's usual 30 s: the encoder's cost grows
  with the window, and measured here a 10 s window keeps the same word error rate on
  sentence-length speech at about a third of the time. Shorter windows make Whisper loop
  (repeat the utterance); the rare loop at 10 s is caught and decoded again in a full
  30 s window.
* :meth:`WhisperEngine.transcribe` — a whole recording, through faster-whisper's own
  ``transcribe()`` with its Silero VAD filter (offline ``calmline analyze``).
"""

from __future__ import annotations

import math
import os
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from audio import SAMPLE_RATE
from models.errors import ModelError
from models.whisper_files import WhisperFiles

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # faster-whisper must never reach for a hub

DEFAULT_THREADS = max(1, min(2, os.cpu_count() or 1))  # decoding threads, by default
LIVE_WINDOW_S = 10.0
MAX_WINDOW_S = 30.0
# Windows are whole multiples of this. The encoder's convolutions run through oneDNN, which
# compiles and caches a kernel set per input length (about 1 MB each, up to 1024 of them):
# 400 utterances of 0.5–30 s grew the process by 315 MB with windows of every length, by
# 43 MB (then flat) with whole seconds, which give at most 21 lengths.
WINDOW_STEP_S = 1.0
PROMPT_TOKENS = 64  # of the team vocabulary, given to the decoder as context


@dataclass(frozen=True)
class Decoded:
    text: str
    avg_logprob: float
    no_speech_prob: float

    @property
    def compression_ratio(self) -> float:
        data = self.text.encode()
        return len(data) / max(1, len(zlib.compress(data))) if data else 0.0


@dataclass(frozen=True)
class TimedText:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float


# Whisper's stock output on silence or noise, learnt from subtitle data.
_STOCK_PHRASES = {
    "thank you",
    "thanks for watching",
    "thank you for watching",
    "thank you so much for watching",
    "please subscribe",
    "subtitles by the amara org community",
    "you",
    "bye",
    "so",
    "oh",
}


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z' ]", " ", text.lower())).strip()


SHORT_SOUND_S = 1.5
SHORT_SOUND_MIN_LOGPROB = -1.3
SHORT_SOUND_WORDS_PER_S = 2.5


def is_invented(text: str, avg_logprob: float, no_speech_prob: float, seconds: float) -> bool:
    """True for text Whisper made up rather than heard.

    Whisper's own rule (high no-speech probability *and* low confidence), runaway
    repetition, more words than a person can say, stock subtitle phrases that come
    with weak evidence, and an unsure guess of more words than a short sound holds (an
    "mm-hm" of 0.8 s read as "I'm gonna kill him.", confidence -1.55; an unsure "Better!"
    of 0.4 s is kept).
    """
    normal = _normal(text)
    if not normal:
        return True
    if no_speech_prob > 0.6 and avg_logprob < -1.0:
        return True
    data = normal.encode()
    if len(data) > 40 and len(data) / len(zlib.compress(data)) > 2.4:
        return True
    if len(normal.split()) > 8 * max(seconds, 0.5) + 4:
        return True
    if (
        seconds < SHORT_SOUND_S
        and avg_logprob < SHORT_SOUND_MIN_LOGPROB
        and len(normal.split()) > SHORT_SOUND_WORDS_PER_S * seconds + 1
    ):
        return True
    return normal in _STOCK_PHRASES and (no_speech_prob > 0.15 or avg_logprob < -0.6)


def has_loop(text: str, n: int = 4) -> bool:
    """Does any run of ``n`` words occur twice? Whisper's looping failure, not natural speech."""
    words = _normal(text).split()
    seen = set()
    for i in range(len(words) - n + 1):
        gram = tuple(words[i : i + n])
        if gram in seen:
            return True
        seen.add(gram)
    return False


class WhisperEngine:
    """A loaded Whisper model. ``threads`` is the CTranslate2 CPU thread budget."""

    def __init__(self, files: WhisperFiles, threads: int = 2, language: str | None = "en"):
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        self.files = files
        self.threads = max(1, int(threads))
        try:
            self._model = WhisperModel(
                str(files.path),
                device="cpu",
                compute_type="int8",
                cpu_threads=self.threads,
                num_workers=1,
                local_files_only=True,
            )
        except Exception as exc:  # RuntimeError from CTranslate2, tokenizer errors, ...
            raise ModelError(
                f"cannot load the Whisper model in {files.path}: {exc}. The files are damaged "
                "or not a CTranslate2 Whisper model; reinstall (scripts/install.sh) or point "
                "--model at a good directory"
            ) from exc
        self.multilingual = bool(self._model.model.is_multilingual)
        if not self.multilingual:
            if language not in (None, "en"):
                raise ModelError(
                    f"the model {files.name} is English-only but --language {language} was "
                    "asked for; use --model base (multilingual) or --language en"
                )
            language = "en"
        self.language = language
        self._tokenizers: dict[str, Tokenizer] = {}
        self._tokenizer_class = Tokenizer

    @property
    def name(self) -> str:
        return self.files.name

    def describe(self) -> dict[str, object]:
        return {
            "name": self.files.name,
            "path": str(self.files.path),
            "compute_type": "int8",
            "threads": self.threads,
            "language": self.language or "auto",
        }

    def _tokenizer(self, language: str):
        if language not in self._tokenizers:
            self._tokenizers[language] = self._tokenizer_class(
                self._model.hf_tokenizer, self.multilingual, task="transcribe", language=language
            )
        return self._tokenizers[language]

    def _features(self, audio: np.ndarray, min_window: float):
        import ctranslate2

        needed = max(len(audio) / SAMPLE_RATE + 0.5, min_window)
        window = min(math.ceil(needed / WINDOW_STEP_S) * WINDOW_STEP_S, MAX_WINDOW_S)
        samples = int(window * SAMPLE_RATE)
        padded = np.zeros(samples, dtype=np.float32)
        clip = np.asarray(audio[:samples], dtype=np.float32)
        padded[: len(clip)] = clip
        features = self._model.feature_extractor(padded, padding=0)
        frames = min(features.shape[-1] // 2 * 2, 3000)
        features = np.ascontiguousarray(features[np.newaxis, :, :frames], dtype=np.float32)
        return ctranslate2.StorageView.from_array(features)

    def decode(
        self,
        audio: np.ndarray,
        beam_size: int = 5,
        prompt: str = "",
        window_s: float = LIVE_WINDOW_S,
    ) -> Decoded:
        """Transcribe one utterance (≤ 30 s, 16 kHz mono float32).

        ``prompt`` is text given to the decoder as what came before (the team vocabulary).
        The speaker's own previous line is not given: measured on the reference clips, that
        context made Whisper stop early on noisy lines ("Welcome to the new demo of my" for a
        6 s sentence) and raised tiny.en's WER on every band but one. The loop-safe retry
        drops the prompt, as faster-whisper does when decoding fails. ``window_s`` is the
        shortest window (30 s: Whisper's own, slower and a little more accurate on degraded
        lines, for revisions that do not hold up a commit).
        """
        decoded = self._decode(audio, beam_size, window_s, prompt)
        if has_loop(decoded.text):
            retry = self._decode(audio, beam_size, MAX_WINDOW_S)
            if not has_loop(retry.text) or len(retry.text) < len(decoded.text):
                return retry
        return decoded

    def _decode(
        self, audio: np.ndarray, beam_size: int, min_window: float, prompt: str = ""
    ) -> Decoded:
        seconds = len(audio) / SAMPLE_RATE
        encoded = self._model.model.encode(self._features(audio, min_window), to_cpu=False)
        language = self.language
        if language is None:
            ranked = self._model.model.detect_language(encoded)[0]
            language = ranked[0][0][2:-2]
        tokenizer = self._tokenizer(language)
        tokens = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        if prompt.strip():
            context = tokenizer.encode(" " + prompt.strip())[-PROMPT_TOKENS:]
            tokens = [tokenizer.sot_prev, *context, *tokens]
        result = self._model.model.generate(
            encoded,
            [tokens],
            beam_size=beam_size,
            max_length=min(448, len(tokens) + 10 + int(seconds * 10)),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=_suppressed(tokenizer),
        )[0]
        said = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        return Decoded(
            text=tokenizer.decode(said).strip(),
            avg_logprob=float(result.scores[0]) if result.scores else -10.0,
            no_speech_prob=float(result.no_speech_prob),
        )

    def transcribe(self, audio: np.ndarray, beam_size: int = 5) -> list[TimedText]:
        """A whole recording with faster-whisper's VAD filter (offline analysis)."""
        segments, _info = self._model.transcribe(
            np.asarray(audio, dtype=np.float32),
            language=self.language,
            beam_size=beam_size,
            vad_filter=True,
        )
        return [
            TimedText(s.start, s.end, s.text.strip(), s.avg_logprob, s.no_speech_prob)
            for s in segments
        ]


def _suppressed(tokenizer) -> Sequence[int]:
    from faster_whisper.transcribe import get_suppressed_tokens

    return get_suppressed_tokens(tokenizer, [-1])
