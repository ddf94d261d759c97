"""The user's settings: one typed object, read once at start-up from ``settings.toml`` in
the config folder (``calmline playbook --path`` shows that folder) and passed to whatever
needs it. Secrets never live here: helpdesk credentials go to the OS keyring.

Example ``~/.config/calmline/settings.toml``::

    agent_name = "Sam Taylor"
    team = "IT Support"
    sender_address = "sam.taylor@example.com"
    store = ""                      # "" = a SQLite file in the data folder; or postgresql://…
    redact = ["card number", "email", "phone number"]   # [] turns redaction off

    [audio]
    keep = false                    # keep call audio (per side, FLAC)
    retention_days = 30

    [rt]                            # Request Tracker 5
    url = "https://rt.example.com/rt"
    user = "sam"
    queue = "General"

    [webhook]
    url = "https://hooks.example.com/calmline"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from app.paths import config_dir, data_dir, settings_path
from app.privacy.redact import ALL_KINDS


class SettingsError(Exception):
    """The settings file cannot be used; the message names the file, place and fix."""


__all__ = ["config_dir", "data_dir", "settings_path"]


@dataclass(frozen=True)
class AudioSettings:
    keep: bool = False
    retention_days: int = 30


@dataclass(frozen=True)
class RTSettings:
    url: str = ""
    user: str = ""
    queue: str = "General"


@dataclass(frozen=True)
class WebhookSettings:
    url: str = ""


@dataclass(frozen=True)
class Settings:
    agent_name: str = ""
    team: str = "IT Support"
    sender_address: str = ""
    store: str = ""
    redact: tuple[str, ...] = ALL_KINDS
    audio: AudioSettings = field(default_factory=AudioSettings)
    rt: RTSettings = field(default_factory=RTSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)


_SECTIONS = {"audio": AudioSettings, "rt": RTSettings, "webhook": WebhookSettings}
MAX_RETENTION_DAYS = 36_500  # a call's audio expiry date must stay a date (year ≤ 9999)


def _typed(path: Path, where: str, value: Any, default: Any) -> Any:
    expected = type(default)
    if expected is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{path}: '{where}' must be a list of strings")
        return tuple(value)
    if (expected is int and isinstance(value, bool)) or not isinstance(value, expected):
        raise SettingsError(
            f"{path}: '{where}' must be {expected.__name__}, not {type(value).__name__} ({value!r})"
        )
    return value


def _section(path: Path, name: str, kind: type, table: Any) -> Any:
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [{name}] must be a table")
    defaults = kind()
    known = {f.name for f in fields(kind)}
    unknown = set(table) - known
    if unknown:
        first = sorted(unknown)[0]
        raise SettingsError(
            f"{path}: unknown setting {f'{name}.{first}'!r} (known: {', '.join(sorted(known))})"
        )
    values = {
        key: _typed(path, f"{name}.{key}", value, getattr(defaults, key))
        for key, value in table.items()
    }
    return kind(**values)


def load_settings(path: Path | None = None) -> Settings:
    """The settings in ``path`` (default: the user's file) over the defaults; a missing
    file means all defaults. Raises :class:`SettingsError` naming the file and the line."""
    path = path or settings_path()
    try:  # is_file() raises, not returns False, inside a folder we may not enter
        if not path.is_file():
            return Settings()
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(
            f"{path}: cannot read the settings ({exc.strerror or exc}); check its permissions"
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise SettingsError(f"{path}: not valid settings: lists nested too deeply") from None
    defaults = Settings()
    values: dict[str, Any] = {}
    known = {f.name for f in fields(Settings)}
    for key, value in data.items():
        if key not in known:
            raise SettingsError(
                f"{path}: unknown setting {key!r} (known: {', '.join(sorted(known))})"
            )
        if key in _SECTIONS:
            values[key] = _section(path, key, _SECTIONS[key], value)
        else:
            values[key] = _typed(path, key, value, getattr(defaults, key))
    unknown_kinds = set(values.get("redact", ())) - set(ALL_KINDS)
    if unknown_kinds:
        raise SettingsError(
            f"{path}: 'redact' has unknown kinds {sorted(unknown_kinds)}; "
            f"use some of {list(ALL_KINDS)}"
        )
    audio = values.get("audio")
    if audio is not None and not 0 <= audio.retention_days <= MAX_RETENTION_DAYS:
        raise SettingsError(
            f"{path}: 'audio.retention_days' must be 0 to {MAX_RETENTION_DAYS} days, "
            f"not {audio.retention_days}"
        )
    return Settings(**values)
