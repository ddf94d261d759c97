"""Peers that come and go during a working day: the team database and the helpdesk go
down and up several times while calls are recorded and exported. Every call reaches the
team database exactly once; every export is delivered once it can be."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from sqlalchemy import text
from support.helpdesk import RT_ENV, RT_URL, rt_server, settings, ticket_id_of
from support.team import ADMIN_URL, record_call

from app.delivery import HelpdeskAuthError, HelpdeskUnavailable, TicketRef
from app.delivery.outbox import Delivery
from app.delivery.rt import export_reference_line, reference_line
from app.store import CallStore
from app.store.sync import TeamSync


class FlakyProxy:
    """A TCP forwarder on loopback that can be switched off and on (connections refused
    while off, open connections cut), standing in for a network that flaps."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        with self._lock:
            sockets, self._open = ([listener] if listener else []) + self._open, []
        for sock in sockets:
            with contextlib.suppress(OSError):  # wakes a blocked accept() too
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass


@pytest.fixture
def team_db():
    name = f"calmline_flap_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not running ({exc}): bash scripts/postgres-server.sh start")
    admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.mark.reliability("fault", "Team database drops 5 times while 10 calls are recorded")
def test_calls_reach_a_flapping_team_database_exactly_once(tmp_path, team_db, reliability_note):
    proxy = FlakyProxy(5432)
    team_url = f"postgresql://calmline_admin:calmline_admin@127.0.0.1:{proxy.port}/{team_db}"
    local = CallStore.open(f"sqlite:///{tmp_path / 'local.db'}")
    sync = TeamSync(local, team_url)
    recorded = 0
    try:
        for flap in range(5):
            proxy.down()
            for _ in range(2):  # calls recorded while the team database is unreachable
                record_call(local, f"client {recorded}")
                recorded += 1
            down = sync.sync_once()
            assert down.error and down.waiting == len(sync.changed_calls())
            proxy.up()
            assert sync.sync_once().error is None, f"flap {flap}"
            assert sync.changed_calls() == []
    finally:
        proxy.down()
        sync.close()
        local.close()
    direct = CallStore.open(ADMIN_URL.rsplit("/", 1)[0] + f"/{team_db}")
    with direct.engine.connect() as connection:
        calls = connection.execute(text("SELECT count(*), count(DISTINCT uid) FROM calls")).one()
        lines = connection.execute(text("SELECT count(*) FROM segments")).scalar_one()
    direct.close()
    assert tuple(calls) == (recorded, recorded) and lines == 2 * recorded
    reliability_note(f"{recorded} calls recorded across 5 outages: {calls[0]} in the team "
                     "database, 0 duplicates, 0 lost")  # fmt: skip


@pytest.mark.reliability("fault", "Request Tracker stopped and restarted 3 times during exports")
def test_exports_survive_a_helpdesk_that_goes_down_and_up_repeatedly(tmp_path, rt_api):
    """(scripts/rt-server.sh gives RT a fresh database at each start, so each delivery is
    checked right after it, before the next restart.)"""
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    delivery = Delivery(store, settings(), environ=RT_ENV)
    try:
        for n in range(3):
            call_id = record_call(store, f"Client {n}")
            rt_server("stop")
            assert delivery.export(call_id, "rt").status == "pending"
            assert delivery.retry_due(force=True)[0].status == "pending"  # still down
            rt_server("start")
            sent = delivery.retry_due(force=True)
            assert [s.status for s in sent] == ["done"], sent
            subject = rt_api.get(f"/ticket/{ticket_id_of(sent[0].result)}").json()["Subject"]
            assert f"Client {n}" in subject
            found = rt_api.get("/tickets", params={"query": f"Subject LIKE 'Client {n}'"})
            assert found.json()["total"] == 1  # delivered once, not once per attempt
            assert delivery.outbox() == []
    finally:
        rt_server("start")
        store.close()


class LosingProxy(ThreadingHTTPServer):
    """An HTTP proxy on loopback in front of RT that loses the first ticket create (or, with
    ``post="comment"``, the first comment): with ``lose="answer"`` it forwards the POST, RT
    acts on it, and the proxy resets the client's connection instead of passing RT's answer
    on; with ``lose="request"`` it resets the connection before RT sees the POST. Everything
    else is forwarded as it is."""

    daemon_threads = True

    def __init__(self, lose: str, post: str = "create") -> None:
        super().__init__(("127.0.0.1", 0), _LosingHandler)
        self.lose = lose
        self.path_end = "/REST/2.0/ticket" if post == "create" else "/comment"
        self.lost = False
        self.seen: list[str] = []  # "METHOD /path -> status" (or "-> reset")
        self.rt = httpx.Client(timeout=30)
        self.url = f"http://127.0.0.1:{self.server_address[1]}{urlsplit(RT_URL).path}"
        self._thread = threading.Thread(target=self.serve_forever, name="rt-proxy", daemon=True)

    def __enter__(self) -> LosingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
        self.rt.close()


class _LosingHandler(BaseHTTPRequestHandler):
    server: LosingProxy

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        what = f"{self.command} {urlsplit(self.path).path}"
        lose = (
            self.command == "POST"
            and urlsplit(self.path).path.endswith(self.server.path_end)
            and not self.server.lost
        )
        if lose and self.server.lose == "request":
            self.server.lost = True
            return self._reset(what)
        rt = urlsplit(RT_URL)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        answer = self.server.rt.request(
            self.command, f"{rt.scheme}://{rt.netloc}{self.path}", headers=headers, content=body
        )
        if lose:  # RT has answered (the ticket or comment exists); Calmline never hears it
            self.server.lost = True
            return self._reset(f"{what} (RT: {answer.status_code})")
        self.server.seen.append(f"{what} -> {answer.status_code}")
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in (
                "content-length",
                "transfer-encoding",
                "connection",
                "content-encoding",
            ):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def _reset(self, what: str) -> None:
        self.server.seen.append(f"{what} -> reset")
        # SO_LINGER 0: close() sends a TCP RST, as a dropped connection or a crashing proxy does
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    do_GET = do_POST = do_PUT = _forward

    def log_message(self, *args) -> None:
        pass


def tickets_with_reference(rt_api: httpx.Client, reference: str, since: datetime) -> list[int]:
    """RT's tickets created since ``since`` whose first message carries ``reference``, read
    back as root (every ticket's create transaction, not a full-text search)."""
    query = f"Created >= '{since.astimezone(UTC):%Y-%m-%dT%H:%M:%S+00:00}'"
    found = rt_api.get("/tickets", params={"query": query, "per_page": 100}).json()
    assert found["total"] <= 100
    matching = []
    for item in found["items"]:
        ticket = int(item["id"])
        history = rt_api.get(f"/ticket/{ticket}/history", params={"fields": "Type"}).json()
        create = next(t["id"] for t in history["items"] if t["Type"] == "Create")
        parts = rt_api.get(
            f"/transaction/{create}/attachments", params={"fields": "Content", "per_page": 100}
        ).json()["items"]
        if any(reference_line(reference) in (p["Content"] or "") for p in parts):
            matching.append(ticket)
    return matching


def export_through(proxy: LosingProxy, tmp_path, client: str):
    """Export a new call to RT through ``proxy``: the first attempt, then a forced retry."""
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    delivery = Delivery(store, settings(), environ=RT_ENV | {"CALMLINE_RT_URL": proxy.url})
    call_id = record_call(store, client)
    first = delivery.export(call_id, "rt")
    retried = delivery.retry_due(force=True)
    record = store.get(call_id)
    store.close()
    return first, retried, record


@pytest.mark.reliability("fault", "RT creates the ticket but its answer is lost (connection reset)")
def test_a_create_whose_answer_is_lost_is_not_created_twice(tmp_path, rt_api, reliability_note):
    since = datetime.now(UTC).replace(microsecond=0)
    with LosingProxy(lose="answer") as proxy:
        first, retried, record = export_through(proxy, tmp_path, f"Client {uuid.uuid4().hex[:8]}")
    assert first.status == "pending" and "Could not reach RT" in first.message, first
    assert [r.status for r in retried] == ["done"], retried
    created = tickets_with_reference(rt_api, record.info.uid, since)
    assert len(created) == 1, (created, proxy.seen)  # exactly one ticket for the call
    ticket = created[0]
    assert retried[0].result == f"{proxy.url}/Ticket/Display.html?id={ticket}"
    assert record.info.ticket_id == str(ticket)
    export = record.exports[-1]
    assert (export.status, export.attempts, export.result) == ("done", 2, retried[0].result)
    posts = [line for line in proxy.seen if line.startswith("POST")]
    assert posts == ["POST /rt/REST/2.0/ticket (RT: 201) -> reset"], proxy.seen
    assert any(line.startswith("GET /rt/REST/2.0/tickets ->") for line in proxy.seen)
    reliability_note(f"RT made ticket {ticket}, its answer was reset; the retry found it by the "
                     f"call reference ({len(proxy.seen) - 1} reads, no second POST): "
                     f"{len(created)} ticket, 0 duplicates")  # fmt: skip


@pytest.mark.reliability("fault", "The create request is lost before RT sees it")
def test_a_create_lost_before_rt_saw_it_is_created_once_on_retry(tmp_path, rt_api):
    since = datetime.now(UTC).replace(microsecond=0)
    with LosingProxy(lose="request") as proxy:
        first, retried, record = export_through(proxy, tmp_path, f"Client {uuid.uuid4().hex[:8]}")
    assert first.status == "pending", first
    assert [r.status for r in retried] == ["done"], retried
    created = tickets_with_reference(rt_api, record.info.uid, since)
    assert len(created) == 1 and record.info.ticket_id == str(created[0])
    assert ticket_id_of(retried[0].result) == created[0]
    posts = [line for line in proxy.seen if line.startswith("POST")]
    assert posts == ["POST /rt/REST/2.0/ticket -> reset", "POST /rt/REST/2.0/ticket -> 201"]
    search = proxy.seen.index("GET /rt/REST/2.0/tickets -> 200")  # looked first, found none
    assert proxy.seen.index("POST /rt/REST/2.0/ticket -> 201") > search, proxy.seen


def comments_with_reference(rt_api: httpx.Client, ticket: int, reference: str) -> int:
    """How many of ticket ``ticket``'s comments end with the export reference, read as root."""
    history = rt_api.get(f"/ticket/{ticket}/history", params={"fields": "Type", "per_page": 100})
    found = 0
    for transaction in history.json()["items"]:
        if transaction["Type"] == "Comment":
            path = f"/transaction/{transaction['id']}/attachments"
            parts = rt_api.get(path, params={"fields": "Content", "per_page": 100}).json()["items"]
            found += any(export_reference_line(reference) in (p["Content"] or "") for p in parts)
    return found


def comment_through(proxy: LosingProxy, tmp_path, rt_api: httpx.Client):
    """Export a new call to RT through ``proxy`` as a comment on a new ticket: the first
    attempt, then a forced retry. Returns the ticket, the attempts and the POSTs the proxy
    saw, after checking that the ticket has exactly one comment from this export."""
    made = rt_api.post("/ticket", json={"Queue": "General", "Subject": "An earlier call"})
    ticket = int(made.json()["id"])
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    delivery = Delivery(store, settings(), environ=RT_ENV | {"CALMLINE_RT_URL": proxy.url})
    call_id = record_call(store, f"Client {uuid.uuid4().hex[:8]}")
    first = delivery.export(call_id, "rt", ticket_id=str(ticket))
    retried = delivery.retry_due(force=True)
    uid = store.get(call_id).info.uid
    store.close()
    assert first.status == "pending" and "Could not reach RT" in first.message, first
    assert [r.status for r in retried] == ["done"], retried
    assert ticket_id_of(retried[0].result) == ticket
    reference = f"{uid}/{first.export_id}"
    assert comments_with_reference(rt_api, ticket, reference) == 1, proxy.seen
    return ticket, [line for line in proxy.seen if line.startswith("POST")]


@pytest.mark.reliability("fault", "RT adds a comment but its answer is lost (connection reset)")
def test_a_comment_whose_answer_is_lost_is_not_added_twice(tmp_path, rt_api, reliability_note):
    with LosingProxy(lose="answer", post="comment") as proxy:
        ticket, posts = comment_through(proxy, tmp_path, rt_api)
    assert posts == [f"POST /rt/REST/2.0/ticket/{ticket}/comment (RT: 201) -> reset"], posts
    reliability_note(f"RT added the comment to ticket {ticket}, its answer was reset; the retry "
                     "found it by the export reference (no second POST): 1 comment, "
                     "0 duplicates")  # fmt: skip


def test_a_comment_lost_before_rt_saw_it_is_added_once_on_retry(tmp_path, rt_api):
    with LosingProxy(lose="request", post="comment") as proxy:
        ticket, posts = comment_through(proxy, tmp_path, rt_api)
    comment = f"POST /rt/REST/2.0/ticket/{ticket}/comment"
    assert posts == [f"{comment} -> reset", f"{comment} -> 201"], posts


class ScriptedRT:
    """RTClient's create/find as a script: each create makes a ticket, and its answer is lost
    while ``lose_answers`` says so; ``refuse`` makes every request an auth error."""

    tickets: dict[int, tuple[str, str | None]]  # id → (subject, reference)
    lose_answers = 0
    refuse = False

    def __init__(self, url: str, credentials) -> None:
        self.url = url

    def __enter__(self) -> ScriptedRT:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def create_ticket(
        self, queue, subject, content, attachments=(), requestor=None, reference=None
    ):
        if ScriptedRT.refuse:
            raise HelpdeskAuthError("refused")
        ticket = len(ScriptedRT.tickets) + 1
        ScriptedRT.tickets[ticket] = (subject, reference)
        if ScriptedRT.lose_answers:
            ScriptedRT.lose_answers -= 1
            raise HelpdeskUnavailable("connection reset")
        return TicketRef(ticket, f"{self.url}/Ticket/Display.html?id={ticket}")

    def find_created_ticket(self, subject, reference, created_after):
        if ScriptedRT.refuse:
            raise HelpdeskAuthError("refused")
        for ticket, made in ScriptedRT.tickets.items():
            if made == (subject, reference):
                return TicketRef(ticket, f"{self.url}/Ticket/Display.html?id={ticket}")
        return None


def test_a_lost_create_is_still_looked_for_after_the_credentials_were_refused(tmp_path):
    ScriptedRT.tickets, ScriptedRT.lose_answers, ScriptedRT.refuse = {}, 1, False
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    delivery = Delivery(store, settings(), environ=RT_ENV, rt_client=ScriptedRT)
    try:
        call_id = record_call(store, "Client")
        assert delivery.export(call_id, "rt").status == "pending"  # made, answer lost
        ScriptedRT.refuse = True
        assert [d.status for d in delivery.retry_due(force=True)] == ["auth"]
        ScriptedRT.refuse = False
        sent = delivery.retry_due(force=True)
        assert [d.status for d in sent] == ["done"] and ticket_id_of(sent[0].result) == 1
        assert len(ScriptedRT.tickets) == 1 and store.get(call_id).info.ticket_id == "1"

        # RT refusing a create says it made no ticket: the next attempt need not look
        ScriptedRT.tickets, ScriptedRT.refuse = {}, True
        other = record_call(store, "Other client")
        assert delivery.export(other, "rt").status == "auth"
        assert store.pending_exports(statuses=("auth",))[0].request["rt_unanswered_creates"] == []
    finally:
        store.close()
