"""The webhook export against a real HTTP server on loopback (stdlib http.server in a thread):
what arrives is the payload, signed as docs/webhook.md says; failures map to the helpdesk
errors."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app.delivery import HelpdeskAuthError, HelpdeskRejected, HelpdeskUnavailable, post_webhook

PAYLOAD = {
    "event": "call.export",
    "calmline": "0.1.0",
    "ticket_update_markdown": "## Call with Jo Client\n\nRefund of €42 promised — by Friday.\n",
    "call": {
        "uid": "6f1c2a9e-0d7b-4a57-9d6e-2f0e3c1b5a44",
        "started_at": "2026-03-02T10:15:00+01:00",
        "ended_at": "2026-03-02T10:21:30+01:00",
        "duration_s": 390.0,
        "agent": "Sam Taylor",
        "client": {"name": "Jo Client", "contact": "jo@example.com"},
        "ticket_id": "4521",
        "subject": "Double charge",
        "segments": [{"id": 0, "speaker": "client", "start": 0.4, "end": 3.1, "text": "Hi…"}],
        "mood": [{"t": 3.1, "value": -0.4, "trend": "falling"}],
        "cues": [],
        "flags": [],
        "incidents": [],
        "notes": "Refund promised.",
        "checklist": {"Confirmed identity": True},
    },
}


@dataclass
class Receiver:
    url: str
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)


def verify(body: bytes, header: str, secret: str) -> bool:
    """The check a receiver makes (the example in docs/webhook.md)."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """POST /ok → 200; POST /status/N → N with a short reason in the body."""
    received = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.requests.append((self.path, dict(self.headers.items()), body))
            status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/status/") else 200
            answer = {
                200: b"ok",
                400: b'{"error": "field ticket_id is required"}',
                401: b"bad signature",
                500: b"upstream exploded",
            }.get(status, b"")
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="webhook-receiver", daemon=True
    )
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_signed_post_arrives_as_the_payload(receiver: Receiver) -> None:
    status = post_webhook(f"{receiver.url}/ok", PAYLOAD, secret="s3cret ✓")

    assert status == 200
    [(path, headers, body)] = receiver.requests
    assert path == "/ok"
    assert json.loads(body) == PAYLOAD
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Calmline-Event"] == "call.export"
    assert verify(body, headers["X-Calmline-Signature"], "s3cret ✓")
    assert not verify(body, headers["X-Calmline-Signature"], "another secret")
    assert "€42" in body.decode("utf-8")  # UTF-8 JSON, not \u escapes


def test_without_a_secret_there_is_no_signature(receiver: Receiver) -> None:
    post_webhook(f"{receiver.url}/ok", PAYLOAD)
    [(_, headers, body)] = receiver.requests
    assert "X-Calmline-Signature" not in headers
    assert json.loads(body) == PAYLOAD


def test_server_error_is_unavailable(receiver: Receiver) -> None:
    with pytest.raises(HelpdeskUnavailable) as caught:
        post_webhook(f"{receiver.url}/status/500", PAYLOAD)
    assert caught.value.retryable is True
    assert "HTTP 500: upstream exploded" in str(caught.value)


def test_unauthorized_is_an_auth_error(receiver: Receiver) -> None:
    with pytest.raises(HelpdeskAuthError) as caught:
        post_webhook(f"{receiver.url}/status/401", PAYLOAD, secret="wrong")
    assert caught.value.retryable is False
    assert "bad signature" in str(caught.value)


def test_bad_request_is_rejected_with_the_receivers_words(receiver: Receiver) -> None:
    with pytest.raises(HelpdeskRejected) as caught:
        post_webhook(f"{receiver.url}/status/400", PAYLOAD)
    assert caught.value.retryable is False
    assert "field ticket_id is required" in str(caught.value)


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HelpdeskUnavailable) as caught:
        post_webhook(f"http://127.0.0.1:{port}/hook", PAYLOAD)
    assert caught.value.retryable is True
    assert "refused" in str(caught.value).lower()


def test_timeout_is_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(HelpdeskUnavailable, match="did not answer in time"):
        post_webhook("http://hooks.test/x", PAYLOAD, timeout=2, transport=httpx.MockTransport(slow))
