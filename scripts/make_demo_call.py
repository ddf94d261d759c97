"""Render a scripted two-sided support call as a stereo FLAC (the bundled demo call, and the
scenario calls in ``resources/scenarios`` that the coach is evaluated on).

Reads a call script, one line each (blank lines and lines starting with ``#`` are ignored):

* ``AGENT: text`` / ``CLIENT: text`` - a turn, spoken in that side's voice at its default speed;
* ``AGENT@260: text`` / ``CLIENT@120: text`` - a turn spoken at that many words per minute
  (80-500) instead, e.g. an agent who speeds up;
* ``PAUSE: 25`` - between two turns: that many seconds (0-600) of silence on both channels
  instead of the normal gap before the next turn (consecutive pauses add up);
* ``AGENT +9dB: text`` - a turn spoken that many dB louder (or ``-6dB`` quieter) than the
  side's other turns (a gain on that turn's samples, like ``sox gain``), e.g. an agent who
  raises their voice;
* ``AGENT overlap=1.5: text`` - a turn that starts that many seconds before the previous
  turn ends (both talking at once), e.g. an agent who interrupts. Modifiers combine
  (``AGENT@200 +8dB overlap=1: …``).

It synthesizes every turn with ``espeak-ng`` (a different voice per side) and lays the turns
out one after another on a shared timeline:

* left channel = agent, right channel = client, 16 kHz, 16-bit FLAC;
* a fixed, deterministic cycle of 0.6-1.2 s gaps between turns, a ~3 s silence after the agent's
  "let me check" line (the client waits), a ``PAUSE`` where the script has one, 0.5 s of
  silence at the start and 1 s at the end;
* each side normalized to -3 dBFS peak, then a -28 dB copy of it mixed into the other channel,
  like the line bleed of a real two-channel phone capture;
* samples rounded to 13 significant bits (``--bits``), about the linear resolution of a G.711
  phone line. FLAC stores the unused low bits for free, which keeps the bundled file small
  (about a third smaller than at full 16-bit resolution); the rounding noise sits near
  -78 dBFS, far below the speech and the -28 dB bleed.

Next to the audio it writes the turn timeline as JSON (``[{"speaker", "start", "end",
"text"}]``, one entry per turn - pauses are not turns - seconds with two decimals), the
reference transcript for tests.

Usage: python scripts/make_demo_call.py [--script resources/demo/demo_call.txt]
                                        [--out resources/demo/demo_call.flac] [--bits 13]
(``--out`` is required with any other ``--script``, so the bundled demo is never overwritten.)
From Python (tests): ``render_call(script, out_flac, bits=13)`` writes both files and returns
the timeline; load this file with ``importlib`` (it is not part of a package).

Needs ``espeak-ng`` on PATH; Python side is stdlib + numpy + soundfile. The output is
deterministic: the same script gives the same samples (and, in practice, the same bytes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCRIPT = ROOT / "resources" / "demo" / "demo_call.txt"
DEFAULT_OUT = ROOT / "resources" / "demo" / "demo_call.flac"

SAMPLE_RATE = 16_000
VOICES = {"agent": ("en-us+m3", 160), "client": ("en-gb+f3", 170)}  # espeak-ng voice, words/min
SPEED_RANGE = (80, 500)  # allowed ``SIDE@wpm`` overrides
PAUSE_MAX_S = 600.0
CHANNEL = {"agent": 0, "client": 1}  # left = agent, right = client

LEAD_IN_S = 0.5
TAIL_S = 1.0
GAPS_S = (0.8, 1.0, 0.7, 1.1, 0.9, 0.6, 1.2, 0.8, 1.0, 0.7)  # cycled; no randomness
WAIT_PHRASE = "let me check"
WAIT_GAP_S = 3.0
PEAK_DBFS = -3.0
CROSSTALK_DB = -28.0
TRIM_THRESHOLD = 10 ** (-50 / 20)  # edge samples quieter than -50 dBFS are trimmed
EDGE_PAD_S = 0.02  # kept around the trimmed speech
DEFAULT_BITS = 13  # significant bits per sample, in a 16-bit FLAC


# A NamedTuple, not a dataclass: a dataclass fails when this file is loaded by path with
# importlib (as tests and app/tooling/coach_eval.py do) without registering it in sys.modules.
class Turn(NamedTuple):
    speaker: str  # "agent" | "client"
    text: str
    speed: int | None = None  # words per minute; None = the side's default
    pause_after: float | None = None  # seconds of silence before the next turn; None = a gap
    gain_db: float = 0.0  # this turn louder (or quieter) than the side's others
    overlap_s: float = 0.0  # starts this long before the previous turn ends


def _pause_seconds(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= PAUSE_MAX_S else None


def parse_script(path: Path) -> list[Turn]:
    """Read the call script; raise ValueError on a line that is not a turn or a pause."""
    turns: list[Turn] = []
    pending_pause: float | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, text = line.partition(":")
        head, *modifiers = label.split()
        speaker, at, speed_text = head.strip().lower().partition("@")
        speaker = speaker.strip()
        text = " ".join(text.split())
        where = f"{path}:{number}"
        if sep and speaker == "pause" and not at:
            seconds = _pause_seconds(text)
            if seconds is None:
                raise ValueError(f"{where}: expected 'PAUSE: <seconds>' (0-{PAUSE_MAX_S:g})")
            if not turns:
                raise ValueError(f"{where}: a PAUSE must come after a turn")
            pending_pause = (pending_pause or 0.0) + seconds
            continue
        if not sep or speaker not in VOICES or not text:
            raise ValueError(
                f"{where}: expected 'AGENT: text', 'CLIENT: text', 'AGENT@wpm: text' "
                "or 'PAUSE: seconds'"
            )
        gain_db, overlap_s = 0.0, 0.0
        for modifier in modifiers:
            lowered = modifier.lower()
            try:
                if lowered.endswith("db") and lowered[:1] in "+-":
                    gain_db = float(lowered[:-2])
                elif lowered.startswith("overlap="):
                    overlap_s = float(lowered.partition("=")[2])
                else:
                    raise ValueError(modifier)
            except ValueError:
                raise ValueError(
                    f"{where}: unknown modifier {modifier!r}: use +6dB / -6dB or overlap=1.5"
                ) from None
            if not -30 <= gain_db <= 20 or not 0 <= overlap_s <= 10:
                raise ValueError(f"{where}: gain must be -30..+20 dB and overlap 0..10 s")
        speed = None
        if at:
            speed_text = speed_text.strip()
            low, high = SPEED_RANGE
            if not speed_text.isdigit() or not low <= int(speed_text) <= high:
                raise ValueError(f"{where}: speed after '@' must be {low}-{high} words/min")
            speed = int(speed_text)
        if pending_pause is not None:
            turns[-1] = turns[-1]._replace(pause_after=pending_pause)
            pending_pause = None
        if overlap_s and not turns:
            raise ValueError(f"{where}: the first turn cannot overlap")
        turns.append(Turn(speaker, text, speed, None, gain_db, overlap_s))
    if not turns:
        raise ValueError(f"{path}: no turns")
    if pending_pause is not None:
        raise ValueError(f"{path}: a PAUSE must be followed by a turn")
    return turns


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited FFT resampling of a short mono clip (zero-padded against wrap-around)."""
    if rate_in == rate_out:
        return audio
    pad = rate_in // 10
    padded = np.concatenate([np.zeros(pad), audio, np.zeros(pad)])
    n_out = round(padded.size * rate_out / rate_in)
    spectrum = np.fft.rfft(padded)
    out = np.fft.irfft(spectrum[: n_out // 2 + 1], n_out) * (n_out / padded.size)
    return out


def trim(audio: np.ndarray, rate: int) -> np.ndarray:
    """Cut the synthesizer's leading/trailing silence, keeping a short pad."""
    loud = np.flatnonzero(np.abs(audio) > TRIM_THRESHOLD)
    if loud.size == 0:
        raise ValueError("espeak-ng produced silence")
    pad = round(EDGE_PAD_S * rate)
    return audio[max(loud[0] - pad, 0) : loud[-1] + pad + 1]


def synthesize(turn: Turn, workdir: Path) -> np.ndarray:
    """One turn as float64 mono at SAMPLE_RATE, edges trimmed."""
    voice, default_speed = VOICES[turn.speaker]
    speed = turn.speed or default_speed
    wav = workdir / "turn.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), turn.text],
        check=True,
        capture_output=True,
    )
    audio, rate = sf.read(wav, dtype="float64", always_2d=True)
    return trim(resample(audio[:, 0], rate, SAMPLE_RATE), SAMPLE_RATE)


def gap_after(index: int, turn: Turn) -> float:
    if turn.pause_after is not None:
        return turn.pause_after
    if turn.speaker == "agent" and WAIT_PHRASE in turn.text.lower():
        return WAIT_GAP_S
    return GAPS_S[index % len(GAPS_S)]


def quantize(audio: np.ndarray, bits: int) -> np.ndarray:
    """Float [-1, 1] to int16 keeping ``bits`` significant bits (the rest are zeros)."""
    step = 2 ** (16 - bits)
    levels = 32768 // step - 1
    return (np.round(np.clip(audio, -1.0, 1.0) * levels) * step).astype(np.int16)


def render(turns: list[Turn], bits: int) -> tuple[np.ndarray, list[dict[str, object]]]:
    """Lay the turns out on the timeline; returns int16 (frames, 2) audio and the timeline."""
    with tempfile.TemporaryDirectory(prefix="calmline-demo-") as tmp:
        clips = [synthesize(turn, Path(tmp)) * 10 ** (turn.gain_db / 20) for turn in turns]

    starts: list[int] = []
    cursor = round(LEAD_IN_S * SAMPLE_RATE)
    for index, turn in enumerate(turns):
        if turn.overlap_s and starts:  # start before the previous turn ends
            previous_end = starts[-1] + clips[index - 1].size
            cursor = max(starts[-1], previous_end - round(turn.overlap_s * SAMPLE_RATE))
        starts.append(cursor)
        cursor = max(s + c.size for s, c in zip(starts, clips, strict=False))  # all turns end
        if index < len(turns) - 1 and not turns[index + 1].overlap_s:
            cursor += round(gap_after(index, turn) * SAMPLE_RATE)
    total = max(s + c.size for s, c in zip(starts, clips, strict=True))
    total += round(TAIL_S * SAMPLE_RATE)

    tracks = np.zeros((2, total))
    for turn, clip, start in zip(turns, clips, starts, strict=True):
        tracks[CHANNEL[turn.speaker], start : start + clip.size] += clip
    peak = 10 ** (PEAK_DBFS / 20)
    for track in tracks:
        track *= peak / np.max(np.abs(track))
    bleed = 10 ** (CROSSTALK_DB / 20)
    mixed = tracks + bleed * tracks[::-1]
    audio = quantize(mixed.T, bits)

    timeline: list[dict[str, object]] = [
        {
            "speaker": turn.speaker,
            "start": round(start / SAMPLE_RATE, 2),
            "end": round((start + clip.size) / SAMPLE_RATE, 2),
            "text": turn.text,
            **({"gain_db": turn.gain_db} if turn.gain_db else {}),
            **({"overlap_s": turn.overlap_s} if turn.overlap_s else {}),
        }
        for turn, clip, start in zip(turns, clips, starts, strict=True)
    ]
    return audio, timeline


def render_call(script: Path, out_flac: Path, bits: int = DEFAULT_BITS) -> list[dict[str, object]]:
    """Render ``script`` to ``out_flac`` and its timeline to ``out_flac`` with ``.json``.

    Returns the timeline. Raises ValueError on a bad script or ``bits``, RuntimeError when
    ``espeak-ng`` is missing.
    """
    if not 8 <= bits <= 16:
        raise ValueError(f"bits must be 8-16, not {bits}")
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed")
    turns = parse_script(Path(script))
    audio, timeline = render(turns, bits)

    out = Path(out_flac)
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16", compression_level=1.0)
    out.with_suffix(".json").write_text(
        json.dumps(timeline, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return timeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, default=DEFAULT_SCRIPT, help="call script (.txt)")
    parser.add_argument(
        "--out", type=Path, default=None, help="stereo FLAC to write (default: the bundled demo)"
    )
    parser.add_argument(
        "--bits",
        type=int,
        default=DEFAULT_BITS,
        choices=range(8, 17),
        metavar="8-16",
        help=f"significant bits per sample (default {DEFAULT_BITS}; 16 = full resolution)",
    )
    args = parser.parse_args(argv)
    if args.out is None:
        if args.script.resolve() != DEFAULT_SCRIPT.resolve():
            parser.error("--out is required with --script (keeps the bundled demo call intact)")
        args.out = DEFAULT_OUT

    try:
        timeline = render_call(args.script, args.out, args.bits)
    except (RuntimeError, ValueError) as error:
        print(f"make_demo_call: {error}", file=sys.stderr)
        return 1
    seconds = sf.info(args.out).duration
    print(
        f"wrote {args.out} ({len(timeline)} turns, {seconds:.1f} s) "
        f"and {args.out.with_suffix('.json')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
