"""The note while the agent works on it: later drafts never undo what the agent did."""

from __future__ import annotations

import pytest

from app.events import Outcome, Summary, SummaryItem
from app.summary.editing import EditableNote


def draft(*reasons: tuple[str, int], steps: tuple[tuple[str, int], ...] = (),
          status: str = "unknown") -> Summary:  # fmt: skip
    return Summary(
        reason=tuple(SummaryItem(text, float(seg), seg) for text, seg in reasons),
        steps=tuple(SummaryItem(text, float(seg), seg) for text, seg in steps),
        outcome=Outcome(status, "It works now." if status != "unknown" else "", 9, 9.0),
    )


def test_drafted_items_follow_the_drafts():
    note = EditableNote()
    assert note.merge(draft(("My printer says", 1)))
    assert note.merge(draft(("My printer says offline.", 1)))  # the line was revised
    assert [i.item.text for i in note.items("reason")] == ["My printer says offline."]
    assert not note.merge(draft(("My printer says offline.", 1)))  # nothing new
    note.merge(draft(("My printer says offline.", 1), steps=(("Restart it.", 3),)))
    note.merge(draft(steps=(("Restart it.", 3),)))  # the draft dropped the reason
    assert note.items("reason") == [] and len(note) == 1
    assert not note.touched


def test_what_the_agent_accepted_edited_or_removed_stays():
    note = EditableNote()
    note.merge(draft(("Printer offline.", 1), ("It shows an error.", 2),
                     steps=(("Restart it.", 3), ("Print a test page.", 4))))  # fmt: skip
    reason = [i.key for i in note.items("reason")]
    steps = [i.key for i in note.items("steps")]
    note.accept(reason[0])
    note.edit(reason[1], "Error E-52 on the display.")
    note.remove(steps[0])
    assert note.touched
    note.merge(draft(("Printer offline on floor two.", 1), ("It shows an error now.", 2),
                     steps=(("Restart it again.", 3), ("Print two test pages.", 4))))  # fmt: skip
    kept = note.kept()
    assert [i.text for i in kept.reason] == ["Printer offline.", "Error E-52 on the display."]
    assert [i.text for i in kept.steps] == ["Print two test pages."]  # drafted: follows
    note.merge(draft())  # a draft that says nothing takes nothing of the agent's away
    assert [i.text for i in note.kept().reason] == [
        "Printer offline.", "Error E-52 on the display.",
    ]  # fmt: skip
    assert note.kept().steps == ()
    note.accept(steps[0])  # a removed item can be taken back
    assert [i.text for i in note.kept().steps] == ["Restart it."]  # as it was removed


def test_clearing_an_item_removes_it():
    note = EditableNote()
    note.merge(draft(("Printer offline.", 1)))
    note.edit(note.items("reason")[0].key, "   ")
    assert note.kept().reason == ()


def test_the_agents_outcome_wins_over_later_drafts():
    note = EditableNote()
    note.merge(draft(status="resolved"))
    assert note.outcome.status == "resolved"
    note.set_outcome("escalated", "Passed to the network team.")
    note.merge(draft(status="unresolved"))
    assert note.kept().outcome == Outcome("escalated", "Passed to the network team.", 9, 9.0)
    with pytest.raises(ValueError, match="unknown outcome"):
        note.set_outcome("done")
