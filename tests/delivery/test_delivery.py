"""Exports of a stored call: files, a real Request Tracker (scripts/rt-server.sh), a real
local webhook receiver, and the outbox when the helpdesk is down, refusing or back."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from support.helpdesk import RT_ENV, rt_server, settings, ticket_id_of

from app.calls.records import CallInfo, CallRecord, FlagRecord, MoodPoint, SegmentRecord
from app.delivery.outbox import Delivery, DeliveryError
from app.settings import RTSettings, WebhookSettings
from app.store import CallStore
from app.store.calls import new_uid

STARTED = datetime(2026, 3, 4, 14, 5, 6, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    yield store
    store.close()


@pytest.fixture
def call_id(store) -> int:
    return store.save_record(
        CallRecord(
            info=CallInfo(
                uid=new_uid(),
                started_at=STARTED,
                ended_at=STARTED + timedelta(seconds=95),
                agent="Sam Taylor",
                client_name="Marie Dupont",
                client_contact="marie@example.com",
                subject="VPN drops every hour",
            ),
            segments=(
                SegmentRecord(1, "agent", 0.5, 3.0, "Help desk, how can I help?"),
                SegmentRecord(2, "client", 4.0, 9.0, "My card is [card number], it failed."),
            ),
            flags=(FlagRecord(40.0, "abusive_language", "you idiot", 2),),
            mood=(MoodPoint(9.0, -0.5, "falling"),),
            notes="Password expired; reset it.",
            checklist={"listened": True},
        )
    )


def test_files_are_written_and_recorded_with_the_call(store, call_id, tmp_path):
    delivery = Delivery(store, settings(), exports_dir=tmp_path / "exports")
    markdown = delivery.export(call_id, "markdown", include_transcript=True)
    assert markdown.status == "done"
    text = Path(markdown.result).read_text(encoding="utf-8")
    assert "Password expired; reset it." in text and "[card number]" in text
    eml = delivery.export(call_id, "email")
    message = message_from_bytes(Path(eml.result).read_bytes())
    assert message["To"] == "Marie Dupont <marie@example.com>" and message["X-Unsent"] == "1"
    document = json.loads(Path(delivery.export(call_id, "json").result).read_text())
    assert document["notes"] == "Password expired; reset it."
    assert [e.target for e in store.get(call_id).exports] == ["markdown", "email", "json"]
    with pytest.raises(DeliveryError, match="unknown export target"):
        delivery.export(call_id, "fax")


def test_rt_ticket_is_created_with_the_transcript_then_commented(store, call_id, rt_api):
    delivery = Delivery(store, settings(), environ=RT_ENV)
    created = delivery.export(call_id, "rt")
    assert created.status == "done", created.message
    ticket = ticket_id_of(created.result)
    assert store.get(call_id).info.ticket_id == str(ticket)
    fields = rt_api.get(f"/ticket/{ticket}").json()
    assert fields["Subject"] == "VPN drops every hour"
    attachments = rt_api.get(
        f"/ticket/{ticket}/attachments",
        params={"fields": "Filename,Content", "per_page": 100},
    ).json()["items"]
    transcript = next(a for a in attachments if a["Filename"].endswith("transcript.txt"))
    assert "[card number]" in transcript["Content"] and "Help desk" in transcript["Content"]

    store.save_notes(call_id, "Password expired; reset it. Client confirmed next day.", 5)
    commented = delivery.export(call_id, "rt")  # the call now has a ticket: a comment
    assert commented.status == "done" and ticket_id_of(commented.result) == ticket
    history = rt_api.get(f"/ticket/{ticket}/history", params={"fields": "Type"}).json()
    assert "Comment" in [item["Type"] for item in history["items"]]


def test_rt_down_goes_to_the_outbox_and_is_sent_when_rt_is_back(store, call_id, rt_api):
    delivery = Delivery(store, settings(), environ=RT_ENV)
    rt_server("stop")
    try:
        waiting = delivery.export(call_id, "rt")
        assert waiting.status == "pending" and "Could not reach RT" in waiting.message
        assert len(delivery.outbox()) == 1
        assert delivery.retry_due() == []  # not due yet: backoff
        assert delivery.retry_due(force=True)[0].status == "pending"  # still down
    finally:
        rt_server("start")
    sent = delivery.retry_due(force=True)
    assert [s.status for s in sent] == ["done"]
    assert delivery.outbox() == []
    ticket = ticket_id_of(sent[0].result)
    assert rt_api.get(f"/ticket/{ticket}").json()["Subject"] == "VPN drops every hour"
    exports = store.get(call_id).exports
    assert exports[-1].status == "done" and exports[-1].attempts == 3


@pytest.mark.reliability("fault", "Helpdesk refuses the credentials (401)")
def test_refused_credentials_wait_for_new_ones(store, call_id, rt_api):
    wrong = RT_ENV | {"CALMLINE_RT_PASSWORD": "wrong"}
    waiting = Delivery(store, settings(), environ=wrong).export(call_id, "rt")
    assert waiting.status == "auth"
    assert Delivery(store, settings(), environ=wrong).retry_due() == []  # never retried blindly
    sent = Delivery(store, settings(), environ=RT_ENV).retry_due(force=True)
    assert [s.status for s in sent] == ["done"]


def test_an_unknown_queue_is_refused_with_rt_s_reason(store, call_id, rt_api):
    delivery = Delivery(store, settings(rt=RTSettings(queue="NoSuchQueue")), environ=RT_ENV)
    refused = delivery.export(call_id, "rt")
    assert refused.status == "failed" and "NoSuchQueue" in refused.message
    assert delivery.outbox() == []


class Receiver(BaseHTTPRequestHandler):
    answers: list[int] = []  # noqa: RUF012 (per-test, set by the fixture)
    bodies: list[dict] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.answers.pop(0)
        if status == 200:
            self.bodies.append(json.loads(body))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    Receiver.answers, Receiver.bodies = [], []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", Receiver
    server.shutdown()
    server.server_close()


def test_webhook_failure_waits_in_the_outbox_then_delivers(store, call_id, receiver):
    url, handler = receiver
    handler.answers = [503, 200]
    delivery = Delivery(store, settings(webhook=WebhookSettings(url=url)))
    assert delivery.export(call_id, "webhook").status == "pending"
    assert [s.status for s in delivery.retry_due(force=True)] == ["done"]
    payload = handler.bodies[0]
    assert payload["event"] == "call.export"
    assert payload["call"]["notes"] == "Password expired; reset it."
    assert "# Ticket update" in payload["ticket_update_markdown"]
