"""Shared fixtures: the shared data folder, real models, test speech from espeak-ng."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.tooling.speech_eval import normalise as normalise  # re-exported for the tests
from audio.resample import resample_to_16k

REPO = Path(__file__).resolve().parent.parent
AGENT_DEVICE, CLIENT_DEVICE = "calmline_agent", "calmline_client"  # scripts/virtual-audio.sh
SHARED_DATA = Path(os.environ.get("CALMLINE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "SOURCES.md").exists():
        pytest.fail(f"the shared data folder is missing: {SHARED_DATA} (set CALMLINE_SHARED_DATA)")
    return SHARED_DATA


@functools.lru_cache(maxsize=64)
def _speak(text: str, voice: str, speed: int) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed (scripts/install.sh installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True
        )
        data, rate = soundfile.read(wav, dtype="float32")
    audio = resample_to_16k(data, rate)
    return (audio / max(1e-6, float(np.abs(audio).max())) * 0.7).astype(np.float32)


def speak(text: str, voice: str = "en-us+m3", speed: int = 165) -> np.ndarray:
    """Test speech at 16 kHz mono, peak -3 dBFS."""
    return _speak(text, voice, speed).copy()


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16_000), dtype=np.float32)


@pytest.fixture(scope="session")
def tiny_engine():
    from models.stt import WhisperEngine
    from models.whisper_files import resolve_whisper

    return WhisperEngine(resolve_whisper("tiny.en"), threads=2)


@pytest.fixture(scope="session")
def base_engine(tmp_path_factory):
    from models.stt import WhisperEngine
    from models.whisper_files import resolve_whisper

    return WhisperEngine(resolve_whisper("base"), threads=2)


@pytest.fixture(autouse=True)
def no_threads_left_behind():
    """Every test must stop the capture and pipeline threads it started."""
    before = set(threading.enumerate())
    yield
    leftover = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and t.name.startswith(("calmline", "replay"))
    ]
    for thread in leftover:
        thread.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"threads left running: {still}"


def write_stereo(path: Path, left: np.ndarray, right: np.ndarray, rate: int = 16_000) -> Path:
    n = max(len(left), len(right))
    stereo = np.zeros((n, 2), dtype=np.float32)
    stereo[: len(left), 0] = left
    stereo[: len(right), 1] = right
    soundfile.write(path, stereo, rate, subtype="PCM_16")
    return path


@pytest.fixture(scope="session")
def virtual_devices():
    from audio.devices import list_input_devices

    names = {d.name for d in list_input_devices()}
    if not {AGENT_DEVICE, CLIENT_DEVICE} <= names or shutil.which("paplay") is None:
        pytest.fail(
            "virtual capture devices are missing: run scripts/virtual-audio.sh before the tests "
            f"(found inputs: {sorted(names)})"
        )


@pytest.fixture
def no_thread_left_running(qapp):
    """napari-style: no Python thread, QThread or pool thread outlives the test."""
    import gc

    from PySide6.QtCore import QThread

    from ui.workers import WorkerPool

    before = {t.ident for t in threading.enumerate()}
    yield
    qapp.processEvents()
    leftover = [
        t.name
        for t in threading.enumerate()
        if t.ident not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]
    running_qthreads = [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, QThread) and obj is not qapp.thread() and obj.isRunning()
    ]
    assert not leftover, f"threads left running: {leftover}"
    assert not running_qthreads, f"QThreads left running: {running_qthreads}"
    from shiboken6 import isValid

    pools = [obj for obj in gc.get_objects() if isinstance(obj, WorkerPool) and isValid(obj)]
    assert not [p.running_jobs() for p in pools if p.busy], "worker jobs still running"
    assert all(p.active_threads == 0 for p in pools), "worker-pool threads still running"


@pytest.fixture(scope="session", autouse=True)
def private_user_folders(tmp_path_factory):
    """Tests (and the commands they run) never touch the user's own calls and notes. (The
    config folder stays: PulseAudio's client finds its cookie there.)"""
    root = tmp_path_factory.mktemp("user")
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_DATA_HOME", str(root / "data"))
    yield root
    patch.undo()


# -- team mode on PostgreSQL (scripts/postgres-server.sh start) -----------------------------
PG_ADMIN_URL = os.environ.get(
    "CALMLINE_PG_ADMIN_URL",
    "postgresql://calmline_admin:calmline_admin@127.0.0.1:5432/calmline_test",
)


class TeamDatabase:
    """A fresh team database for the run, with two agents and a supervisor (real roles)."""

    def __init__(self, name: str, admin_url: str, urls: dict[str, str], roles: dict[str, str]):
        self.name = name
        self.admin_url = admin_url
        # URLs that log in as each role; roles: "agent_a" / "agent_b" / "supervisor" -> name
        self.agent_a, self.agent_b, self.supervisor = (
            urls["agent_a"],
            urls["agent_b"],
            urls["supervisor"],
        )
        self.roles = roles


def pg_url(base: str, database: str, user: str | None = None, password: str | None = None):
    from sqlalchemy.engine import make_url

    url = make_url(base).set(database=database)
    if user is not None:
        url = url.set(username=user, password=password)
    return url.render_as_string(hide_password=False)


def pg_admin_connection(url: str = PG_ADMIN_URL):
    """An autocommit psycopg connection as the admin, or the test fails saying how to start
    PostgreSQL (never skipped: team mode is tested for real)."""
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable as the test admin ({exc}); start it with "
            "`bash scripts/postgres-server.sh start` (or set CALMLINE_PG_ADMIN_URL)"
        )


@pytest.fixture(scope="session")
def team_db():
    """``calmline_t_<random>`` made by the admin role and set up by ``init_team``, with roles
    ``<name>_a``, ``<name>_b`` (agents) and ``<name>_s`` (supervisor); all dropped at the end."""
    import secrets

    from psycopg import sql

    from app.store.team import AGENT_GROUP, SUPERVISOR_GROUP, add_member, init_team

    name = f"calmline_t_{secrets.token_hex(4)}"
    roles = {"agent_a": f"{name}_a", "agent_b": f"{name}_b", "supervisor": f"{name}_s"}
    passwords = {key: secrets.token_urlsafe(12) for key in roles}
    admin = pg_admin_connection()
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        admin_url = pg_url(PG_ADMIN_URL, name)
        init_team(admin_url)
        for key, role in roles.items():
            group = SUPERVISOR_GROUP if key == "supervisor" else AGENT_GROUP
            add_member(admin_url, role, passwords[key], group)
        urls = {key: pg_url(PG_ADMIN_URL, name, roles[key], passwords[key]) for key in roles}
        yield TeamDatabase(name, admin_url, urls, roles)
    finally:
        # FORCE ends sessions a failed test left open (the admin has pg_signal_backend).
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        for role in roles.values():
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.close()


# -- Request Tracker on loopback (scripts/rt-server.sh start) --------------------------------
RT_URL = os.environ.get("CALMLINE_TEST_RT_URL", "http://127.0.0.1:8080/rt").rstrip("/")


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


# -- RELIABILITY.md: what the reliability tests tried and what happened -----------------------
RELIABILITY_RESULTS = REPO / ".reliability-results.json"
_reliability: list[dict] = []


@pytest.fixture
def reliability_note(request):
    """Attach a measured detail to this test's line in RELIABILITY.md."""

    def note(text: str) -> None:
        request.node.user_properties.append(("reliability_note", text))

    return note


def pytest_runtest_logreport(report):
    marker = report.user_properties and dict(report.user_properties).get("reliability")
    if report.when == "call" and marker:
        area, what = marker
        notes = [v for k, v in report.user_properties if k == "reliability_note"]
        _reliability.append({"area": area, "what": what, "test": report.nodeid,
                             "outcome": report.outcome, "seconds": round(report.duration, 1),
                             "measured": "; ".join(notes)})  # fmt: skip


def pytest_runtest_setup(item):
    marker = item.get_closest_marker("reliability")
    if marker is not None:
        item.user_properties.append(("reliability", tuple(marker.args)))


def pytest_sessionstart(session):
    RELIABILITY_RESULTS.unlink(missing_ok=True)  # never report an earlier run's results


def pytest_sessionfinish(session, exitstatus):
    if _reliability:
        import json

        RELIABILITY_RESULTS.write_text(json.dumps(_reliability, indent=1), encoding="utf-8")
