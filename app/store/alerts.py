"""Live flag alerts (team mode, PostgreSQL): tell a supervisor who is online that a flag has
just reached the team database.

Migration 0004 makes PostgreSQL send ``NOTIFY calmline_flags, '<call id>'`` when flags are
inserted (on commit: a call's flags copied by one sync give one notification). Any role may
LISTEN, so the notification carries nothing but the call's id; :class:`FlagListener` then
reads the flags' kind, agent, time and words with an ordinary query *as the role it connects
as*, so row-level security decides what it learns: a supervisor gets every agent's flags,
an agent's role nothing of another agent's calls.

A sync replaces a call's flags (delete, insert again): the listener remembers which flags it
has seen — (call, time in the call, kind) — and reports only new ones. When the connection
is lost it retries with a growing pause; once back, it reports the flags that arrived
meanwhile. Qt-free: the window runs :meth:`FlagListener.run` on a worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from app.calls.exports import FLAG_WORDS
from app.store.team import TeamError, open_connection

log = logging.getLogger(__name__)

CHANNEL = "calmline_flags"  # the channel of migration 0004
POLL_S = 0.5  # how often the listening loop looks at its stop event
FIRST_RETRY_S = 0.5
LAST_RETRY_S = 30.0
EXCERPT_CHARS = 160
THREAD_NAME = "calmline-flag-alerts"

FlagKey = tuple[int, float, str]  # (call id, time in the call, kind)

# Row-level security applies: these return only the flags of calls the role may read.
ALL_FLAGS = "SELECT call_id, t, kind FROM flags"
FLAGS_OF_CALLS = (
    "SELECT f.call_id, f.t, f.kind, f.excerpt, c.agent, c.owner_role, c.started_at "
    "FROM flags f JOIN calls c ON c.id = f.call_id "
    "WHERE f.call_id = ANY(%s) ORDER BY c.started_at, f.t"
)


@dataclass(frozen=True)
class FlagAlert:
    """One new flag, as the connected role may read it."""

    call_id: int
    kind: str  # abusive_language | manager_request | sustained_negative
    agent: str  # the agent's name, else their database role
    at: datetime  # when it was said: the call's start plus the flag's time in the call
    excerpt: str


def alert_message(alert: FlagAlert) -> str:
    """'Flagged call: abusive language — agent ana, 14:02: “…”' (local time)."""
    why = FLAG_WORDS.get(alert.kind, alert.kind.replace("_", " "))
    words = " ".join(alert.excerpt.split())
    if len(words) > EXCERPT_CHARS:
        words = words[: EXCERPT_CHARS - 1].rstrip() + "…"
    said = f": “{words}”" if words else ""
    return f"Flagged call: {why} — agent {alert.agent}, {alert.at.astimezone():%H:%M}{said}"


class FlagListener:
    """LISTENs for new flags on the team database at ``url`` and calls ``on_alert`` with
    each new one it may read; ``on_state(connected, message)`` says when alerts work and
    when they are paused. :meth:`run` blocks until ``stop`` is set (within ``poll_s``, or the
    connection timeout while connecting)."""

    def __init__(
        self,
        url: str,
        on_alert: Callable[[FlagAlert], None],
        on_state: Callable[[bool, str], None] | None = None,
        *,
        poll_s: float = POLL_S,
        first_retry_s: float = FIRST_RETRY_S,
        last_retry_s: float = LAST_RETRY_S,
    ) -> None:
        self.url = url
        self._on_alert = on_alert
        self._on_state = on_state
        self._poll_s = poll_s
        self._first_retry_s = first_retry_s
        self._last_retry_s = last_retry_s
        self._seen: set[FlagKey] | None = None  # None: not connected yet
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.connected = threading.Event()  # listening now
        self.backend_pid: int | None = None  # the server process of the current connection
        self.connections = 0  # how many times it has connected (reconnections + 1)

    # -- on a thread of its own (without Qt) ----------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name=THREAD_NAME, daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- the loop ---------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        retry = self._first_retry_s
        while not stop.is_set():
            try:
                connection = open_connection(self.url)
            except TeamError as exc:
                retry = self._pause(stop, str(exc), retry)
                continue
            try:
                self._listen(connection, stop)
            except psycopg.Error as exc:
                if stop.is_set():
                    break
                retry = self._pause(stop, _first_line(exc), self._first_retry_s)
            finally:
                self.connected.clear()
                self.backend_pid = None
                connection.close()

    def _pause(self, stop: threading.Event, why: str, retry: float) -> float:
        log.info("flag alerts paused: %s; retrying in %.1f s", why, retry)
        self._state(False, f"live flag alerts paused ({why}); retrying")
        stop.wait(retry)
        return min(retry * 2, self._last_retry_s)

    def _listen(self, connection: psycopg.Connection[Any], stop: threading.Event) -> None:
        connection.execute(f"LISTEN {CHANNEL}")
        # After LISTEN: a flag committed from now on is either in this list or notified.
        keys = {(int(c), float(t), str(k)) for c, t, k in connection.execute(ALL_FLAGS)}
        if self._seen is None:
            self._seen = keys  # what was there before the supervisor came online
        else:  # back after a lost connection: what arrived meanwhile
            self._report(connection, {key[0] for key in keys - self._seen})
        self.backend_pid = connection.info.backend_pid
        self.connections += 1
        self.connected.set()
        self._state(True, "live flag alerts on")
        while not stop.is_set():
            call_ids: set[int] = set()
            # The generator holds the connection: collect first, query after.
            for notify in connection.notifies(timeout=self._poll_s, stop_after=1):
                try:
                    call_ids.add(int(notify.payload))
                except ValueError:
                    log.warning("ignored a %s notification: %r", CHANNEL, notify.payload)
            if call_ids:
                self._report(connection, call_ids)

    def _report(self, connection: psycopg.Connection[Any], call_ids: Iterable[int]) -> None:
        ids = sorted(call_ids)
        if not ids:
            return
        assert self._seen is not None
        rows = connection.execute(FLAGS_OF_CALLS, (ids,)).fetchall()
        for call_id, t, kind, excerpt, agent, owner_role, started_at in rows:
            key = (int(call_id), float(t), str(kind))
            if key in self._seen:
                continue  # a sync that copied the call again
            self._seen.add(key)
            alert = FlagAlert(
                call_id=int(call_id),
                kind=str(kind),
                agent=agent or owner_role or "—",
                at=started_at + timedelta(seconds=float(t)),
                excerpt=excerpt or "",
            )
            try:
                self._on_alert(alert)
            except Exception:
                log.exception("a flag alert could not be shown")

    def _state(self, connected: bool, message: str) -> None:
        if self._on_state is not None:
            try:
                self._on_state(connected, message)
            except Exception:
                log.exception("the flag alerts' state could not be shown")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__
