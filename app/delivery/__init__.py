"""Sending a finished call to a helpdesk: Request Tracker 5 (REST 2.0) and a generic signed
webhook, the credentials for them, and the backoff between attempts. Qt-free; plain httpx
with explicit timeouts, so the callers decide which thread waits."""

from app.delivery.credentials import (
    CredentialsError,
    RTCredentials,
    forget_rt_credentials,
    keyring_available,
    rt_credentials,
    store_rt_credentials,
)
from app.delivery.errors import (
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskRejected,
    HelpdeskUnavailable,
)
from app.delivery.retry import next_attempt_delay
from app.delivery.rt import Attachment, RTClient, TicketRef
from app.delivery.webhook import post_webhook

__all__ = [
    "Attachment",
    "CredentialsError",
    "HelpdeskAuthError",
    "HelpdeskError",
    "HelpdeskRejected",
    "HelpdeskUnavailable",
    "RTClient",
    "RTCredentials",
    "TicketRef",
    "forget_rt_credentials",
    "keyring_available",
    "next_attempt_delay",
    "post_webhook",
    "rt_credentials",
    "store_rt_credentials",
]
