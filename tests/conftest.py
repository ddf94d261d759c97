"""Shared fixtures: the shared data folder, real models, the virtual devices, the team
database, RELIABILITY.md; and the ``slow`` mark for every test that uses a real model.

Helpers the test modules share are in tests/support/ (``from support.speech import speak``):
this file puts tests/ on ``sys.path`` for them. Fixtures for one folder only are in that
folder's conftest.py (tests/ui/, tests/delivery/)."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

# tests/ for ``support``; and the repository, because tests/audio, tests/models and tests/ui
# have the names of its packages and, with tests/ on the path, would be taken for them when
# nothing else on the path has the real ones (``pytest`` run without ``python -m``).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from support import REPO
from support.devices import AGENT_DEVICE, CLIENT_DEVICE
from support.team import PG_ADMIN_URL, TeamDatabase, pg_admin_connection, pg_url

SHARED_DATA = Path(os.environ.get("CALMLINE_SHARED_DATA", REPO.parent / "shared" / "data"))


# -- slow: real models or real time (deselect with -m "not slow") ----------------------------
REAL_MODEL_FIXTURES = frozenset({"tiny_engine", "base_engine", "sentiment_model"})
_running: list[pytest.Item] = []  # the test being set up or run
_unmarked_loads: dict[str, str] = {}  # node id → the model it loaded unmarked


def pytest_collection_modifyitems(config, items):
    """Every test that uses a real-model fixture, directly or through another fixture, is
    slow. (Tests that load models another way — a ``calmline`` process that transcribes, the
    window's real loader — carry ``@pytest.mark.slow`` themselves.)"""
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


def _loading_a_real_model(what: str) -> None:
    """Called by the real-model fixtures as they load: a test without the mark that gets
    there all the same (``request.getfixturevalue``, which the collection hook cannot see)
    fails at its teardown. (Not here: a session fixture that fails stays failed for every
    test after it.)"""
    item = _running[-1] if _running else None
    if item is not None and item.get_closest_marker("slow") is None:
        _unmarked_loads[item.nodeid] = what


@pytest.fixture(autouse=True)
def real_models_only_in_slow_tests(request):
    yield
    what = _unmarked_loads.pop(request.node.nodeid, None)
    if what is not None:
        pytest.fail(f"{request.node.nodeid} loads {what}: mark it @pytest.mark.slow")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "SOURCES.md").exists():
        pytest.fail(f"the shared data folder is missing: {SHARED_DATA} (set CALMLINE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_engine():
    _loading_a_real_model("tiny.en")
    from models.stt import WhisperEngine
    from models.whisper_files import resolve_whisper

    return WhisperEngine(resolve_whisper("tiny.en"), threads=2)


@pytest.fixture(scope="session")
def base_engine():
    _loading_a_real_model("base")
    from models.stt import WhisperEngine
    from models.whisper_files import resolve_whisper

    return WhisperEngine(resolve_whisper("base"), threads=2)


@pytest.fixture(scope="session")
def sentiment_model():
    """The shipped client-mood model."""
    _loading_a_real_model("the sentiment model")
    from models.sentiment import load_sentiment_model

    return load_sentiment_model("default", threads=2)


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


@pytest.fixture(scope="session")
def virtual_devices():
    from audio.devices import list_input_devices

    names = {d.name for d in list_input_devices()}
    if not {AGENT_DEVICE, CLIENT_DEVICE} <= names or shutil.which("paplay") is None:
        pytest.fail(
            "virtual capture devices are missing: run scripts/virtual-audio.sh before the tests "
            f"(found inputs: {sorted(names)})"
        )


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
