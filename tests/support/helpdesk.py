"""Request Tracker on loopback (scripts/rt-server.sh start): where it is, root's
credentials for Calmline's exports, stopping and starting it, and the export settings."""

from __future__ import annotations

import os
import subprocess

from app.settings import Settings
from support import REPO

RT_URL = os.environ.get("CALMLINE_TEST_RT_URL", "http://127.0.0.1:8080/rt").rstrip("/")
RT_ENV = {"CALMLINE_RT_URL": RT_URL, "CALMLINE_RT_USER": "root", "CALMLINE_RT_PASSWORD": "password"}


def settings(**fields) -> Settings:
    """Calmline's settings for exports by Sam Taylor, with ``fields`` on top."""
    return Settings(agent_name="Sam Taylor", sender_address="sam@example.com", **fields)


def rt_server(action: str) -> None:
    """``bash scripts/rt-server.sh start|stop`` (a start gives RT a fresh database)."""
    subprocess.run(["bash", "scripts/rt-server.sh", action], cwd=REPO, check=True,
                   capture_output=True, timeout=180)  # fmt: skip


def ticket_id_of(url: str) -> int:
    return int(url.rsplit("id=", 1)[1])
