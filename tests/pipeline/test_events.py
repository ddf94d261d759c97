"""Every consumer of pipeline events handles every member of the ``Event`` union: each
dispatches in one ``match`` ending in ``assert_never``, so a new event type that a consumer
forgot fails here (and in a type checker) instead of being silently dropped."""

from __future__ import annotations

import dataclasses
import inspect
import io

import pytest
from support.events import one_of_each

from app import events as events_module
from app.cli.main import TranscriptPrinter
from app.coaching.coach import Coach
from app.coaching.playbook import load_playbook
from app.events import EVENT_TYPES, Outcome, Segment, Summary, SummaryItem
from app.pipeline.analyze import Collector
from app.store.recorder import event_writes


def test_the_union_names_every_event_the_events_module_defines():
    defined = {
        cls
        for _, cls in inspect.getmembers(events_module, inspect.isclass)
        if dataclasses.is_dataclass(cls) and cls.__module__ == events_module.__name__
    }
    plain_data = {Segment, Summary, SummaryItem, Outcome}  # carried inside events
    assert defined - plain_data == set(EVENT_TYPES)


@pytest.mark.parametrize(
    "consume",
    [
        pytest.param(lambda e: TranscriptPrinter(io.StringIO(), interactive=True)(e), id="cli"),
        pytest.param(lambda e: Collector()(e), id="analyze collector"),
        pytest.param(event_writes, id="store recorder"),
        pytest.param(lambda e: Coach(load_playbook())([e]), id="coach"),
    ],
)
def test_every_consumer_takes_every_event(consume):
    for event in one_of_each():
        consume(event)  # assert_never raises for a type the consumer does not know


def test_a_consumer_refuses_what_is_not_an_event():
    with pytest.raises(AssertionError):
        Collector()(object())  # type: ignore[arg-type]


def test_what_the_store_keeps():
    kept = {type(e).__name__ for e in one_of_each() if event_writes(e) is not None}
    assert kept == {
        "Committed", "Revised", "MoodUpdate", "Cue", "CueCleared", "Flag", "IncidentNote",
        "ChecklistTick", "SummaryDraft",
    }  # fmt: skip
