"""Sending a stored call where it should go — files (ticket update, JSON, follow-up e-mail
draft) and helpdesks (Request Tracker, a webhook) — and the outbox for helpdesks that are
down, slow or refusing.

Every export is recorded with the call. A helpdesk export that cannot be delivered now is
never dropped: a timeout, refused connection, 5xx or 429 keeps it ``pending`` with its next
attempt time (backoff); refused credentials keep it waiting for credentials (``auth``); a
request the helpdesk rejects (unknown queue, closed ticket) is ``failed`` with the
helpdesk's own words. The content is made from the call's record when it is sent, so notes
finished after a failed attempt still go out.

A new RT ticket is created at most once: RT's REST API has no idempotency key, so before each
create the export records the subject it sends (``request["rt_unanswered_creates"]``); a
retry first asks RT for a ticket with that subject whose first message carries the call's
reference (its uid) and records that ticket instead of creating another. The record is
undone when RT answered that it did not create the ticket (credentials, rejection). A
comment on an existing ticket is handled the same way: the export records the reference it
sends (the call's uid and the export's id, ``request["rt_unanswered_comments"]``) and a
retry first looks for it among the ticket's newest comments.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app import __version__
from app.calls.exports import (
    export_filename,
    follow_up_email,
    ticket_markdown,
    transcript_text,
    write_eml,
)
from app.calls.notes import save_notes
from app.calls.records import CallRecord
from app.delivery import (
    Attachment,
    CredentialsError,
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskRejected,
    HelpdeskUnavailable,
    RTClient,
    TicketRef,
    next_attempt_delay,
    post_webhook,
    rt_credentials,
)
from app.delivery.rt import rt_subject
from app.settings import Settings, data_dir
from app.store import CallStore, PendingExport
from app.store.calls import utcnow

FILE_TARGETS = ("markdown", "json", "email")
HELPDESK_TARGETS = ("rt", "webhook")
TARGETS = FILE_TARGETS + HELPDESK_TARGETS
WEBHOOK_SECRET_ENV = "CALMLINE_WEBHOOK_SECRET"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Subjects of RT creates that may have made a ticket without Calmline hearing back.
UNANSWERED_CREATES = "rt_unanswered_creates"
# References of RT comments that may have been added without Calmline hearing back.
UNANSWERED_COMMENTS = "rt_unanswered_comments"
# How much earlier than the call's start (this machine's clock) RT may date its ticket.
_RT_CLOCK_MARGIN = timedelta(days=1)


class DeliveryError(Exception):
    """The export cannot even be attempted (unknown call, missing settings)."""


@dataclass(frozen=True)
class Delivered:
    target: str
    status: str  # "done" | "pending" (in the outbox) | "auth" (needs credentials) | "failed"
    result: str  # a file, a ticket's web address, the webhook's answer
    message: str  # one line for the agent
    export_id: int | None = None


def default_exports_dir() -> Path:
    return data_dir() / "exports"


class Delivery:
    def __init__(
        self,
        store: CallStore,
        settings: Settings,
        exports_dir: Path | None = None,
        environ: Mapping[str, str] = os.environ,
        rt_client: Callable[..., RTClient] = RTClient,
        webhook: Callable[..., int] = post_webhook,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.settings = settings
        self.exports_dir = exports_dir or default_exports_dir()
        self._environ = environ
        self._rt_client = rt_client
        self._webhook = webhook
        self._clock = clock

    # -- one export --------------------------------------------------------------------------
    def export(
        self,
        call_id: int,
        target: str,
        out: Path | None = None,
        include_transcript: bool = False,
        queue: str | None = None,
        ticket_id: str | None = None,
        url: str | None = None,
    ) -> Delivered:
        if target not in TARGETS:
            raise DeliveryError(
                f"unknown export target {target!r}; use one of {', '.join(TARGETS)}"
            )
        record = self._record(call_id)
        if target in FILE_TARGETS:
            path = self._write_file(record, target, out, include_transcript)
            export_id = self.store.add_export(call_id, target, "done", result=str(path))
            return Delivered(target, "done", str(path), f"saved {path}", export_id)
        request = self._request(record, target, queue, ticket_id, url)
        export_id = self.store.add_export(call_id, target, "pending", request=request)
        return self._attempt(export_id, record, target, request, attempts=0)

    # -- the outbox --------------------------------------------------------------------------
    def outbox(self) -> list[PendingExport]:
        return self.store.pending_exports(statuses=("pending", "auth"))

    def retry_due(self, force: bool = False) -> list[Delivered]:
        """Try the exports whose next attempt is due (all waiting ones with ``force``,
        e.g. after the helpdesk is back or new credentials were entered)."""
        waiting = (
            self.outbox()
            if force
            else self.store.pending_exports(due_by=self._clock(), statuses=("pending",))
        )
        outcomes = []
        for item in waiting:
            record = self.store.get(item.call_id)
            if record is None:
                continue
            outcomes.append(
                self._attempt(item.id, record, item.target, item.request, item.attempts)
            )
        return outcomes

    # -- the work ------------------------------------------------------------------------------
    def _record(self, call_id: int) -> CallRecord:
        record = self.store.get(call_id)
        if record is None:
            raise DeliveryError(f"no call {call_id} in {self.store.where}")
        return record

    def _write_file(
        self, record: CallRecord, target: str, out: Path | None, include_transcript: bool
    ) -> Path:
        kind = {"markdown": "update", "json": "json", "email": "follow_up"}[target]
        path = out or self.exports_dir / export_filename(record, kind)
        if target == "markdown":
            save_notes(path, ticket_markdown(record, include_transcript))
        elif target == "json":
            from app.calls.exports import call_json

            save_notes(path, call_json(record) + "\n")
        else:
            agent = self.settings.agent_name or record.info.agent
            message = follow_up_email(
                record, agent, self.settings.sender_address, self.settings.team
            )
            write_eml(message, path)
        return path

    def _request(
        self,
        record: CallRecord,
        target: str,
        queue: str | None,
        ticket_id: str | None,
        url: str | None,
    ) -> dict[str, Any]:
        if target == "rt":
            rt_url = url or self.settings.rt.url or self._environ.get("CALMLINE_RT_URL", "")
            if not rt_url:
                raise DeliveryError(
                    "no Request Tracker address: set [rt] url in settings.toml, "
                    "CALMLINE_RT_URL, or pass --url"
                )
            ticket = (ticket_id or record.info.ticket_id or "").strip().lstrip("#")
            if ticket and not ticket.isdigit():
                raise DeliveryError(f"RT ticket ids are numbers, not {ticket!r}")
            return {
                "url": rt_url,
                "user": self.settings.rt.user,
                "queue": queue or self.settings.rt.queue,
                "ticket_id": int(ticket) if ticket else None,
            }
        hook_url = url or self.settings.webhook.url
        if not hook_url:
            raise DeliveryError("no webhook address: set [webhook] url in settings.toml or --url")
        return {"url": hook_url}

    def _attempt(
        self,
        export_id: int,
        record: CallRecord,
        target: str,
        request: dict[str, Any],
        attempts: int,
    ) -> Delivered:
        attempts += 1
        now = self._clock()
        try:
            result = (
                self._send_rt(record, request, export_id)
                if target == "rt"
                else self._send_webhook(record, request)
            )
        except (HelpdeskAuthError, CredentialsError) as exc:
            self.store.update_export(
                export_id,
                status="auth",
                attempts=attempts,
                last_error=str(exc),
                next_attempt_at=None,
            )
            return Delivered(target, "auth", "", f"waiting for credentials: {exc}", export_id)
        except HelpdeskUnavailable as exc:
            delay = max(next_attempt_delay(attempts), exc.retry_after or 0.0)
            due = now + timedelta(seconds=delay)
            self.store.update_export(
                export_id, status="pending", attempts=attempts, last_error=str(exc),
                next_attempt_at=due,
            )  # fmt: skip
            return Delivered(
                target,
                "pending",
                "",
                f"in the outbox, next try in {delay:.0f} s: {exc}",
                export_id,
            )
        except (HelpdeskRejected, HelpdeskError) as exc:
            self.store.update_export(
                export_id,
                status="failed",
                attempts=attempts,
                last_error=str(exc),
                next_attempt_at=None,
            )
            return Delivered(target, "failed", "", f"refused: {exc}", export_id)
        self.store.update_export(
            export_id, status="done", attempts=attempts, result=result, last_error="",
            next_attempt_at=None,
        )  # fmt: skip
        return Delivered(target, "done", result, f"sent: {result}", export_id)

    def _send_rt(self, record: CallRecord, request: dict[str, Any], export_id: int) -> str:
        credentials = rt_credentials(request["url"], request.get("user") or None, self._environ)
        content = ticket_markdown(record)
        attachments = []
        transcript = transcript_text(record)
        if transcript:
            name = export_filename(record, "transcript")
            attachments.append(Attachment(name, "text/plain", transcript.encode("utf-8")))
        with self._rt_client(request["url"], credentials) as client:
            if request.get("ticket_id"):
                ticket = self._comment_rt(client, record, request, export_id, content, attachments)
            else:
                ticket = self._create_rt_ticket(
                    client, record, request, export_id, content, attachments
                )
                if record.id is not None:
                    self.store.update_info(record.id, ticket_id=str(ticket.id))
        return ticket.url

    def _create_rt_ticket(
        self,
        client: RTClient,
        record: CallRecord,
        request: dict[str, Any],
        export_id: int,
        content: str,
        attachments: list[Attachment],
    ) -> TicketRef:
        """A new ticket for the call — or the one an earlier attempt made, when RT has it."""
        reference = record.info.uid
        subject = rt_subject(_subject(record))
        contact = record.info.client_contact.strip()

        def create() -> TicketRef:
            return client.create_ticket(
                request["queue"],
                subject,
                content,
                attachments,
                requestor=contact if _EMAIL.match(contact) else None,
                reference=reference or None,
            )

        if not reference:
            return create()
        since = record.info.started_at - _RT_CLOCK_MARGIN
        return self._at_most_once(
            export_id,
            request,
            UNANSWERED_CREATES,
            subject,
            lambda earlier: client.find_created_ticket(earlier, reference, since),
            create,
        )

    def _comment_rt(
        self,
        client: RTClient,
        record: CallRecord,
        request: dict[str, Any],
        export_id: int,
        content: str,
        attachments: list[Attachment],
    ) -> TicketRef:
        """The call's comment on the request's ticket — or the one an earlier attempt of this
        export added, when RT has it."""
        ticket_id = int(request["ticket_id"])
        if not record.info.uid:
            return client.comment(ticket_id, content, attachments)
        reference = f"{record.info.uid}/{export_id}"
        return self._at_most_once(
            export_id,
            request,
            UNANSWERED_COMMENTS,
            reference,
            lambda earlier: client.find_comment(ticket_id, earlier),
            lambda: client.comment(ticket_id, content, attachments, reference=reference),
        )

    def _at_most_once(
        self,
        export_id: int,
        request: dict[str, Any],
        key: str,
        mark: str,
        find: Callable[[str], TicketRef | None],
        send: Callable[[], TicketRef],
    ) -> TicketRef:
        """``send()`` — unless an earlier attempt of this export already got it done and its
        answer was lost: each earlier attempt's mark (under ``request[key]``) is looked for
        with ``find`` first. The mark is recorded before sending, so a lost answer or
        Calmline stopping mid-request leaves the next attempt knowing to look, and taken
        back when RT answered that it did not do it (credentials, rejection)."""
        earlier: list[str] = list(request.get(key) or [])
        for before in earlier:
            found = find(before)
            if found is not None:
                return found
        self._set_request(export_id, request, key, list(dict.fromkeys([*earlier, mark])))
        try:
            return send()
        except (HelpdeskAuthError, HelpdeskRejected):
            self._set_request(export_id, request, key, earlier)
            raise

    def _set_request(self, export_id: int, request: dict[str, Any], key: str, value: Any) -> None:
        request[key] = value
        self.store.update_export(export_id, request=dict(request))

    def _send_webhook(self, record: CallRecord, request: dict[str, Any]) -> str:
        payload = {
            "event": "call.export",
            "calmline": __version__,
            "ticket_update_markdown": ticket_markdown(record),
            "call": record.to_json(),
        }
        secret = self._environ.get(WEBHOOK_SECRET_ENV) or None
        status = self._webhook(request["url"], payload, secret=secret)
        return f"{request['url']} answered {status}"


def _subject(record: CallRecord) -> str:
    info = record.info
    if info.subject:
        return info.subject
    who = f" with {info.client_name}" if info.client_name else ""
    return f"Phone call{who} on {info.started_at:%Y-%m-%d %H:%M}"
