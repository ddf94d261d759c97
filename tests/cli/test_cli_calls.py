"""`calmline analyze --save`, `calmline calls …`, and a call killed with SIGKILL mid-way:
what was committed before the kill is in the database and the call can be recovered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text
from support import REPO

from app.paths import DEMO_CALL
from app.store import CallStore


def calmline(*args: str, env: dict | None = None, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture
def isolated(tmp_path) -> dict:
    """A private config and data folder, so the user's own calls are never touched."""
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    return env


@pytest.mark.slow
def test_analyze_save_then_list_show_and_export(tmp_path, isolated):
    saved = calmline(
        "analyze", str(DEMO_CALL), "--save", "--client-name", "Marie Dupont",
        "--client-contact", "marie@example.com", "--subject", "VPN drops", env=isolated,
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    assert "saved as call 1" in saved.stdout
    assert (tmp_path / "data" / "calmline" / "calmline.db").exists()

    listed = calmline("calls", "list", "--json", env=isolated)
    calls = json.loads(listed.stdout)
    assert [c["client"] for c in calls] == ["Marie Dupont"]
    assert calls[0]["segments"] >= 20 and calls[0]["worst_mood"] < -0.3

    shown = calmline("calls", "show", "1", env=isolated)
    assert "# Ticket update" in shown.stdout and "Client: " in shown.stdout

    record = json.loads(calmline("calls", "show", "1", "--json", env=isolated).stdout)
    assert record["client"]["name"] == "Marie Dupont" and record["status"] == "ended"
    assert record["cues"] and all(s["text"] for s in record["segments"])

    out = tmp_path / "update.md"
    exported = calmline("calls", "export", "1", "--to", "markdown", "--out", str(out),
                        env=isolated)  # fmt: skip
    assert exported.returncode == 0 and out.read_text().startswith("# Ticket update")


def test_calls_commands_explain_bad_input(isolated):
    missing = calmline("calls", "show", "42", env=isolated)
    assert missing.returncode == 2 and "no call '42'" in missing.stderr
    since = calmline("calls", "list", "--since", "last tuesday", env=isolated)
    assert since.returncode == 2 and "7d" in since.stderr
    store = calmline("calls", "list", "--store", "nonsense://x", env=isolated)
    assert store.returncode == 2 and "postgresql://" in store.stderr
    assert calmline("calls", "list", env=isolated).stdout.strip() == "no calls stored yet"
    nothing = calmline("calls", "recover", env=isolated)
    assert nothing.returncode == 0 and "no interrupted calls" in nothing.stdout


def _segments(db_url: str) -> int:
    store = CallStore.open(db_url)
    try:
        with store.engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM segments")).scalar_one()
    finally:
        store.close()


@pytest.mark.reliability("recovery", "kill -9 in the middle of a call, then recover")
@pytest.mark.slow
def test_a_call_killed_mid_way_keeps_what_was_said_and_is_recovered(
    tmp_path, isolated, reliability_note
):
    db_url = f"sqlite:///{tmp_path / 'calls.db'}"
    call = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "analyze", str(DEMO_CALL), "--realtime", "--pace", "2",
         "--save", "--store", db_url, "--json", str(tmp_path / "never.json")],
        cwd=REPO, env=isolated, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        seen = 0
        while time.monotonic() < deadline and seen < 6:
            time.sleep(0.2)
            if (tmp_path / "calls.db").exists():
                seen = _segments(db_url)
        assert seen >= 6, "the call was not being recorded as it happened"
        os.kill(call.pid, signal.SIGKILL)
        call.wait(timeout=10)
    finally:
        if call.poll() is None:
            call.kill()
    assert not (tmp_path / "never.json").exists(), "killed before the end, as intended"

    store = CallStore.open(db_url)
    try:
        interrupted = store.interrupted_calls()
        assert len(interrupted) == 1 and interrupted[0].segments >= seen
    finally:
        store.close()
    recovered = calmline("calls", "recover", "--store", db_url, env=isolated)
    assert recovered.returncode == 0 and "recovered call 1" in recovered.stdout
    record = json.loads(calmline("calls", "show", "1", "--json", "--store", db_url,
                                 env=isolated).stdout)  # fmt: skip
    assert record["status"] == "recovered" and len(record["segments"]) >= seen
    assert record["segments"][0]["speaker"] == "agent"
    reliability_note(f"{seen} lines seen committed before the kill; "
                     f"{len(record['segments'])} kept and recovered; 0 lost")  # fmt: skip


@pytest.mark.slow
@pytest.mark.reliability("input", "A call file that goes bad mid-replay (`analyze --realtime`)")
def test_a_file_that_goes_bad_mid_replay_keeps_the_start_and_exits_2(
    tmp_path, isolated, reliability_note
):
    """A FLAC whose middle is overwritten makes libsndfile lose sync part-way: the replay
    must not pass for a whole call (exit 0), and what was heard before is saved."""
    damaged = tmp_path / "damaged.flac"
    data = bytearray(DEMO_CALL.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 40_000] = bytes((i * 97 + 13) % 251 for i in range(40_000))
    damaged.write_bytes(data)

    run = calmline("analyze", str(damaged), "--realtime", "--pace", "8", "--save",
                   "--json", "-", env=isolated)  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    problem = [line for line in run.stderr.splitlines() if line.startswith("calmline: error:")]
    assert len(problem) == 1  # both channels live in the one damaged file: said once
    assert "call audio stopped at" in problem[0] and "lost sync" in problem[0]
    assert "re-export" in problem[0] and ".." not in problem[0]
    result = json.loads(run.stdout[run.stdout.index("{") :])
    stopped = min(part["stopped_at_s"] for part in result["capture"].values()
                  if isinstance(part, dict))  # fmt: skip
    assert 20 < stopped < 90
    assert result["segments"] and max(s["end"] for s in result["segments"]) <= stopped + 1

    listed = json.loads(calmline("calls", "list", "--json", env=isolated).stdout)
    assert len(listed) == 1 and listed[0]["segments"] == len(result["segments"])
    reliability_note(
        f"stopped at {stopped:.1f} s of 102 s; exit 2 with one error line; "
        f"{len(result['segments'])} segments before the damage printed and saved"
    )
