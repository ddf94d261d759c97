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
- a wrong web path → 404 (plain text or ``{"message": "Not Found"}``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from app import __version__
from app.helpdesk.credentials import RTCredentials
from app.helpdesk.errors import (
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
    ) -> TicketRef:
        """A new ticket in ``queue`` whose first message is ``content`` (plain text)."""
        body: dict[str, Any] = {
            "Queue": queue,
            "Subject": subject,
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

    def comment(
        self, ticket_id: int, content: str, attachments: Sequence[Attachment] = ()
    ) -> TicketRef:
        """An internal comment (not sent to the requestor) on ticket ``ticket_id``."""
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
