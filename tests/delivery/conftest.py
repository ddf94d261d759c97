"""Fixtures of the delivery tests: Request Tracker's own API, to read back what was sent."""

from __future__ import annotations

import pytest
from support.helpdesk import RT_URL


@pytest.fixture(scope="session")
def rt_api():
    """RT's REST 2.0 API as root, to read back what Calmline wrote; fails (never skips)
    when RT is not running."""
    import httpx

    client = httpx.Client(base_url=f"{RT_URL}/REST/2.0", auth=("root", "password"), timeout=10)
    try:
        client.get("/rt").raise_for_status()
    except httpx.HTTPError as error:
        client.close()
        pytest.fail(f"Request Tracker is not running at {RT_URL} ({error}): "
                    "bash scripts/rt-server.sh start")  # fmt: skip
    yield client
    client.close()
