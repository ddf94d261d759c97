"""Peers that come and go during a working day: the team database and the helpdesk go
down and up several times while calls are recorded and exported. Every call reaches the
team database exactly once; every export is delivered once it can be."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid

import psycopg
import pytest
from sqlalchemy import text
from test_delivery import RT_ENV, rt_server, settings, ticket_id_of
from test_sync import ADMIN_URL, record_call

from app.delivery import Delivery
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
