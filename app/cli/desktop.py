"""`calmline install-desktop`: Calmline in the desktop's application menu (Linux, XDG)."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from string import Template

from app.paths import desktop_entries_dir, icons_dir, resources_dir


def calmline_command() -> str:
    """The installed ``calmline`` beside this interpreter (a venv's or pipx's bin folder)."""
    beside = Path(sys.executable).with_name("calmline")
    found = beside if beside.is_file() else shutil.which("calmline")
    return shlex.quote(str(found)) if found else f"{shlex.quote(sys.executable)} -m ui.launcher"


def install_desktop_entry(
    entries: Path | None = None, icons: Path | None = None, command: str | None = None
) -> tuple[Path, Path]:
    """Write the menu entry and the icon for this user; returns where they went."""
    entries = entries or desktop_entries_dir()
    icons = icons or icons_dir()
    template = Template((resources_dir() / "desktop" / "calmline.desktop").read_text("utf-8"))
    entry = entries / "calmline.desktop"
    icon = icons / "calmline.svg"
    for folder in (entries, icons):
        folder.mkdir(parents=True, exist_ok=True)
    _write(entry, template.substitute(exec=command or calmline_command()))
    _write(icon, (resources_dir() / "desktop" / "calmline.svg").read_text("utf-8"))
    return entry, icon


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
