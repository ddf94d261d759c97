"""Installing like a desktop app: the menu entry and icon (`calmline install-desktop`)."""

from __future__ import annotations

import configparser
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

from support import REPO


def test_install_desktop_puts_calmline_in_the_users_application_menu(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "share"), "PATH": "/usr/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "install-desktop"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    entry = tmp_path / "share" / "applications" / "calmline.desktop"
    icon = tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "calmline.svg"
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.read(entry)
    section = desktop["Desktop Entry"]
    assert section["Type"] == "Application" and section["Icon"] == "calmline"
    command = section["Exec"].split()
    assert command[0].endswith("calmline") or command[-1] == "ui.launcher"
    assert ElementTree.parse(icon).getroot().tag.endswith("svg")
    assert str(entry) in result.stderr
