"""Helpers shared by the test modules (no tests here). tests/conftest.py puts tests/ on
``sys.path``, so a test module imports them as ``from support.speech import speak``; no test
module imports another one.

- ``support.speech``: test speech from espeak-ng, silence, two-sided call files
- ``support.devices``: the PulseAudio virtual devices of scripts/virtual-audio.sh
- ``support.helpdesk``: Request Tracker on loopback (scripts/rt-server.sh)
- ``support.team``: the team database on PostgreSQL (scripts/postgres-server.sh)
- ``support.window``: opening and closing the real window (imports Qt)
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
