"""Fuzzing what users hand Calmline: audio files, playbooks and settings files.

The contract: ``calmline analyze`` ends with exit 0, or exit 2 and one line on stderr
("calmline: error: …", with the fix): never a traceback, never a hang. The playbook and
settings loaders either load or raise ``PlaybookError`` / ``SettingsError`` naming the file,
on one line; a playbook they accept works in the coach; a running app keeps its last good
playbook.

Examples are derandomized (the same ones on every run, so CI is stable and failures
reproduce). ``CALMLINE_FUZZ_RANDOM=1`` draws fresh ones (hypothesis prints how to reproduce
a failure); ``CALMLINE_FUZZ_SCALE=10`` runs ten times as many.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import math
import os
import pathlib
import struct
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from support import REPO

from app.cli.main import main
from app.coaching.playbook import (
    COMMON_KEYS,
    DETECTION_KEYS,
    FLAG_KEYS,
    KINDS,
    LEXICON_LISTS,
    PlaybookError,
    PlaybookSource,
    load_playbook,
)
from app.paths import DEMO_CALL
from app.pipeline.call import CallSetup
from app.pipeline.textcall import Turn, coach_transcript
from app.privacy.redact import ALL_KINDS
from app.settings import Settings, SettingsError, load_settings
from audio.sides import Side

SCALE = float(os.environ.get("CALMLINE_FUZZ_SCALE", "1"))
RANDOM = os.environ.get("CALMLINE_FUZZ_RANDOM") == "1"
FAST = ["--model", "tiny.en", "--sentiment-model", "none", "--playbook", "none"]
SLOW_S = 30  # one analysis of a file of at most 10 s (~1 s); longer counts as a hang
_names = itertools.count()


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        derandomize=not RANDOM,
        database=None,  # nothing written into the repository
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,  # the autouse thread check runs per test
            HealthCheck.data_too_large,
        ],
    )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def new_file(folder: Path, data: bytes, suffix: str = ".wav") -> Path:
    path = folder / f"input{next(_names)}{suffix}"
    path.write_bytes(data)
    return path


# -- the command, in-process -------------------------------------------------------------
def analyze(*args: str) -> tuple[int, str, str]:
    """``calmline analyze ARGS --json -`` in this process: (exit code, stdout, stderr).
    An exception escaping ``main`` is a traceback for the user, so it fails the test. It
    runs on a watchdog thread: a hang fails the example after SLOW_S instead of wedging the
    run (a timeout signal fires once, and hypothesis would run the example again)."""
    out, err = io.StringIO(), io.StringIO()
    outcome: dict[str, object] = {}

    def run() -> None:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                outcome["code"] = main(["analyze", *args, "--json", "-", *FAST])
            except BaseException as exc:  # handed to the test below
                outcome["error"] = exc

    worker = threading.Thread(target=run, name="fuzz-analyze", daemon=True)
    worker.start()
    worker.join(SLOW_S)
    assert not worker.is_alive(), f"analyze {args} still running after {SLOW_S} s: a hang"
    if "error" in outcome:
        raise outcome["error"]
    code = outcome["code"]
    if currently_in_test_context():  # --hypothesis-show-statistics: how many got through
        event(f"exit {code}")
    return code, out.getvalue(), err.getvalue()


def assert_contract(code: int, out: str, err: str) -> dict | None:
    """Exit 0 with the JSON document, or exit 2 with exactly one line on stderr."""
    assert "Traceback" not in err, err
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("calmline: error: "), err
        return None
    document = json.loads(out)
    assert math.isfinite(document["duration_s"]) and document["duration_s"] >= 0
    for segment in document["segments"]:
        assert isinstance(segment["text"], str) and segment["speaker"] in ("agent", "client")
    return document


# -- audio -------------------------------------------------------------------------------
SUBTYPES = {  # format → subtypes soundfile writes
    "WAV": ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"],
    "FLAC": ["PCM_8", "PCM_16", "PCM_24"],
    "OGG": ["VORBIS"],
}
EXTENSIONS = {"WAV": ".wav", "FLAC": ".flac", "OGG": ".ogg"}
LYING_EXTENSIONS = [".wav", ".flac", ".ogg", ".mp3", ".txt", ".json", ""]


def samples(kind: str, frames: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "silence":
        return np.zeros((frames, channels))
    if kind == "square":  # full scale, both rails
        wave = np.sign(np.sin(np.arange(frames) * 2 * np.pi * 440 / 16_000))
        wave[wave == 0] = 1
        return np.repeat(wave[:, None], channels, axis=1)
    if kind == "noise":
        return rng.uniform(-1, 1, (frames, channels))
    if kind == "nan_inf":  # float WAVs only
        data = rng.uniform(-1, 1, (frames, channels))
        data.flat[:: max(1, data.size // 7)] = np.nan
        data.flat[1 :: max(1, data.size // 5)] = np.inf
        data.flat[2 :: max(1, data.size // 5)] = -np.inf
        return data
    if kind == "huge":  # float WAVs only: far past full scale
        return rng.uniform(-1, 1, (frames, channels)) * 1e30
    return rng.uniform(-1, 1, (frames, channels)) * 1e-38  # "denormal"


@st.composite
def audio_files(draw):
    fmt = draw(st.sampled_from(sorted(SUBTYPES)))
    subtype = draw(st.sampled_from(SUBTYPES[fmt]))
    channels = draw(st.sampled_from([1, 2, 6]))
    rates = [4000, 8000, 16000, 22050, 44100, 48000, 96000]
    rate = draw(st.sampled_from(rates if fmt == "OGG" else [*rates, 384000]))  # (*)
    seconds = draw(st.sampled_from([None, 0.1, 0.5, 1.0]))  # None: one sample
    kinds = ["silence", "square", "noise", "denormal"]
    if subtype in ("FLOAT", "DOUBLE"):
        kinds += ["nan_inf", "huge"]
    kind = draw(st.sampled_from(kinds))
    frames = 1 if seconds is None else max(1, int(rate * seconds))
    cut = draw(st.one_of(st.none(), st.integers(0, 80), st.floats(0.0, 1.0)))
    suffix = draw(st.sampled_from([EXTENSIONS[fmt], *LYING_EXTENSIONS]))
    return fmt, subtype, channels, rate, frames, kind, cut, suffix


# (*) libsndfile's Vorbis *encoder* segfaults at 384 kHz (the test's writer, not Calmline's
# reader: Calmline never writes Vorbis).
def encode(fmt: str, subtype: str, data: np.ndarray, rate: int) -> bytes | None:
    buffer = io.BytesIO()
    try:
        soundfile.write(buffer, data, rate, format=fmt, subtype=subtype)
    except (soundfile.LibsndfileError, RuntimeError, ValueError):
        return None  # a combination the encoder refuses (e.g. Vorbis at 384 kHz)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def other(tmp_path_factory) -> Path:
    """The other side's file, at another rate and length than the fuzzed one."""
    path = tmp_path_factory.mktemp("other") / "client.flac"
    soundfile.write(path, samples("noise", 13230, 6, 0) * 0.1, 44100)
    return path


def audio_example(*spec, pair: bool = False, realtime: bool = False):
    return example(spec=spec, as_pair=pair, realtime=realtime, seed=1)


@pytest.mark.reliability("input", "Real audio cut anywhere or misnamed, one file or two")
@fuzz(80)
@given(
    spec=audio_files(), as_pair=st.booleans(), realtime=st.booleans(), seed=st.integers(0, 2**16)
)
@pytest.mark.slow
@audio_example("WAV", "FLOAT", 2, 16000, 8000, "nan_inf", None, ".wav")
@audio_example("WAV", "DOUBLE", 2, 44100, 4410, "huge", None, ".wav")
@audio_example("WAV", "PCM_U8", 2, 8000, 800, "square", None, ".wav")
@audio_example("WAV", "PCM_24", 6, 48000, 1, "square", None, ".wav")
@audio_example("FLAC", "PCM_16", 2, 16000, 16000, "noise", 100, ".flac")
@audio_example("FLAC", "PCM_16", 2, 16000, 16000, "noise", 0.5, ".wav")
@audio_example("WAV", "PCM_16", 1, 16000, 1600, "noise", None, ".wav")
@audio_example("WAV", "PCM_16", 2, 16000, 1600, "noise", 30, ".wav")
@audio_example("OGG", "VORBIS", 2, 16000, 8000, "noise", 0.7, ".mp3", pair=True)
@audio_example("FLAC", "PCM_16", 2, 16000, 16000, "noise", 0.5, ".flac", realtime=True)
@audio_example("WAV", "FLOAT", 6, 384000, 1, "nan_inf", None, ".wav", pair=True, realtime=True)
def test_analyze_real_audio_whole_cut_or_misnamed(scratch, other, spec, as_pair, realtime, seed):
    """Encoded audio of every sample format, 1/2/6 channels, 1 sample to 1 s, extreme
    values, sometimes cut short (inside the header too) or with a lying extension; as a
    call, or as the agent's file beside another client file; offline or replayed live."""
    fmt, subtype, channels, rate, frames, kind, cut, suffix = spec
    data = encode(fmt, subtype, samples(kind, frames, channels, seed), rate)
    if data is None:
        return
    if cut is not None:
        data = data[: cut if isinstance(cut, int) else int(len(data) * cut)]
    path = str(new_file(scratch, data, suffix))
    args = ["--agent", path, "--client", str(other)] if as_pair else [path]
    code, out, err = analyze(*args, *(["--realtime", "--pace", "50"] if realtime else []))
    assert_contract(code, out, err)
    if cut is None and (as_pair or channels > 1):
        assert code == 0, f"a valid {fmt}/{subtype} file was refused: {err}"
    if cut is None and channels == 1 and not as_pair:
        assert code == 2 and "mono" in err


MAGIC = [
    b"",
    b"RIFF",
    b"RIFF\x24\x00\x00\x00WAVEfmt ",
    b"RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00",
    b"RIFX",
    b"RF64",
    b"fLaC",
    b"fLaC\x00\x00\x00\x22",
    b"OggS",
    b"OggS\x00\x02",
    b"FORM\x00\x00\x00\x00AIFF",
    b"ID3\x04",
    b"\x89PNG\r\n\x1a\n",
    b'{"segments": []}',
    b"AGENT: hello\nCLIENT: hi\n",
]


@pytest.mark.reliability("input", "Random bytes behind RIFF / fLaC / OggS headers")
@fuzz(100)
@given(
    magic=st.sampled_from(MAGIC),
    body=st.binary(max_size=4096),
    suffix=st.sampled_from(LYING_EXTENSIONS),
)
@example(magic=b"", body=b"", suffix=".wav")  # zero-length file
@example(magic=b"\x89PNG\r\n\x1a\n", body=bytes(100), suffix=".wav")
@example(magic=b'{"a": 1}', body=b"", suffix=".flac")
def test_analyze_random_bytes_behind_an_audio_header(scratch, magic, body, suffix):
    path = str(new_file(scratch, magic + body, suffix))
    code, out, err = analyze(path)
    assert_contract(code, out, err)


def wav(fmt: int, channels: int, rate: int, bits: int, payload: bytes, claimed: int | None):
    """A RIFF/WAVE file whose header fields are whatever we say."""
    block_align = (channels * bits // 8) & 0xFFFF
    fmt_chunk = struct.pack(
        "<HHIIHH", fmt, channels, rate, (rate * block_align) & 0xFFFFFFFF, block_align, bits
    )
    data_size = len(payload) if claimed is None else claimed
    riff_size = (4 + 8 + len(fmt_chunk) + 8 + len(payload)) & 0xFFFFFFFF
    return (
        b"RIFF" + struct.pack("<I", riff_size) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
        + b"data" + struct.pack("<I", data_size & 0xFFFFFFFF) + payload
    )  # fmt: skip


PAYLOADS = st.one_of(
    st.binary(max_size=8000),
    st.tuples(
        st.sampled_from(
            [
                b"\x00\x00\xc0\x7f",  # float32 NaN
                b"\x00\x00\x80\x7f",  # float32 +inf
                b"\x00\x00\x00\x00\x00\x00\xf0\xff",  # float64 -inf
                b"\xff\xff\xff\x7f",  # int32 max
                b"\x00\x80",  # int16 min
                b"\xff",
                b"\x80",
            ]
        ),
        st.integers(1, 2000),
    ).map(lambda pattern: pattern[0] * pattern[1]),
)


WILD_HEADERS = st.tuples(
    st.sampled_from([1, 3, 0xFFFE, 0, 2, 6, 7, 0x55]),
    st.one_of(st.sampled_from([0, 1, 2, 6, 255, 256, 65535]), st.integers(0, 65535)),
    st.one_of(
        st.sampled_from([0, 1, 3999, 4000, 8000, 16000, 384_000, 384_001, 4_000_000_000]),
        st.integers(0, 2**32 - 1),
    ),
    st.sampled_from([0, 1, 7, 8, 12, 16, 24, 32, 64, 65535]),
)
PLAUSIBLE_HEADERS = st.tuples(  # decodable, so the samples reach resampling and Whisper
    st.sampled_from([1, 3]),
    st.integers(2, 8),
    st.sampled_from([4000, 8000, 16000, 44100, 48000, 384_000]),
    st.sampled_from([8, 16, 24, 32, 64]),
)


@pytest.mark.reliability("input", "WAV headers that lie (rates, channels, sample formats)")
@fuzz(80)
@given(
    header=st.one_of(WILD_HEADERS, PLAUSIBLE_HEADERS),
    payload=PAYLOADS,
    claimed=st.one_of(st.none(), st.sampled_from([0, 1, 2**31, 2**32 - 1])),
)
@pytest.mark.slow
@example(header=(1, 2, 4_000_000_000, 16), payload=bytes(4000), claimed=None)
@example(header=(1, 2, 0, 16), payload=bytes(4000), claimed=None)
@example(header=(1, 0, 16000, 16), payload=bytes(4000), claimed=None)
@example(header=(1, 65535, 16000, 16), payload=bytes(4000), claimed=None)
@example(header=(3, 2, 16000, 32), payload=b"\x00\x00\xc0\x7f" * 2000, claimed=None)  # NaN
@example(header=(3, 2, 16000, 64), payload=b"\x00" * 6 + b"\xf0\xff" * 1000, claimed=None)
@example(header=(1, 2, 16000, 16), payload=bytes(4000), claimed=2**32 - 1)
def test_analyze_wav_headers_that_lie(scratch, header, payload, claimed):
    """Sample rates of 0 Hz or 4 GHz, 0 or 65 535 channels, odd sample sizes and formats,
    data sizes that claim 4 GB, over random or extreme sample bytes."""
    fmt, channels, rate, bits = header
    path = str(new_file(scratch, wav(fmt, channels, rate, bits, payload, claimed)))
    code, out, err = analyze(path)
    assert_contract(code, out, err)


def _flac_claiming(total: int) -> bytes:
    """A 1 s stereo FLAC whose STREAMINFO says it holds ``total`` frames."""
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).uniform(-0.1, 0.1, (16000, 2))
    soundfile.write(buffer, noise, 16000, format="FLAC", subtype="PCM_16")
    data = bytearray(buffer.getvalue())
    at = 8 + 10  # "fLaC", the block header, min/max block and frame sizes
    info = int.from_bytes(data[at : at + 8], "big")
    info = (info & ~((1 << 36) - 1)) | total
    data[at : at + 8] = info.to_bytes(8, "big")
    return bytes(data)


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        crc &= 0xFFFFFFFF
    return crc


def _ogg_claiming(granule: int) -> bytes:
    """A 1 s stereo Ogg Vorbis whose last page says the stream ends at frame ``granule``."""
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).uniform(-0.1, 0.1, (16000, 2))
    soundfile.write(buffer, noise, 16000, format="OGG", subtype="VORBIS")
    data = bytearray(buffer.getvalue())
    page = data.rfind(b"OggS")
    data[page + 6 : page + 14] = struct.pack("<q", granule)
    segments = data[page + 26]
    end = page + 27 + segments + sum(data[page + 27 : page + 27 + segments])
    data[page + 22 : page + 26] = bytes(4)
    data[page + 22 : page + 26] = struct.pack("<I", _ogg_crc(bytes(data[page:end])))
    return bytes(data)


@pytest.mark.reliability("input", "Headers claiming more audio than the file holds")
@fuzz(16)
@given(
    container=st.sampled_from(["flac", "ogg"]),
    claimed=st.one_of(st.integers(0, 2**36 - 1), st.sampled_from([0, 1, 16000, 2**36 - 1])),
    realtime=st.booleans(),
)
# Regressions. Offline used to allocate what the header claimed ("Unable to allocate 8 TiB");
# the live replay (soundfile's blocks()) repeated the last block until the claimed end: for
# years. Both now read until the data ends.
@pytest.mark.slow
@example(container="ogg", claimed=2**40, realtime=False)
@example(container="ogg", claimed=2**40, realtime=True)
@example(container="ogg", claimed=10**9, realtime=True)
@example(container="flac", claimed=2**36 - 1, realtime=False)
@example(container="flac", claimed=2**36 - 1, realtime=True)
@pytest.mark.timeout(300)
def test_analyze_headers_claiming_more_audio_than_there_is(scratch, container, claimed, realtime):
    data = _flac_claiming(claimed) if container == "flac" else _ogg_claiming(claimed)
    path = str(new_file(scratch, data, f".{container}"))
    code, out, err = analyze(path, *(["--realtime", "--pace", "50"] if realtime else []))
    document = assert_contract(code, out, err)
    if document is not None:
        assert document["duration_s"] <= 1.1, "the duration is the audio's, not the header's"
    if container == "ogg" and claimed >= 16000:
        assert code == 0, err  # Vorbis decodes what is there


@pytest.mark.slow
def test_a_valid_call_still_gives_exit_0_and_text(tmp_path):
    """Positive control: the demo call's first 10 s."""
    data, rate = soundfile.read(DEMO_CALL, frames=10 * 44100, dtype="float32")
    path = tmp_path / "call10.flac"
    soundfile.write(path, data[: 10 * rate], rate)
    code, out, err = analyze(str(path))
    document = assert_contract(code, out, err)
    assert code == 0 and document is not None
    assert any(s["text"].strip() for s in document["segments"]), document


@pytest.fixture(scope="module")
def stereo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stereo") / "call.wav"
    soundfile.write(path, np.zeros((8000, 2), dtype=np.float32), 16000)
    return path


def test_paths_that_are_not_audio_files(tmp_path, stereo):
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "empty.wav").write_bytes(b"")
    for args, phrase in [
        ([str(tmp_path / "missing.wav")], "not found"),
        ([str(tmp_path / "folder.wav")], "is a directory"),
        ([str(tmp_path / "empty.wav")], "cannot read"),
        (["--agent", str(stereo), "--client", str(tmp_path / "missing.flac")], "not found"),
        (["--agent", str(stereo), "--client", str(tmp_path / "folder.wav")], "directory"),
        (["--agent", str(stereo)], "both --agent FILE and --client FILE"),
        ([str(stereo), "--agent", str(stereo)], "not both"),
        ([], "give a stereo call file"),
    ]:
        code, out, err = analyze(*args)
        assert_contract(code, out, err)
        assert code == 2 and phrase in err, (args, err)


@pytest.mark.slow
def test_a_file_without_read_permission(tmp_path, stereo, monkeypatch):
    """Root reads anything (CI runs as root), so there the file simply works; the refusal is
    then checked with ``os.access`` saying no, as it does for everyone else."""
    path = tmp_path / "locked.wav"
    path.write_bytes(stereo.read_bytes())
    path.chmod(0)
    code, out, err = analyze(str(path))
    assert_contract(code, out, err)
    if os.geteuid() == 0:
        assert code == 0, err
        real_access = os.access
        monkeypatch.setattr(
            os, "access", lambda p, mode, **kw: Path(p) != path and real_access(p, mode, **kw)
        )
        code, out, err = analyze(str(path))
    assert code == 2 and "permission denied" in err, err


def test_a_file_inside_a_folder_we_may_not_enter(tmp_path, monkeypatch):
    """Regression: ``Path.exists()`` raises PermissionError (not False) there; that was a
    traceback. Root may enter any folder, so the refusal is simulated."""
    locked = tmp_path / "locked"
    real_stat = pathlib.Path.stat

    def stat(self, *args, **kwargs):
        if self.parent == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "stat", stat)
    code, out, err = analyze(str(locked / "call.wav"))
    assert_contract(code, out, err)
    assert code == 2 and "Permission denied" in err and "permissions" in err


@pytest.mark.slow
def test_json_output_into_a_missing_folder(stereo, tmp_path):
    """Regression: writing the result into a folder that does not exist was a traceback."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["analyze", str(stereo), "--json", str(tmp_path / "no" / "out.json"), *FAST])
    assert_contract(code, "", err.getvalue())
    assert code == 2 and str(tmp_path / "no") in err.getvalue()


# -- the real command in a process: exit code and stderr as the user sees them ----------
def _subprocess_inputs(folder: Path) -> dict[str, tuple[list[str], int]]:
    control, rate = soundfile.read(DEMO_CALL, frames=10 * 44100, dtype="float32")
    soundfile.write(folder / "control.flac", control[: 10 * rate], rate)
    flac = (folder / "control.flac").read_bytes()
    (folder / "cut.flac").write_bytes(flac[: len(flac) // 3])
    (folder / "header.wav").write_bytes(flac[:30])
    (folder / "riff.wav").write_bytes(b"RIFF" + bytes(range(256)) * 4)
    (folder / "channels.wav").write_bytes(wav(1, 65535, 16000, 16, bytes(4000), None))
    (folder / "ogg.ogg").write_bytes(_ogg_claiming(2**40))
    (folder / "folder.wav").mkdir()
    return {  # name → (arguments, expected exit code)
        "control": (["control.flac"], 0),
        "cut in the middle": (["cut.flac"], 2),
        "cut in the header": (["header.wav"], 2),
        "random bytes": (["riff.wav"], 2),
        "65535 channels": (["channels.wav"], 2),
        "header claims 2^40 frames, live replay": (["ogg.ogg", "--realtime", "--pace", "50"], 0),
        "missing": (["missing.wav"], 2),
        "directory": (["folder.wav"], 2),
        "json into a missing folder": (["control.flac", "--json", "no/out.json"], 2),
    }


@pytest.mark.slow
def test_through_a_real_process(tmp_path):
    for name, (args, expected) in _subprocess_inputs(tmp_path).items():
        run = subprocess.run(
            [sys.executable, "-m", "app.cli", "analyze", *args, *FAST],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=SLOW_S,
        )
        assert "Traceback" not in run.stderr, (name, run.stderr)
        assert run.returncode == expected, (name, run.returncode, run.stderr)
        if expected == 2:
            lines = [line for line in run.stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("calmline: error: "), (name, lines)
        elif name == "control":
            assert run.stdout.strip(), run.stderr  # the transcript


# -- TOML, written by hand so any value (and any mistake) can be produced ----------------
def toml_string(text: str) -> str:
    escaped = []
    for c in text:
        if c in '"\\':
            escaped.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            escaped.append(f"\\u{ord(c):04x}")
        else:
            escaped.append(c)
    return '"' + "".join(escaped) + '"'


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


WORDS = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=12
) | st.sampled_from(["idiot", "DNS", "  ", "", "日本語", "—", "d*mn", "ünïcödé", "a\nb", "x" * 300])
SCALARS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, -1, 1, 2**63 - 1, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, -1.5, 0.5, 1e308, float("nan"), float("inf"), float("-inf")]),
    st.booleans(),
    WORDS,
    st.datetimes(timezones=st.just(UTC)),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(WORDS, inner, max_size=3),
    max_leaves=8,
)
PHRASE_LISTS = st.lists(WORDS, max_size=4)


def deeply_nested(depth: int) -> str:
    return "a = " + "[" * depth + "]" * depth + "\n"


# -- playbook ----------------------------------------------------------------------------
FIELDS = sorted(set(COMMON_KEYS) | {k for keys in DETECTION_KEYS.values() for k in keys})
TURNS = [
    Turn(Side.AGENT, "Hello, this is the help desk, how can I help?"),
    Turn(Side.CLIENT, "This damn VPN is useless! You idiot, I want your manager now."),
    Turn(Side.AGENT, "I'm checking the DNS and the SSO settings, one moment.", pause_before=30),
    Turn(Side.CLIENT, "日本語 ünïcödé — d*mn, it works now, thanks, that fixed it."),
]


@st.composite
def playbook_overrides(draw) -> str:
    """A team playbook: the real fields with wrong or extreme values, unknown names,
    broken syntax, or junk."""
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        part = draw(st.sampled_from(["situation", "lexicon", "jargon", "flags", "top", "junk"]))
        value = toml_value(draw(VALUES | PHRASE_LISTS))
        if part == "situation":
            kind = draw(st.sampled_from([*KINDS, "shouting", "", "anger.deeper"]) | WORDS)
            key = draw(st.sampled_from([*FIELDS, "colour"]) | WORDS)
            lines += [f"[situations.{toml_string(kind)}]", f"{toml_string(key)} = {value}"]
        elif part == "lexicon":
            name = draw(st.sampled_from([*LEXICON_LISTS, "jargon", "slang"]))
            lines += ["[lexicon]", f"{name} = {value}"]
        elif part == "jargon":
            lines += ["[lexicon.jargon]", f"{toml_string(draw(WORDS))} = {value}"]
        elif part == "flags":
            key = draw(st.sampled_from([*FLAG_KEYS, "loud"]))
            lines += ["[flags]", f"{key} = {value}"]
        elif part == "top":
            name = draw(st.sampled_from(["version", "situations", "lexicon", "flags", "extra"]))
            lines.insert(0, f"{name} = {value}")
        else:
            lines.append(draw(st.sampled_from(["[", "[situations", "= 1", "a = ", "[[x]]"])))
    return "\n".join(lines) + "\n"


def check_playbook_file(path: Path) -> None:
    """Loads (and then works in the coach and passes --check), or fails naming the file."""
    try:
        playbook = load_playbook(path)
    except PlaybookError as exc:
        message = str(exc)
        assert str(path) in message and "\n" not in message, message
        expect = 2
    else:
        coach_transcript(TURNS, CallSetup(playbook=playbook))
        expect = 0
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["playbook", "--check", str(path)])
    assert code == expect, err.getvalue()
    assert_contract(code, '{"duration_s": 0, "segments": []}', err.getvalue())


@pytest.mark.reliability("input", "Generated playbook files: load or fail naming the file")
@fuzz(400)
@given(text=playbook_overrides())
# Regressions, each once an exception other than PlaybookError (or a wrong file blamed):
@example(text="lexicon = 5\n")  # AttributeError
@example(text='flags = "x"\n')  # blamed default.toml
@example(text=deeply_nested(3000))  # RecursionError in tomllib
@example(text="[" + ".".join(["a"] * 3000) + "]\nx = 1\n")  # RecursionError in deepcopy
@example(text='[lexicon]\nprofanity = ["日本"]\n')  # accepted, then IndexError in the coach
@example(text='[lexicon.jargon]\n"—" = "dash"\n')  # the same for a jargon term
@example(text="[situations.anger]\ncooldown_s = nan\n")  # accepted: nan passes every check
@example(text='[situations."anger\\n]"]\ncue = 5\n')  # a two-line message
@example(text="[situations.anger]\npriority = 9223372036854775807\nexpires_s = inf\n")
@example(text="[situations.abuse]\nphrases = []\n")
@example(text="[situations.shouting]\ncue = 'x'\n")
@example(text="[situations.abuse]\ncooldown_s = -5\n")
def test_playbook_files_load_or_fail_naming_the_file(scratch, text):
    check_playbook_file(new_file(scratch, text.encode(), ".toml"))


@fuzz(150)
@given(data=st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
@example(data=b"\xff\xfe[situations]")
@example(data=b"a = 1\x00\n")
def test_playbook_junk_bytes(scratch, data):
    check_playbook_file(new_file(scratch, data, ".toml"))


@pytest.mark.reliability("input", "A broken playbook while running: the last good one stays")
@fuzz(60)
@given(text=playbook_overrides())
def test_a_running_app_keeps_its_last_good_playbook(scratch, text):
    path = new_file(scratch, b'[situations.abuse]\ncue = "Boundary, kindly"\n', ".toml")
    source = PlaybookSource(path)
    good = source.playbook
    path.write_text(text, encoding="utf-8")
    playbook = source.reload()
    if source.error is None:
        assert playbook is not good  # the new file was fine
    else:
        assert playbook is good and str(path) in source.error and "last good" in source.error


# -- settings ----------------------------------------------------------------------------
SETTING_VALUES = VALUES | st.lists(st.sampled_from([*ALL_KINDS, "ssn"]), max_size=4)


@st.composite
def settings_files(draw) -> str:
    top = draw(
        st.dictionaries(
            st.sampled_from(["agent_name", "team", "sender_address", "store", "redact", "x"]),
            SETTING_VALUES,
            max_size=4,
        )
    )
    lines = [f"{toml_string(key)} = {toml_value(value)}" for key, value in top.items()]
    sections = {"audio": ["keep", "retention_days"], "rt": ["url", "user", "queue"]}
    sections["webhook"] = ["url"]
    for name in draw(st.lists(st.sampled_from([*sections, "audio.deeper", "ui"]), max_size=3)):
        lines.append(f"[{name}]")
        keys = st.sampled_from([*sections.get(name, ["url"]), "colour"]) | WORDS
        retention = st.integers(-(2**40), 2**40) | st.sampled_from([-1, 0, 30, 10**6])
        for key, value in draw(
            st.dictionaries(keys, SETTING_VALUES | retention, max_size=3)
        ).items():
            lines.append(f"{toml_string(key)} = {toml_value(value)}")
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(WORDS))  # maybe broken syntax
    return "\n".join(lines) + "\n"


def check_settings_file(path: Path) -> None:
    try:
        loaded = load_settings(path)
    except SettingsError as exc:
        message = str(exc)
        assert str(path) in message and "\n" not in message, message
        return
    defaults = Settings()
    for name in ("agent_name", "team", "sender_address", "store"):
        assert type(getattr(loaded, name)) is type(getattr(defaults, name))
    assert set(loaded.redact) <= set(ALL_KINDS)
    assert isinstance(loaded.audio.keep, bool) and type(loaded.audio.retention_days) is int
    datetime.now(UTC) + timedelta(days=loaded.audio.retention_days)  # the audio's expiry


@pytest.mark.reliability("input", "Generated settings files: load or fail naming the file")
@fuzz(400)
@given(text=settings_files())
@example(text=deeply_nested(3000))  # RecursionError in tomllib
@example(text="[audio]\nretention_days = 99999999999999999\n")  # OverflowError at call start
@example(text="[audio]\nretention_days = -5\n")
@example(text='"agent\\nname" = 1\n')  # a two-line message
@example(text="[audio]\nkeep = 'yes'\n")
def test_settings_files_load_or_fail_naming_the_file(scratch, text):
    check_settings_file(new_file(scratch, text.encode(), ".toml"))


@fuzz(150)
@given(data=st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
@example(data=b"\xff\xfe")  # not UTF-8
def test_settings_junk_bytes(scratch, data):
    check_settings_file(new_file(scratch, data, ".toml"))


def deny_stat(monkeypatch, path: Path) -> None:
    """``path`` is inside a folder we may not enter: stat() raises PermissionError, which
    root never sees for real."""
    real_stat = pathlib.Path.stat

    def stat(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "stat", stat)


def test_settings_inside_a_folder_we_may_not_enter(tmp_path, monkeypatch):
    """Regression: ``Path.is_file()`` raises PermissionError there (root never sees it)."""
    path = tmp_path / "locked" / "settings.toml"
    deny_stat(monkeypatch, path)
    with pytest.raises(SettingsError, match="Permission denied") as error:
        load_settings(path)
    assert str(path) in str(error.value)


def test_window_playbook_inside_a_folder_we_may_not_enter(tmp_path, monkeypatch):
    """Regression: the window's model loading stopped on ``is_file()``'s PermissionError
    instead of starting without coaching and saying why."""
    from ui.loading import _load_playbook

    path = tmp_path / "locked" / "playbook.toml"
    deny_stat(monkeypatch, path)
    warnings: list[str] = []
    assert _load_playbook(str(path), warnings) is None
    assert warnings == [
        f"Coaching is off: cannot open {path}: Permission denied. Check the permissions of "
        "the file and of the folders above it."
    ]
