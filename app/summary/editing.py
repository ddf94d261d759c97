"""The drafted note while the agent works on it: drafts keep arriving, the agent accepts,
edits and removes items, and nothing the agent did is ever undone by a later draft.

Each drafted item is known by its section, the line it comes from and its place among that
line's items in the section, so a redraft of the same line (a revised transcript line, a
new sentence) updates the item instead of adding another. An item the agent accepted or
edited is theirs and stays as they left it; a removed one stays removed even when the
line is drafted again. Items still as drafted follow the drafts — appear, change, go.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.events import OUTCOMES, SUMMARY_SECTIONS, Outcome, Summary, SummaryItem

ItemKey = tuple[str, int | None, int]  # section, segment id, place among that line's items
STATES = ("drafted", "accepted", "edited", "removed")


@dataclass(frozen=True)
class NoteItem:
    key: ItemKey
    item: SummaryItem
    state: str = "drafted"  # one of STATES

    @property
    def section(self) -> str:
        return self.key[0]

    @property
    def agents(self) -> bool:
        """Accepted or edited: the agent's, and never changed by a draft."""
        return self.state in ("accepted", "edited")


class EditableNote:
    """The note in the notes pane. Plain data, no Qt: the window shows it."""

    def __init__(self) -> None:
        self._items: dict[ItemKey, NoteItem] = {}
        self.outcome = Outcome()
        self.outcome_by_agent = False
        self.touched = False  # the agent has changed something

    # -- drafts --------------------------------------------------------------------------
    def merge(self, draft: Summary) -> bool:
        """Take a new draft; True if what the pane shows changed."""
        before = (dict(self._items), self.outcome)
        drafted = dict(_keyed(draft))
        for key, item in list(self._items.items()):
            if item.state == "drafted" and key not in drafted:
                del self._items[key]  # the draft no longer says it
        for key, summary_item in drafted.items():
            mine = self._items.get(key)
            if mine is None:
                self._items[key] = NoteItem(key, summary_item)
            elif mine.state == "drafted" and mine.item != summary_item:
                self._items[key] = replace(mine, item=summary_item)
        if not self.outcome_by_agent:
            self.outcome = draft.outcome
        return (dict(self._items), self.outcome) != before

    # -- the agent -----------------------------------------------------------------------
    def accept(self, key: ItemKey) -> None:
        item = self._items[key]
        if item.state in ("drafted", "removed"):
            self._set(replace(item, state="accepted"))

    def edit(self, key: ItemKey, text: str) -> None:
        item = self._items[key]
        text = " ".join(text.split())
        if not text:
            self.remove(key)
        elif text != item.item.text or item.state == "removed":
            self._set(replace(item, item=replace(item.item, text=text), state="edited"))

    def remove(self, key: ItemKey) -> None:
        self._set(replace(self._items[key], state="removed"))

    def set_outcome(self, status: str, text: str | None = None) -> None:
        if status not in OUTCOMES:
            raise ValueError(f"unknown outcome status {status!r}; use one of {', '.join(OUTCOMES)}")
        kept_text = self.outcome.text if text is None else " ".join(text.split())
        self.outcome = replace(self.outcome, status=status, text=kept_text)
        self.outcome_by_agent = self.touched = True

    def _set(self, item: NoteItem) -> None:
        self._items[item.key] = item
        self.touched = True

    # -- reading -------------------------------------------------------------------------
    def items(self, section: str, removed: bool = False) -> list[NoteItem]:
        """A section's items in call order (without the removed ones unless asked)."""
        chosen = [
            i
            for i in self._items.values()
            if i.section == section and (removed or i.state != "removed")
        ]
        return sorted(chosen, key=lambda i: (i.item.t, i.key[1] or 0, i.key[2]))

    def kept(self) -> Summary:
        """The note as the agent keeps it: everything not removed, with their edits."""
        sections = {name: tuple(i.item for i in self.items(name)) for name in SUMMARY_SECTIONS}
        return Summary(**sections, outcome=self.outcome)

    def __len__(self) -> int:
        return sum(len(self.items(name)) for name in SUMMARY_SECTIONS)


def _keyed(summary: Summary) -> list[tuple[ItemKey, SummaryItem]]:
    keyed = []
    for section in SUMMARY_SECTIONS:
        seen: dict[int | None, int] = {}
        for item in summary.section(section):
            place = seen.get(item.segment_id, 0)
            seen[item.segment_id] = place + 1
            keyed.append(((section, item.segment_id, place), item))
    return keyed
