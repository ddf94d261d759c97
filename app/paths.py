"""Where Calmline keeps things: the user's folders (platformdirs) and the bundled resources.

Every path the product uses is defined here once. The model cache is the one exception:
``models/`` cannot import ``app/``, so ``models.whisper_files.cache_dir`` owns it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import platformdirs

APP_NAME = "calmline"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME))


def settings_path() -> Path:
    return config_dir() / "settings.toml"


def user_playbook_path() -> Path:
    return config_dir() / "playbook.toml"


def notes_dir() -> Path:
    return data_dir() / "notes"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'calmline.db'}"


def resources_dir() -> Path:
    return Path(str(resources.files("resources")))


def demo_call() -> Path:
    return resources_dir() / "demo" / "demo_call.flac"


DEMO_CALL = demo_call()


def desktop_entries_dir() -> Path:
    """Where a desktop (GNOME, KDE, …) looks for this user's applications (XDG)."""
    return Path(platformdirs.user_data_dir()) / "applications"


def icons_dir() -> Path:
    return Path(platformdirs.user_data_dir()) / "icons" / "hicolor" / "scalable" / "apps"
