"""The generic webhook export: the call as JSON, POSTed to a URL the team chooses (a helpdesk's
incoming webhook, an automation tool, their own service). The contract is in docs/webhook.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx

from app import __version__
from app.delivery.errors import (
    HelpdeskAuthError,
    HelpdeskRejected,
    HelpdeskUnavailable,
    quote,
    retry_after_seconds,
    transport_error,
)

EVENT = "call.export"
SIGNATURE_HEADER = "X-Calmline-Signature"
EVENT_HEADER = "X-Calmline-Event"


def webhook_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes that are sent (and signed): compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(body: bytes, secret: str) -> str:
    """The X-Calmline-Signature value for ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def post_webhook(
    url: str,
    payload: Mapping[str, Any],
    secret: str | None = None,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """POST ``payload`` as JSON to ``url``, signed when there is a ``secret``; returns the
    2xx status. Raises HelpdeskUnavailable, HelpdeskAuthError or HelpdeskRejected."""
    body = webhook_body(payload)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"Calmline/{__version__}",
        EVENT_HEADER: EVENT,
    }
    if secret:
        headers[SIGNATURE_HEADER] = signature(body, secret)
    service = f"The webhook at {url}"
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout), transport=transport, follow_redirects=False
        ) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        raise transport_error(error, service, timeout) from error

    status = response.status_code
    answer = quote(response.text) or response.reason_phrase
    if 200 <= status < 300:
        return status
    if status >= 500 or status in (408, 429):
        raise HelpdeskUnavailable(
            f"{service} could not take the call right now (HTTP {status}: {answer}). "
            "Try again later.",
            retry_after=retry_after_seconds(response),
        )
    if status in (401, 403):
        raise HelpdeskAuthError(
            f"{service} refused the request (HTTP {status}: {answer}). Check the webhook's "
            "URL (some include an access key) and the signing secret Calmline uses "
            "(CALMLINE_WEBHOOK_SECRET)."
        )
    if 300 <= status < 400:
        raise HelpdeskRejected(
            f"{service} redirected the request to {response.headers.get('Location')!r} "
            f"(HTTP {status}). Use the final address in Calmline's settings."
        )
    raise HelpdeskRejected(
        f"{service} refused the call (HTTP {status}: {answer}). Check the receiving side's "
        "automation or logs for what it expected."
    )
