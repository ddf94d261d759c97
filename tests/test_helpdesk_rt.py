"""The Request Tracker connector against a real RT 5 (scripts/rt-server.sh start), read back
through RT's own REST 2.0 API; plus the failures RT cannot be made to produce on demand: a
peer that is down, one that never answers, a proxy in front of RT."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.helpdesk import (
    Attachment,
    HelpdeskAuthError,
    HelpdeskRejected,
    HelpdeskUnavailable,
    RTClient,
    RTCredentials,
)

RT_URL = os.environ.get("CALMLINE_TEST_RT_URL", "http://127.0.0.1:8080/rt").rstrip("/")
RT_USER = os.environ.get("CALMLINE_TEST_RT_USER", "root")
RT_PASSWORD = os.environ.get("CALMLINE_TEST_RT_PASSWORD", "password")
# scripts/rt-server.sh writes an auth token for root here at each start.
TOKEN_FILE = Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp") / "calmline-rt" / "token"
START_RT = "bash scripts/rt-server.sh start"


@pytest.fixture(scope="session")
def rt_api() -> Iterator[httpx.Client]:
    """RT's REST 2.0 API as root, to read back what the connector wrote."""
    client = httpx.Client(base_url=f"{RT_URL}/REST/2.0", auth=(RT_USER, RT_PASSWORD), timeout=10.0)
    try:
        answer = client.get("/rt")
        answer.raise_for_status()
    except httpx.HTTPError as error:
        client.close()
        pytest.fail(
            f"Request Tracker does not answer at {RT_URL} ({error}); start it with `{START_RT}` "
            "(or point CALMLINE_TEST_RT_URL at a running RT 5)"
        )
    yield client
    client.close()


@pytest.fixture
def credentials() -> RTCredentials:
    return RTCredentials(url=RT_URL, user=RT_USER, password=RT_PASSWORD)


@pytest.fixture
def rt(rt_api: httpx.Client, credentials: RTCredentials) -> Iterator[RTClient]:
    with RTClient(RT_URL, credentials) as client:
        yield client


def unique_subject(what: str) -> str:
    return f"{what} {uuid.uuid4().hex[:8]}"


def attachments_of(rt_api: httpx.Client, ticket_id: int) -> list[dict[str, Any]]:
    answer = rt_api.get(
        f"/ticket/{ticket_id}/attachments",
        params={"fields": "Filename,ContentType,Content", "per_page": 100},
    )
    answer.raise_for_status()
    return answer.json()["items"]


def attachment_bytes(rt_api: httpx.Client, attachment_id: str) -> bytes:
    answer = rt_api.get(f"/attachment/{attachment_id}")
    answer.raise_for_status()
    return base64.b64decode(answer.json()["Content"])


def by_filename(items: list[dict[str, Any]], filename: str) -> dict[str, Any]:
    found = [item for item in items if item["Filename"] == filename]
    assert len(found) == 1, f"expected one attachment named {filename}: {items}"
    return found[0]


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A loopback TCP server that accepts connections and never answers; yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept_forever() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connection, _ = server.accept()
                held.append(connection)

    thread = threading.Thread(target=accept_forever, name="silent-server", daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        server.close()


# --- against the real RT ---------------------------------------------------------------------


def test_check_returns_rts_version(rt: RTClient) -> None:
    assert rt.check().startswith("5.")


def test_create_ticket_with_attachments_is_stored_as_sent(
    rt: RTClient, rt_api: httpx.Client
) -> None:
    subject = unique_subject("Refund for a double charge — Café Ünïcode")
    content = "## Ticket update\n\nClient was charged twice; refund of €42 promised by Friday.\n"
    transcript = "agent: Hello, how can I help?\nclient: I was charged twice — €42.\n".encode()
    binary = bytes(range(256)) * 4
    ticket = rt.create_ticket(
        "General",
        subject,
        content,
        attachments=[
            Attachment("transcript.txt", "text/plain", transcript),
            Attachment("call.bin", "application/octet-stream", binary),
        ],
        requestor="jo.client@example.com",
    )

    assert ticket.id > 0
    assert ticket.url == f"{RT_URL}/Ticket/Display.html?id={ticket.id}"
    stored = rt_api.get(f"/ticket/{ticket.id}").json()
    assert stored["Subject"] == subject
    queue = rt_api.get(f"/queue/{stored['Queue']['id']}").json()
    assert queue["Name"] == "General"
    assert [r["id"] for r in stored["Requestor"]] == ["jo.client@example.com"]

    items = attachments_of(rt_api, ticket.id)
    bodies = [i for i in items if not i["Filename"] and i["ContentType"] == "text/plain"]
    assert bodies[0]["Content"] == content
    text_file = by_filename(items, "transcript.txt")
    assert text_file["ContentType"] == "text/plain"
    assert text_file["Content"] == transcript.decode()
    binary_file = by_filename(items, "call.bin")
    assert binary_file["ContentType"] == "application/octet-stream"
    assert attachment_bytes(rt_api, binary_file["id"]) == binary


def test_comment_with_attachment_is_added_to_the_ticket(rt: RTClient, rt_api: httpx.Client) -> None:
    ticket = rt.create_ticket("General", unique_subject("Printer offline"), "First contact.")
    notes = "Called back: printer works again after a driver update. ✓".encode()

    ref = rt.comment(
        ticket.id,
        "Follow-up call: resolved.",
        attachments=[Attachment("notes.md", "text/markdown", notes)],
    )

    assert ref.id == ticket.id
    assert ref.url == ticket.url
    history = rt_api.get(f"/ticket/{ticket.id}/history", params={"fields": "Type"}).json()
    assert [t["Type"] for t in history["items"]].count("Comment") == 1
    items = attachments_of(rt_api, ticket.id)
    assert any(i["Content"] == "Follow-up call: resolved." for i in items)
    notes_file = by_filename(items, "notes.md")
    assert notes_file["ContentType"] == "text/markdown"
    # RT lists only text/plain and text/html decoded; the bytes it stored are what was sent.
    assert attachment_bytes(rt_api, notes_file["id"]) == notes


def test_token_auth_creates_tickets_as_the_tokens_owner(rt_api: httpx.Client) -> None:
    token = os.environ.get("CALMLINE_TEST_RT_TOKEN") or (
        TOKEN_FILE.read_text().strip() if TOKEN_FILE.exists() else ""
    )
    if not token:
        pytest.fail(
            f"no RT auth token: `{START_RT}` writes one to {TOKEN_FILE} "
            "(or set CALMLINE_TEST_RT_TOKEN for another RT)"
        )
    with RTClient(RT_URL, RTCredentials(url=RT_URL, token=token)) as rt:
        assert rt.check().startswith("5.")
        ticket = rt.create_ticket("General", unique_subject("Token auth"), "Made with a token.")
    stored = rt_api.get(f"/ticket/{ticket.id}").json()
    assert stored["Creator"]["id"] == RT_USER


def test_wrong_password_is_an_auth_error(rt_api: httpx.Client) -> None:
    wrong = RTCredentials(url=RT_URL, user=RT_USER, password="not-the-password")
    with RTClient(RT_URL, wrong) as rt, pytest.raises(HelpdeskAuthError) as caught:
        rt.create_ticket("General", "never created", "x")
    assert caught.value.retryable is False
    assert "refused the credentials" in str(caught.value)
    assert "CALMLINE_RT_PASSWORD" in str(caught.value)


def test_wrong_token_is_an_auth_error(rt_api: httpx.Client) -> None:
    wrong = RTCredentials(url=RT_URL, token="1-99-0123456789abcdef")
    with RTClient(RT_URL, wrong) as rt, pytest.raises(HelpdeskAuthError) as caught:
        rt.check()
    assert "auth token" in str(caught.value)


def test_unknown_queue_is_rejected_naming_the_queue(rt: RTClient) -> None:
    with pytest.raises(HelpdeskRejected) as caught:
        rt.create_ticket("No Such Queue", "never created", "x")
    assert caught.value.retryable is False
    message = str(caught.value)
    assert "'No Such Queue'" in message
    assert "No permission to create tickets in the queue" in message  # RT's own words


def test_comment_on_a_missing_ticket_is_rejected(rt: RTClient) -> None:
    with pytest.raises(HelpdeskRejected) as caught:
        rt.comment(987_654_321, "lost")
    assert "ticket 987654321" in str(caught.value)
    assert "Message could not be recorded" in str(caught.value)


def test_address_without_rts_web_path_is_rejected(
    rt_api: httpx.Client, credentials: RTCredentials
) -> None:
    host_only = RT_URL.rsplit("/", 1)[0]
    with RTClient(host_only, credentials) as rt, pytest.raises(HelpdeskRejected) as caught:
        rt.check()
    assert "HTTP 404" in str(caught.value)
    assert "web address including its path" in str(caught.value)


# --- peers that are down, silent or not RT ---------------------------------------------------


def test_rt_not_running_is_unavailable_and_retryable(credentials: RTCredentials) -> None:
    url = f"http://127.0.0.1:{free_loopback_port()}/rt"
    with RTClient(url, credentials) as rt, pytest.raises(HelpdeskUnavailable) as caught:
        rt.create_ticket("General", "s", "c")
    assert caught.value.retryable is True
    assert "Could not reach RT at" in str(caught.value)
    assert "refused" in str(caught.value).lower()


def test_rt_that_never_answers_times_out_as_unavailable(credentials: RTCredentials) -> None:
    with silent_server() as port:
        url = f"http://127.0.0.1:{port}/rt"
        with (
            RTClient(url, credentials, timeout=0.3) as rt,
            pytest.raises(HelpdeskUnavailable) as caught,
        ):
            rt.check()
    assert caught.value.retryable is True
    assert "did not answer in time (0.3 s" in str(caught.value)


def test_server_errors_are_unavailable_with_retry_after(credentials: RTCredentials) -> None:
    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "120"}, text="Service Unavailable")

    transport = httpx.MockTransport(busy)
    with (
        RTClient(RT_URL, credentials, transport=transport) as rt,
        pytest.raises(HelpdeskUnavailable) as caught,
    ):
        rt.comment(1, "x")
    assert caught.value.retry_after == 120.0
    assert "HTTP 503" in str(caught.value)


def test_an_html_page_instead_of_a_ticket_is_rejected(credentials: RTCredentials) -> None:
    # e.g. a single-sign-on proxy in front of RT that answers 200 with its login page
    def login_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, html="<html><title>Sign in – Corp SSO</title></html>")

    transport = httpx.MockTransport(login_page)
    with (
        RTClient(RT_URL, credentials, transport=transport) as rt,
        pytest.raises(HelpdeskRejected) as caught,
    ):
        rt.create_ticket("General", "s", "c")
    assert "Sign in – Corp SSO" in str(caught.value)


def test_token_goes_in_rts_token_header_and_password_in_basic_auth() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"Version": "5.0.3"})

    transport = httpx.MockTransport(record)
    with RTClient(RT_URL, RTCredentials(url=RT_URL, token="1-2-abc"), transport=transport) as rt:
        rt.check()
    password = RTCredentials(url=RT_URL, user="sam", password="pw")
    with RTClient(RT_URL, password, transport=transport) as rt:
        rt.check()
    assert seen[0].headers["Authorization"] == "token 1-2-abc"
    assert seen[1].headers["Authorization"] == "Basic " + base64.b64encode(b"sam:pw").decode()
    assert str(seen[0].url) == f"{RT_URL}/REST/2.0/rt"


def test_credentials_without_a_secret_are_an_auth_error() -> None:
    with pytest.raises(HelpdeskAuthError, match="no RT password or auth token"):
        RTClient(RT_URL, RTCredentials(url=RT_URL, user="sam"))
