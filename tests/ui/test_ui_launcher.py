"""`calmline` entry point: window modes, the terminal fallback, pass-through to the CLI, and
a real window under Xvfb that saves a screenshot of the live demo call."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from support import REPO

from ui import launcher

DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


@pytest.fixture
def cli_calls(monkeypatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def fake_cli_main(argv=None) -> int:
        calls.append(list(argv or []))
        return 0

    monkeypatch.setattr("app.cli.main.main", fake_cli_main)
    return calls


def test_other_commands_go_to_the_cli_unchanged(cli_calls):
    argv = ["analyze", "call.wav", "--json", "-", "--screenshot", "x"]
    assert launcher.main(argv) == 0
    assert cli_calls == [argv]


def test_demo_without_a_display_runs_in_the_terminal(cli_calls, monkeypatch):
    for name in DISPLAY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert launcher.main(["demo", "--pace", "2"]) == 0
    assert cli_calls == [["demo", "--pace", "2"]]


def test_demo_with_terminal_flag_drops_the_window_options(cli_calls, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    assert launcher.main(["demo", "--terminal", "--pace", "3", "--model", "base"]) == 0
    assert cli_calls == [["demo", "--pace", "3", "--model", "base"]]


def test_screenshot_needs_exit_after(cli_calls, capsys):
    assert launcher.main(["demo", "--screenshot", "x.png"]) == 2
    assert "--exit-after" in capsys.readouterr().err


def test_terminal_commands_do_not_import_qt():
    code = (
        "import sys; from ui import launcher; "
        "launcher.main(['playbook', '--path']); "
        "print('PySide6' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().endswith("False")


@pytest.fixture
def xvfb_display():
    """A private X server; Xvfb writes its display number to -displayfd once it is ready."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed (apt-get install xvfb)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as ready:
        number = ready.readline().strip()
    assert number, "Xvfb did not start"
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.slow
def test_demo_window_screenshot_under_xvfb(xvfb_display, tmp_path):
    screenshot = tmp_path / "calmline.png"
    env = {k: v for k, v in os.environ.items() if k not in DISPLAY_VARIABLES}
    env |= {
        "DISPLAY": xvfb_display,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    command = [sys.executable, "-m", "ui.launcher", "demo", "--pace", "2"]
    command += ["--screenshot", str(screenshot), "--exit-after", "25"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    notes = list((tmp_path / "data" / "calmline" / "notes").glob("*.md"))
    assert notes, "the notes of the call were saved on the way out"
    if os.environ.get("CALMLINE_UPDATE_SCREENSHOT") == "1":
        (REPO / "docs").mkdir(exist_ok=True)
        shutil.copyfile(screenshot, REPO / "docs" / "screenshot.png")
