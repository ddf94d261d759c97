"""The playbook file: validation with file, line and field; overrides; last good kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

from app.coaching.playbook import (
    DE_ESCALATION_KINDS,
    KINDS,
    PlaybookError,
    PlaybookSource,
    default_playbook_path,
    load_playbook,
)


def test_the_default_playbook_covers_every_situation():
    playbook = load_playbook()
    assert set(playbook.situations) == set(KINDS)
    for situation in playbook.situations.values():
        assert situation.cue and len(situation.cue.split()) <= 8, situation.kind  # a glance
        assert situation.phrases and situation.practice
        if situation.kind in DE_ESCALATION_KINDS:
            assert len(situation.phrases) >= 3, situation.kind
    assert playbook.jargon["dns"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "team.toml"
    path.write_text(text)
    return path


def test_override_merges_key_by_key(tmp_path):
    path = write(
        tmp_path,
        '[situations.long_silence]\nafter_hold_s = 12\ncue = "Tell them what you are doing"\n',
    )
    playbook = load_playbook(path)
    assert playbook["long_silence"].setting("after_hold_s") == 12
    assert playbook["long_silence"].cue == "Tell them what you are doing"
    assert playbook["long_silence"].phrases == load_playbook()["long_silence"].phrases
    assert playbook.sources == (default_playbook_path(), path)


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ('\n[situations.anger]\nnegative_min = "high"\n', 3, "[situations.anger] negative_min"),
        ("\n\n[situations.abuse]\nphrases = []\n", 4, "[situations.abuse] phrases"),
        ("[situations.abuse]\ncolour = 'red'\n", 2, "unknown field"),
        ("[situations.shouting]\ncue = 'x'\n", 1, "unknown situation"),
        ("[situations.frustration]\nmood_max = -3\n", 2, "from -1 to 1"),
        ("[situations.abuse]\ncooldown_s = -5\n", 2, "must not be negative"),
        ("[situations.abuse\ncue = 'x'\n", 1, "not valid TOML"),
        ("\n[vocabulary]\nterms = 'Okta'\n", 3, "[vocabulary] terms"),
        ("[vocabulary]\nterms = ['Okta', 3]\n", 2, "expected text"),
        ("[vocabulary]\nwords = ['Okta']\n", 2, "unknown field"),
        (
            "[vocabulary]\nterms = ['a very long name that is really a sentence, not a name']\n",
            2,
            "one name per entry",
        ),
    ],
)
def test_a_broken_file_names_file_line_and_field(tmp_path, text, line, phrase):
    path = write(tmp_path, text)
    with pytest.raises(PlaybookError) as error:
        load_playbook(path)
    message = str(error.value)
    assert message.startswith(str(path)), message
    assert f"line {line}" in message and phrase in message, message


def test_a_team_lists_the_names_its_callers_say(tmp_path):
    assert load_playbook().vocabulary == ()
    path = write(tmp_path, '[vocabulary]\nterms = ["Okta", " GlobalProtect ", "Okta"]\n')
    playbook = load_playbook(path)
    assert playbook.vocabulary == ("Okta", "GlobalProtect")

    from app.pipeline.call import CallSetup

    assert CallSetup(playbook=playbook).live_settings().prompt == "Okta, GlobalProtect"
    too_many = write(tmp_path, f"[vocabulary]\nterms = {[f'Name{i}' for i in range(31)]}\n")
    with pytest.raises(PlaybookError, match="at most 30"):
        load_playbook(too_many)


def test_the_last_good_playbook_is_kept(tmp_path):
    path = write(tmp_path, '[situations.abuse]\ncue = "Boundary, kindly"\n')
    source = PlaybookSource(path)
    assert source.playbook["abuse"].cue == "Boundary, kindly" and source.error is None
    path.write_text("[situations.abuse]\ncue = 42\n")
    playbook = source.reload()
    assert playbook["abuse"].cue == "Boundary, kindly"
    assert "line 2" in source.error and "last good" in source.error


def calmline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=REPO, capture_output=True, text=True
    )


def test_playbook_command(tmp_path):
    good = write(tmp_path, "[situations.jargon]\npriority = 35\n")
    result = calmline("playbook", "--check", str(good))
    assert result.returncode == 0 and "ok" in result.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[situations.jargon]\npriority = 'high'\n")
    result = calmline("playbook", "--check", str(bad))
    assert result.returncode == 2 and "line 2" in result.stderr and "Traceback" not in result.stderr
    listing = calmline("playbook")
    assert listing.returncode == 0 and "abuse_continues" in listing.stdout
