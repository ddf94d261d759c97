"""The two sides of a call."""

from enum import StrEnum


class Side(StrEnum):
    AGENT = "agent"
    CLIENT = "client"

    @property
    def other(self) -> "Side":
        return Side.CLIENT if self is Side.AGENT else Side.AGENT
