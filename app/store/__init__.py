"""Where calls are kept: SQLite on the agent's PC by default, PostgreSQL for a team."""

from app.store.calls import CallStore, CallSummary, PendingExport
from app.store.db import StoreError, default_url
from app.store.recorder import CallRecorder

__all__ = ["CallRecorder", "CallStore", "CallSummary", "PendingExport", "StoreError", "default_url"]
