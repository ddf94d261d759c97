"""The Request Tracker connector against a real RT 5 (scripts/rt-server.sh start), read back
through RT's own REST 2.0 API; plus the failures RT cannot be made to produce on demand: a
peer that is down, one that never answers, a proxy in front of RT."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.delivery import (
    Attachment,
    HelpdeskAuthError,
    HelpdeskRejected,
    HelpdeskUnavailable,
    RTClient,
    RTCredentials,
)
from app.delivery.rt import (
    export_reference_line,
    reference_line,
    rt_subject,
    ticketsql_date,
    ticketsql_string,
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


def test_a_created_ticket_is_found_again_by_its_reference(
    rt: RTClient, rt_api: httpx.Client
) -> None:
    # a subject RT would change (line break, over 200 bytes) and one TicketSQL must escape
    subject = unique_subject('It\'s a \\ "quoted"\nsubject — ' + "é" * 120)
    reference, since = str(uuid.uuid4()), datetime.now(UTC) - timedelta(minutes=5)
    ticket = rt.create_ticket("General", subject, "The notes.\n\n", reference=reference)

    stored = rt_api.get(f"/ticket/{ticket.id}").json()["Subject"]
    assert stored == rt_subject(subject) and len(stored.encode()) <= 200
    body = [i for i in attachments_of(rt_api, ticket.id) if i["ContentType"] == "text/plain"]
    assert body[0]["Content"] == f"The notes.\n\n{reference_line(reference)}\n"

    assert rt.find_created_ticket(subject, reference, since) == ticket
    rt.create_ticket("General", subject, "Another call, same subject.", reference=str(uuid.uuid4()))
    assert rt.find_created_ticket(subject, reference, since) == ticket  # confirmed, not guessed
    assert rt.find_created_ticket(subject, str(uuid.uuid4()), since) is None
    assert (
        rt.find_created_ticket(subject, reference, datetime.now(UTC) + timedelta(hours=1)) is None
    )
    assert rt.find_created_ticket("Edited: " + subject, reference, since) is None


def test_a_comment_is_found_again_by_its_export_reference(
    rt: RTClient, rt_api: httpx.Client
) -> None:
    ticket = rt.create_ticket("General", unique_subject("Router reboots"), "First contact.")
    reference = f"{uuid.uuid4()}/7"
    assert rt.find_comment(ticket.id, reference) is None  # a ticket without comments

    rt.comment(ticket.id, "Follow-up call: replaced the router.", reference=reference)
    rt.comment(ticket.id, "Another export of the call.", reference=f"{reference}1")

    texts = [i["Content"] for i in attachments_of(rt_api, ticket.id)]
    assert f"Follow-up call: replaced the router.\n\n{export_reference_line(reference)}\n" in texts
    assert rt.find_comment(ticket.id, reference) == ticket
    assert rt.find_comment(ticket.id, f"{uuid.uuid4()}/7") is None


def test_a_missing_ticket_has_no_earlier_comment(rt: RTClient) -> None:
    # RT 5.0.3 answers an empty history for it; the comment itself is then rejected
    assert rt.find_comment(999_999, f"{uuid.uuid4()}/1") is None


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


# --- looking for a ticket an earlier attempt created (RT's answers as seen from 5.0.3) -------


def _collection(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"total": len(items), "count": len(items), "page": 1, "pages": 1, "per_page": 20,
            "items": items}  # fmt: skip


def fake_rt(tickets: dict[int, str], seen: list[httpx.Request]) -> httpx.MockTransport:
    """RT whose search finds ``tickets`` (id → first message), newest first."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path.removeprefix("/rt/REST/2.0")
        if path == "/tickets":
            return httpx.Response(200, json=_collection([{"id": str(t)} for t in tickets]))
        if path.startswith("/ticket/") and path.endswith("/history"):
            ticket = int(path.split("/")[2])
            return httpx.Response(200, json=_collection([
                {"id": str(ticket * 10), "Type": "Create"},
                {"id": str(ticket * 10 + 1), "Type": "Comment"},
            ]))  # fmt: skip
        if path.startswith("/transaction/"):
            ticket = int(path.split("/")[2]) // 10
            return httpx.Response(200, json=_collection([
                {"id": "1", "ContentType": "multipart/mixed", "Content": ""},
                {"id": "2", "ContentType": "text/plain", "Content": tickets[ticket]},
                {"id": "3", "ContentType": "application/pdf", "Content": None},
            ]))  # fmt: skip
        return httpx.Response(404, json={"message": "Not Found"})

    return httpx.MockTransport(answer)


REF = "0b6f3a52-8c1e-4f4e-9d61-2f7a1c9e4d10"


def test_search_asks_for_this_users_ticket_with_that_subject_since_then(
    credentials: RTCredentials,
) -> None:
    seen: list[httpx.Request] = []
    since = datetime(2026, 3, 4, 15, 5, 6, tzinfo=timezone(timedelta(hours=1)))
    with RTClient(RT_URL, credentials, transport=fake_rt({}, seen)) as rt:
        assert rt.find_created_ticket("Agent's \\ call\nback", REF, since) is None
    assert len(seen) == 1 and seen[0].method == "GET"
    params = seen[0].url.params
    assert params["query"] == (
        "Creator = '__CurrentUser__' AND Subject = 'Agent\\'s \\\\ call back'"
        " AND Created >= '2026-03-04T14:05:06+00:00'"
    )
    assert (params["orderby"], params["order"]) == ("Created", "DESC")


def test_a_candidate_counts_only_with_the_reference_in_its_first_message(
    credentials: RTCredentials,
) -> None:
    seen: list[httpx.Request] = []
    tickets = {
        42: "Same subject, another call.\n\nCalmline call reference: 11111111-2222\n",
        41: f"The notes.\n\n{reference_line(REF)}\n",
    }
    with RTClient(RT_URL, credentials, transport=fake_rt(tickets, seen)) as rt:
        found = rt.find_created_ticket("s", REF, datetime(2026, 3, 4, tzinfo=UTC))
    assert found is not None and found.id == 41
    assert found.url == f"{RT_URL}/Ticket/Display.html?id=41"
    paths = [r.url.path.removeprefix("/rt/REST/2.0") for r in seen]
    assert paths == ["/tickets", "/ticket/42/history", "/transaction/420/attachments",
                     "/ticket/41/history", "/transaction/410/attachments"]  # fmt: skip


@pytest.mark.parametrize(
    ("look", "says"),
    [
        (lambda rt: rt.find_created_ticket("s", REF, datetime(2026, 3, 4, tzinfo=UTC)),
         "does not create the ticket again without knowing"),
        (lambda rt: rt.find_comment(7, f"{REF}/3"),
         "ticket 7's history .* does not comment again without knowing"),
    ],
    ids=["ticket", "comment"],
)  # fmt: skip
def test_a_lookup_rt_cannot_answer_is_rejected_not_taken_for_nothing_found(
    credentials: RTCredentials, look, says
) -> None:
    def bad_query(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": "Unknown field: Creator"})

    transport = httpx.MockTransport(bad_query)
    with (
        RTClient(RT_URL, credentials, transport=transport) as rt,
        pytest.raises(HelpdeskRejected, match="Unknown field: Creator") as caught,
    ):
        look(rt)
    assert re.search(says, str(caught.value)), caught.value


def test_only_comments_are_read_for_the_export_reference(credentials: RTCredentials) -> None:
    seen: list[httpx.Request] = []
    tickets = {7: f"Notes.\n\n{export_reference_line(REF + '/3')}\n"}
    with RTClient(RT_URL, credentials, transport=fake_rt(tickets, seen)) as rt:
        assert rt.find_comment(7, f"{REF}/3") is not None
        assert rt.find_comment(7, f"{REF}/4") is None
    paths = [r.url.path.removeprefix("/rt/REST/2.0") for r in seen]
    assert paths == ["/ticket/7/history", "/transaction/71/attachments"] * 2
    assert (seen[0].url.params["orderby"], seen[0].url.params["order"]) == ("id", "DESC")


def test_a_search_that_times_out_is_unavailable(credentials: RTCredentials) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    transport = httpx.MockTransport(slow)
    with (
        RTClient(RT_URL, credentials, transport=transport) as rt,
        pytest.raises(HelpdeskUnavailable, match="did not answer in time"),
    ):
        rt.find_created_ticket("s", REF, datetime(2026, 3, 4, tzinfo=UTC))


def test_create_sends_the_reference_line_and_rts_form_of_the_subject(
    credentials: RTCredentials,
) -> None:
    sent: list[dict[str, Any]] = []

    def created(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(201, json={"id": "7", "type": "ticket"})

    with RTClient(RT_URL, credentials, transport=httpx.MockTransport(created)) as rt:
        rt.create_ticket("General", "Two\nlines ", "Notes.\n", reference=REF)
        rt.create_ticket("General", "x" * 300, "Notes.")
    assert sent[0]["Subject"] == "Two lines"
    assert sent[0]["Content"] == f"Notes.\n\nCalmline call reference: {REF}\n"
    assert sent[1]["Content"] == "Notes."
    assert sent[1]["Subject"] == "x" * 197 + "…" and len(sent[1]["Subject"].encode()) == 200


def test_subjects_and_dates_in_rts_forms() -> None:
    assert rt_subject("  a\tb\r\nc ") == "a b c"
    cut = rt_subject("é" * 150)
    assert cut == "é" * 98 + "…" and len(cut.encode()) == 199
    assert ticketsql_string("it's \\") == "'it\\'s \\\\'"
    assert ticketsql_date(datetime(2026, 3, 4, 14, 5, 6)) == "'2026-03-04T14:05:06+00:00'"
