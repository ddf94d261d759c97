"""Request Tracker 5 through its REST 2.0 API: check the connection, create a ticket, comment
on one, with attachments.

RT's answers, as seen from RT 5.0.3 (what the error mapping below relies on):

- create → 201 ``{"id": "7", "type": "ticket", "_url": …}`` (the id is a string);
- comment → 201 with a JSON list of RT's messages (``["Comments added"]``);
- wrong credentials → 401 ``{"message": "Unauthorized"}``;
- an unknown (or disabled, or not permitted) queue → 403
  ``{"message": "No permission to create tickets in the queue 'X'"}`` — so a 403 is a refused
  *request* here, not refused credentials;
- a comment on a ticket that does not exist → 400 ``{"message": "Message could not be
  recorded"}``;
- a wrong web path → 404 (plain text or ``{"message": "Not Found"}``);
- a subject is stored on one line (line breaks dropped) and cut to 200 bytes of UTF-8;
- a TicketSQL search (``GET /tickets?query=…``) → 200 ``{"total": N, "items": [{"id": "7",
  …}], …}``, a query RT cannot parse → 400 ``{"message": "Unknown field: …"}``; a date with
  an offset (``'2026-03-04T14:05:06+00:00'``) is compared as that instant, but ``…Z`` is
  misread, so the offset is always spelled out;
- ``GET /ticket/N/history?fields=Type`` → the transactions, oldest first, the ``Create`` one
  first; ``GET /transaction/N/attachments?fields=ContentType,Content`` → its parts, text/plain
  ones with their decoded ``Content`` (asking for ``Parent`` there is a 500 in 5.0.3).

REST 2.0 has no idempotency key, so a create whose answer was lost may have made a ticket:
``create_ticket(reference=…)`` puts a reference line in the first message and
``find_created_ticket`` looks for that ticket before a retry creates another one. Comments
likewise: ``comment(reference=…)`` ends the comment with a reference line and
``find_comment`` looks for it among the ticket's newest comments.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from app import __version__
from app.delivery.credentials import RTCredentials
from app.delivery.errors import (
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskRejected,
    HelpdeskUnavailable,
    quote,
    retry_after_seconds,
    transport_error,
)

_CREDENTIALS_HINT = (
    "Set them again in Calmline's settings (Request Tracker), or via CALMLINE_RT_USER and "
    "CALMLINE_RT_PASSWORD or CALMLINE_RT_TOKEN."
)

# The line ``create_ticket(reference=…)`` ends the first message with; also for people: the
# reference is the call's uid, which ``calmline calls show`` takes.
REFERENCE_LABEL = "Calmline call reference:"
# The line ``comment(reference=…)`` ends a comment with: one export of a call (a call sent
# to a ticket again on purpose is another export, another comment).
EXPORT_REFERENCE_LABEL = "Calmline export reference:"
_SUBJECT_BYTES = 200  # RT's Tickets.Subject column; RT cuts longer subjects itself
# Tickets looked at by ``find_created_ticket`` (newest first): same creator, same subject,
# created after the call started — more than a few would be another problem.
_CANDIDATES = 20
# A ticket's newest transactions ``find_comment`` looks through (comments, replies, status
# changes…): an export's retry comes minutes to hours after its lost comment.
_HISTORY_LOOKBACK = 100

_ADDRESS_HINT = (
    "Calmline needs RT's web address including its path, e.g. https://rt.example.com/rt "
    "(the REST 2.0 API is under it at /REST/2.0)."
)


@dataclass(frozen=True)
class Attachment:
    """A file to attach; text/* without a charset is sent as UTF-8."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class TicketRef:
    id: int
    url: str  # the ticket's web page: {base}/Ticket/Display.html?id=N


def reference_line(reference: str) -> str:
    return f"{REFERENCE_LABEL} {reference}"


def export_reference_line(reference: str) -> str:
    return f"{EXPORT_REFERENCE_LABEL} {reference}"


def rt_subject(subject: str) -> str:
    """``subject`` as RT stores it: on one line, at most 200 bytes of UTF-8 (cut on a
    character, ending with "…"), so that a search for it finds the ticket."""
    line = " ".join(subject.split())
    if len(line.encode("utf-8")) <= _SUBJECT_BYTES:
        return line
    room = _SUBJECT_BYTES - len("…".encode())
    return line.encode("utf-8")[:room].decode("utf-8", errors="ignore").rstrip() + "…"


def ticketsql_string(value: str) -> str:
    """A TicketSQL string literal: single quotes, with backslash and quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ticketsql_date(moment: datetime) -> str:
    """A TicketSQL date literal RT reads as this instant whatever its own or the user's time
    zone (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return "'" + moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00") + "'"


def _rt_message(response: httpx.Response) -> str:
    """RT's own words from an answer: the JSON ``message``, a JSON list of messages, an HTML
    page's title, or the text itself."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and body.get("message"):
        return quote(str(body["message"]))
    if isinstance(body, list) and body:
        return quote("; ".join(str(item) for item in body if item))
    text = response.text
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title:
        return quote(title.group(1))
    return quote(text) or response.reason_phrase or f"HTTP {response.status_code}"


def _attachment_json(attachment: Attachment) -> dict[str, str]:
    content_type = attachment.content_type
    # Without a charset RT stores text/* bytes as they are but shows non-ASCII as mojibake.
    if content_type.lower().startswith("text/") and "charset" not in content_type.lower():
        content_type += "; charset=UTF-8"
    return {
        "FileName": attachment.filename,
        "FileType": content_type,
        "FileContent": base64.b64encode(attachment.data).decode("ascii"),
    }


class RTClient:
    """One RT instance, as one user. ``url`` is RT's base web address (e.g.
    ``http://127.0.0.1:8080/rt``); REST 2.0 lives at ``{url}/REST/2.0``. Every method raises
    HelpdeskUnavailable, HelpdeskAuthError or HelpdeskRejected (see ``errors``)."""

    def __init__(
        self,
        url: str,
        credentials: RTCredentials,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.strip().rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        headers = {"User-Agent": f"Calmline/{__version__}", "Accept": "application/json"}
        auth: httpx.Auth | None = None
        if credentials.token:
            headers["Authorization"] = f"token {credentials.token}"
        elif credentials.password is not None:
            auth = httpx.BasicAuth(credentials.user, credentials.password)
        else:
            raise HelpdeskAuthError(
                f"There is no RT password or auth token for {credentials.user or 'the user'} at "
                f"{self.url}. {_CREDENTIALS_HINT}"
            )
        self._client = httpx.Client(
            base_url=f"{self.url}/REST/2.0",
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    def __enter__(self) -> RTClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def ticket_url(self, ticket_id: int) -> str:
        return f"{self.url}/Ticket/Display.html?id={ticket_id}"

    def check(self) -> str:
        """Whether RT answers and accepts the credentials; returns RT's version string."""
        response = self._request("GET", "/rt", doing="checking the connection")
        version = _json_field(response, "Version")
        if response.status_code != 200 or not isinstance(version, str):
            raise HelpdeskRejected(
                f"{self._service} answered, but not like RT's REST 2.0 API "
                f"(HTTP {response.status_code}: {_rt_message(response)}). {_ADDRESS_HINT}"
            )
        return version

    def create_ticket(
        self,
        queue: str,
        subject: str,
        content: str,
        attachments: Sequence[Attachment] = (),
        requestor: str | None = None,
        reference: str | None = None,
    ) -> TicketRef:
        """A new ticket in ``queue`` whose first message is ``content`` (plain text), ending
        with a reference line when ``reference`` is given (see ``find_created_ticket``). The
        subject is sent as ``rt_subject`` makes it."""
        if reference:
            content = f"{content.rstrip()}\n\n{reference_line(reference)}\n"
        body: dict[str, Any] = {
            "Queue": queue,
            "Subject": rt_subject(subject),
            "Content": content,
            "ContentType": "text/plain",
        }
        if requestor:
            body["Requestor"] = requestor
        if attachments:
            body["Attachments"] = [_attachment_json(a) for a in attachments]
        doing = f"creating a ticket in queue '{queue}'"
        response = self._request("POST", "/ticket", json=body, doing=doing)
        ticket_id = _json_field(response, "id")
        if response.status_code not in (200, 201) or not str(ticket_id or "").isdigit():
            raise self._rejected(
                response,
                f"RT did not create the ticket in queue '{queue}'",
                f"Check that the queue '{queue}' exists in RT and that {self._who} may "
                "create tickets in it.",
            )
        ticket = int(str(ticket_id))
        return TicketRef(id=ticket, url=self.ticket_url(ticket))

    def find_created_ticket(
        self, subject: str, reference: str, created_after: datetime
    ) -> TicketRef | None:
        """The ticket an earlier ``create_ticket(subject=…, reference=…)`` made as this user,
        if RT has one: a TicketSQL search on creator, subject and creation time, each
        candidate confirmed by the reference line in its create transaction (a full-text
        ``Content LIKE`` search is off in most RTs). ``created_after`` should allow for the
        clocks of this machine and RT's to differ."""
        query = (
            f"Creator = '__CurrentUser__' AND Subject = {ticketsql_string(rt_subject(subject))}"
            f" AND Created >= {ticketsql_date(created_after)}"
        )
        doing = "looking for a ticket an earlier attempt may have created"
        params = {
            "query": query,
            "orderby": "Created",
            "order": "DESC",
            "per_page": _CANDIDATES,
            "fields": "Subject",
        }
        response = self._request("GET", "/tickets", params=params, doing=doing)
        found = _json_items(response) if response.status_code == 200 else None
        if found is None:
            raise self._rejected(
                response,
                "RT did not answer the search for a ticket an earlier attempt may have created",
                "Calmline does not create the ticket again without knowing; check RT's log, "
                "then export the call again.",
            )
        line = reference_line(reference)
        for item in found:
            ticket = str(item.get("id", ""))
            if ticket.isdigit() and line in self._first_message(int(ticket), doing):
                return TicketRef(id=int(ticket), url=self.ticket_url(int(ticket)))
        return None

    def find_comment(self, ticket_id: int, reference: str) -> TicketRef | None:
        """The comment an earlier ``comment(ticket_id, …, reference=…)`` added, if RT has it:
        the ticket's newest comments, each checked for the reference line."""
        doing = f"looking for a comment an earlier attempt may have added to ticket {ticket_id}"
        params = {
            "fields": "Type",
            "orderby": "id",
            "order": "DESC",
            "per_page": _HISTORY_LOOKBACK,
        }
        path = f"/ticket/{int(ticket_id)}/history"
        history = self._request("GET", path, params=params, doing=doing)
        found = _json_items(history) if history.status_code == 200 else None
        if found is None:
            raise self._rejected(
                history,
                f"RT did not show ticket {ticket_id}'s history to look for an earlier comment",
                "Calmline does not comment again without knowing; check that the ticket "
                f"exists and that {self._who} may see it, then export the call again.",
            )
        line = export_reference_line(reference)
        for transaction in found:
            if transaction.get("Type") != "Comment":
                continue
            if line in self._transaction_text(str(transaction.get("id", "")), doing):
                return TicketRef(id=int(ticket_id), url=self.ticket_url(int(ticket_id)))
        return None

    def _first_message(self, ticket_id: int, doing: str) -> str:
        """The text/plain parts of ticket ``ticket_id``'s create transaction, joined ("" when
        RT does not show them)."""
        history = self._request(
            "GET",
            f"/ticket/{ticket_id}/history",
            params={"fields": "Type", "per_page": 20},
            doing=doing,
        )
        create = next(
            (t for t in _json_items(history) or [] if t.get("Type") == "Create"),
            None,
        )
        if history.status_code != 200:
            return ""
        return self._transaction_text(str((create or {}).get("id", "")), doing)

    def _transaction_text(self, transaction: str, doing: str) -> str:
        """The text/plain parts of RT transaction ``transaction``, joined ("" when RT does
        not show them)."""
        if not transaction.isdigit():
            return ""
        parts = self._request(
            "GET",
            f"/transaction/{transaction}/attachments",
            params={"fields": "ContentType,Content", "per_page": 100},
            doing=doing,
        )
        if parts.status_code != 200:
            return ""
        return "\n".join(
            str(part.get("Content") or "")
            for part in _json_items(parts) or []
            if str(part.get("ContentType", "")).lower().startswith("text/plain")
        )

    def comment(
        self,
        ticket_id: int,
        content: str,
        attachments: Sequence[Attachment] = (),
        reference: str | None = None,
    ) -> TicketRef:
        """An internal comment (not sent to the requestor) on ticket ``ticket_id``, ending
        with a reference line when ``reference`` is given (see ``find_comment``)."""
        if reference:
            content = f"{content.rstrip()}\n\n{export_reference_line(reference)}\n"
        body: dict[str, Any] = {"Content": content, "ContentType": "text/plain"}
        if attachments:
            body["Attachments"] = [_attachment_json(a) for a in attachments]
        path = f"/ticket/{int(ticket_id)}/comment"
        response = self._request("POST", path, json=body, doing=f"commenting on ticket {ticket_id}")
        if response.status_code != 201:
            raise self._rejected(
                response,
                f"RT did not add the comment to ticket {ticket_id}",
                f"Check that ticket {ticket_id} exists and that {self._who} may comment on it.",
            )
        return TicketRef(id=int(ticket_id), url=self.ticket_url(int(ticket_id)))

    @property
    def _service(self) -> str:
        return f"RT at {self.url}"

    @property
    def _who(self) -> str:
        return f"user '{self.credentials.user}'" if self.credentials.user else "this user"

    def _request(self, method: str, path: str, *, doing: str, **kwargs: Any) -> httpx.Response:
        """Send a request; answers that can never mean success raise here, the rest (2xx, and
        the 4xx a caller explains better) are returned."""
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise transport_error(error, self._service, self.timeout) from error
        status = response.status_code
        if status >= 500 or status in (408, 429):
            raise HelpdeskUnavailable(
                f"{self._service} could not handle the request while {doing} "
                f"(HTTP {status}: {_rt_message(response)}). Try again later; if it keeps "
                "happening, RT's log says why.",
                retry_after=retry_after_seconds(response),
            )
        if status == 401:
            what = "auth token" if self.credentials.uses_token else f"credentials of {self._who}"
            raise HelpdeskAuthError(
                f"{self._service} refused the {what} (HTTP 401: {_rt_message(response)}). "
                f"{_CREDENTIALS_HINT}"
            )
        if status == 403 and "queue" not in _rt_message(response).lower():
            raise HelpdeskAuthError(
                f"{self._service} refused access while {doing} (HTTP 403: "
                f"{_rt_message(response)}): the credentials are wrong or lack the rights for "
                f"this. Ask an RT admin for the rights, or set the credentials again in "
                "Calmline's settings (Request Tracker)."
            )
        if 300 <= status < 400:
            raise HelpdeskRejected(
                f"{self._service} redirected the request to {response.headers.get('Location')!r} "
                f"while {doing}. Use RT's final address in Calmline's settings (for example "
                "https:// instead of http://)."
            )
        return response

    def _rejected(self, response: httpx.Response, what: str, advice: str) -> HelpdeskError:
        if response.status_code == 404:
            advice += f" If the address is wrong: {_ADDRESS_HINT}"
        return HelpdeskRejected(
            f"{what}: {_rt_message(response)} (HTTP {response.status_code}). {advice}"
        )


def _json_field(response: httpx.Response, name: str) -> Any:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return body.get(name) if isinstance(body, dict) else None


def _json_items(response: httpx.Response) -> list[dict[str, Any]] | None:
    """The ``items`` of one of RT's collection answers (None when it is not one)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return None
    return [item for item in items if isinstance(item, dict)]
