"""Building a call: the one place that puts sources, transcriber, stages, recorder and
listeners together.

The window, ``listen``, ``demo``, ``analyze`` (offline and ``--realtime``), ``coach``, the
soak and the benchmark all ask a :class:`CallSetup` for their call, so a setting (the
playbook's vocabulary, which personal data is redacted) means the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.calls.records import CallInfo
from app.coaching.coach import Coach
from app.coaching.mood import ClientMood, SentimentScorer
from app.coaching.playbook import Playbook
from app.events import Stage
from app.pipeline.live import Decoder, LiveSettings, LiveTranscriber
from app.pipeline.memory import HeapTrim
from app.pipeline.session import CallSession, Listener
from app.pipeline.stages import StageRunner
from app.privacy.redact import ALL_KINDS, RedactStage
from app.settings import Settings
from app.store.calls import new_uid
from app.summary.stage import SummaryStage
from audio.sides import Side
from audio.sources import AudioSource, FileChannel, FileReplaySource


@dataclass(frozen=True)
class CallSetup:
    """What every call is made of: the speech-to-text engine, the sentiment model and the
    playbook (either may be off), and which kinds of personal data are redacted."""

    engine: Decoder | None = None  # None: a written transcript, no audio
    sentiment: SentimentScorer | None = None
    playbook: Playbook | None = None
    redact: tuple[str, ...] = ALL_KINDS
    warnings: list[str] = field(default_factory=list, compare=False)  # what works less well

    @classmethod
    def from_settings(
        cls,
        engine: Decoder,
        sentiment: SentimentScorer | None,
        playbook: Playbook | None,
        settings: Settings,
        warnings: Sequence[str] = (),
    ) -> CallSetup:
        return cls(engine, sentiment, playbook, tuple(settings.redact), list(warnings))

    def live_settings(self) -> LiveSettings:
        """The live path's settings for this call: the playbook's team vocabulary."""
        vocabulary = self.playbook.vocabulary if self.playbook is not None else ()
        return LiveSettings(vocabulary=vocabulary)

    def stages(self) -> StageRunner:
        """Fresh stages for one call (they keep per-call state): redaction first (so
        nothing after it — screen, coach, storage, exports — sees card numbers, e-mails or
        phone numbers), client mood (with a sentiment model), the coach, then the ticket
        note (app/summary) from the redacted lines; the runner
        also frees heap pages back to the OS on long calls (app/pipeline/memory.py)."""
        stages: list[Stage] = [RedactStage(self.redact)] if self.redact else []
        if self.sentiment is not None:
            complaints = self.playbook.lexicon.get("complaint", ()) if self.playbook else ()
            stages.append(ClientMood(self.sentiment, complaints=complaints))
        if self.playbook is not None:
            stages.append(Coach(self.playbook, self.sentiment))
        stages.append(SummaryStage())
        return StageRunner(stages, HeapTrim())

    def describe_models(self) -> dict[str, Any]:
        describe_engine = getattr(self.engine, "describe", None)
        describe_sentiment = getattr(self.sentiment, "describe", None)
        return {
            "speech_to_text": describe_engine() if describe_engine else None,
            "sentiment": describe_sentiment() if describe_sentiment else None,
        }

    def call_info(self, source: str, devices: Mapping[str, str], **fields: Any) -> CallInfo:
        """A new call's details: ``source`` is "live", "replay" or "analyze"; ``devices``
        names each side's device or file; ``fields`` are the agent's (agent, subject…)."""
        fields.setdefault("started_at", datetime.now(UTC))
        return CallInfo(
            uid=new_uid(),
            source=source,
            devices=dict(devices),
            model={"speech_to_text": self.describe_models()["speech_to_text"]},
            **fields,
        )

    def session(
        self,
        sources: Mapping[Side, AudioSource],
        listeners: Sequence[Listener],
        pace: float = 1.0,
        audio_sink: Callable[[Side, np.ndarray], None] | None = None,
        live: LiveSettings | None = None,
    ) -> CallSession:
        """A live call over ``sources`` (devices or replays). Each event goes to every
        listener in order — the recorder first, so storage never lags what is shown."""
        if self.engine is None:
            raise ValueError("a call with audio needs a speech-to-text engine")
        return CallSession(
            sources,
            LiveTranscriber(self.engine, live or self.live_settings()),
            listeners,
            pace=pace,
            stages=self.stages(),
            audio_sink=audio_sink,
        )


def replay_sources(channels: dict[Side, FileChannel], pace: float) -> dict[Side, FileReplaySource]:
    """A recorded call played as if live, at ``pace`` × real time."""
    return {side: FileReplaySource(side, channel, pace=pace) for side, channel in channels.items()}
