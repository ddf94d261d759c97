"""Who talked how much, and over whom: from a call's lines (each side's utterances with
their times). Overtalk is the time both sides speak at once, counted for the side that
started speaking second — the one talking over the other."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class TalkTime:
    agent_s: float = 0.0
    client_s: float = 0.0
    agent_overtalk_s: float = 0.0  # the agent talking over the client
    client_overtalk_s: float = 0.0

    @property
    def agent_share(self) -> float | None:
        """The agent's part of the talking (0–1); None without speech."""
        total = self.agent_s + self.client_s
        return self.agent_s / total if total > 0 else None

    def to_json(self) -> dict[str, float | None]:
        share = self.agent_share
        return {
            "agent_s": round(self.agent_s, 2),
            "client_s": round(self.client_s, 2),
            "agent_share": None if share is None else round(share, 3),
            "agent_overtalk_s": round(self.agent_overtalk_s, 2),
            "client_overtalk_s": round(self.client_overtalk_s, 2),
        }

    def describe(self) -> str:
        """One line for a person: "You talked 46% · you over the client 4 s · …"."""
        share = self.agent_share
        if share is None:
            return "No speech recorded."
        return (
            f"You talked {share:.0%} of the time · you over the client "
            f"{self.agent_overtalk_s:.0f} s · the client over you {self.client_overtalk_s:.0f} s"
        )

    def __add__(self, other: TalkTime) -> TalkTime:
        return TalkTime(
            self.agent_s + other.agent_s,
            self.client_s + other.client_s,
            self.agent_overtalk_s + other.agent_overtalk_s,
            self.client_overtalk_s + other.client_overtalk_s,
        )


def talk_time(lines: Iterable[tuple[str, float, float]]) -> TalkTime:
    """``lines``: (speaker, start, end) of each utterance, speaker "agent" or "client"."""
    sides: dict[str, list[tuple[float, float]]] = {"agent": [], "client": []}
    for speaker, start, end in lines:
        if speaker in sides and end > start:
            sides[speaker].append((start, end))
    over = {"agent": 0.0, "client": 0.0}
    for agent_start, agent_end in sides["agent"]:
        for client_start, client_end in sides["client"]:
            overlap = min(agent_end, client_end) - max(agent_start, client_start)
            if overlap > 0:
                over["agent" if agent_start > client_start else "client"] += overlap
    return TalkTime(
        agent_s=sum(end - start for start, end in sides["agent"]),
        client_s=sum(end - start for start, end in sides["client"]),
        agent_overtalk_s=over["agent"],
        client_overtalk_s=over["client"],
    )
