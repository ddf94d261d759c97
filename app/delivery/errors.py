"""What can go wrong when sending a call to a helpdesk, sorted by what the caller should do.

``retryable`` tells an outbox whether trying again later can help (the helpdesk was down or
busy) or not (the credentials, the queue or the ticket have to be fixed first). Every message
says what happened and what to do about it, so the UI can show it as it is.
"""

from __future__ import annotations

import httpx

# How much of a helpdesk's own error text to quote in a message.
_QUOTE_CHARS = 300


class HelpdeskError(Exception):
    """A helpdesk request failed; ``str(error)`` is a message for the agent."""

    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HelpdeskUnavailable(HelpdeskError):
    """The helpdesk could not be reached or did not manage to answer: connection refused or
    reset, timeout, DNS failure, HTTP 5xx or 429. Trying again later can work."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds, when the helpdesk said (Retry-After)


class HelpdeskAuthError(HelpdeskError):
    """The helpdesk refused the credentials (HTTP 401/403); they must be set again."""

    retryable = False


class HelpdeskRejected(HelpdeskError):
    """The helpdesk understood the request and refused it (unknown queue, bad ticket id, …);
    the message quotes the helpdesk's own words."""

    retryable = False


def quote(text: str) -> str:
    """A helpdesk's answer shortened to one line that fits in a message."""
    line = " ".join(text.split())
    return line if len(line) <= _QUOTE_CHARS else line[: _QUOTE_CHARS - 1] + "…"


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds, when it is a number (the date form is ignored)."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def transport_error(error: httpx.HTTPError, service: str, timeout: float) -> HelpdeskError:
    """The HelpdeskError for a request that got no HTTP answer (``service`` names the peer,
    e.g. "RT at https://rt.example.com/rt")."""
    if isinstance(error, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return HelpdeskRejected(
            f"The address of {service} is not a usable URL ({str(error).rstrip('.')}). "
            "Correct it in Calmline's settings; it should start with https:// or http://."
        )
    if isinstance(error, httpx.TimeoutException):
        stage = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "waiting for the answer",
            httpx.WriteTimeout: "sending the request",
            httpx.PoolTimeout: "waiting for a free connection",
        }.get(type(error), "talking to it")
        return HelpdeskUnavailable(
            f"{service} did not answer in time ({timeout:g} s, {stage}). It may be down or "
            "overloaded; the export can be tried again later."
        )
    reason = str(error).rstrip(".") or type(error).__name__
    return HelpdeskUnavailable(
        f"Could not reach {service} ({reason}). Check that it is up and "
        "that the address is right; the export can be tried again later."
    )
