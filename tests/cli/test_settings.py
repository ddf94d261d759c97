"""settings.toml: defaults, values, and clear errors for a broken file."""

from __future__ import annotations

import pytest

from app.settings import Settings, SettingsError, load_settings


def write(tmp_path, text: str):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_file_means_the_defaults(tmp_path):
    settings = load_settings(tmp_path / "nothing.toml")
    assert settings == Settings()
    assert settings.redact == ("card number", "email", "phone number")
    assert not settings.audio.keep and settings.rt.queue == "General"


def test_values_are_read_with_their_sections(tmp_path):
    settings = load_settings(write(tmp_path, """
agent_name = "Sam Taylor"
redact = ["card number"]
[audio]
keep = true
retention_days = 7
[rt]
url = "http://127.0.0.1:8080/rt"
queue = "Support"
"""))  # fmt: skip
    assert settings.agent_name == "Sam Taylor" and settings.redact == ("card number",)
    assert settings.audio.keep and settings.audio.retention_days == 7
    assert settings.rt.url == "http://127.0.0.1:8080/rt" and settings.rt.queue == "Support"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('agent_name = "Sam\n', "line 1"),
        ("agentname = 'Sam'", "unknown setting 'agentname'"),
        ("[audio]\nkeep = 'yes'", "'audio.keep' must be bool"),
        ("[audio]\nretention_days = true", "'audio.retention_days' must be int"),
        ("[rt]\nqueue = 'A'\nport = 1", "unknown setting 'rt.port'"),
        ("redact = ['card number', 'names']", "unknown kinds ['names']"),
        ("rt = 'http://x'", "[rt] must be a table"),
    ],
)
def test_a_broken_file_names_the_file_and_the_problem(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    assert str(path) in str(error.value) and expected in str(error.value)
