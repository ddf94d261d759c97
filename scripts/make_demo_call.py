"""Render the bundled demo call: a scripted two-sided support call as a stereo FLAC.

Reads a call script (one turn per line, ``AGENT: text`` or ``CLIENT: text``; lines starting
with ``#`` and blank lines are ignored), synthesizes every turn with ``espeak-ng`` (a different
voice per side) and lays the turns out one after another on a shared timeline:

* left channel = agent, right channel = client, 16 kHz, 16-bit FLAC;
* a fixed, deterministic cycle of 0.6-1.2 s gaps between turns, a ~3 s silence after the agent's
  "let me check" line (the client waits), 0.5 s of silence at the start and 1 s at the end;
* each side normalized to -3 dBFS peak, then a -28 dB copy of it mixed into the other channel,
  like the line bleed of a real two-channel phone capture;
* samples rounded to 13 significant bits (``--bits``), about the linear resolution of a G.711
  phone line. FLAC stores the unused low bits for free, which keeps the bundled file small
  (about a third smaller than at full 16-bit resolution); the rounding noise sits near
  -78 dBFS, far below the speech and the -28 dB bleed.

Next to the audio it writes the turn timeline as JSON (``[{"speaker", "start", "end",
"text"}]``, seconds with two decimals), the reference transcript for tests.

Usage: python scripts/make_demo_call.py [--script resources/demo/demo_call.txt]
                                        [--out resources/demo/demo_call.flac] [--bits 13]

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCRIPT = ROOT / "resources" / "demo" / "demo_call.txt"
DEFAULT_OUT = ROOT / "resources" / "demo" / "demo_call.flac"

SAMPLE_RATE = 16_000
VOICES = {"agent": ("en-us+m3", 160), "client": ("en-gb+f3", 170)}  # espeak-ng voice, words/min
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


@dataclass(frozen=True)
class Turn:
    speaker: str  # "agent" | "client"
    text: str


def parse_script(path: Path) -> list[Turn]:
    """Read the call script; raise ValueError on a line that is not a turn."""
    turns: list[Turn] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, text = line.partition(":")
        speaker = label.strip().lower()
        text = " ".join(text.split())
        if not sep or speaker not in VOICES or not text:
            raise ValueError(f"{path}:{number}: expected 'AGENT: text' or 'CLIENT: text'")
        turns.append(Turn(speaker, text))
    if not turns:
        raise ValueError(f"{path}: no turns")
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
    voice, speed = VOICES[turn.speaker]
    wav = workdir / "turn.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), turn.text],
        check=True,
        capture_output=True,
    )
    audio, rate = sf.read(wav, dtype="float64", always_2d=True)
    return trim(resample(audio[:, 0], rate, SAMPLE_RATE), SAMPLE_RATE)


def gap_after(index: int, turn: Turn) -> float:
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
        clips = [synthesize(turn, Path(tmp)) for turn in turns]

    starts: list[int] = []
    cursor = round(LEAD_IN_S * SAMPLE_RATE)
    for index, (turn, clip) in enumerate(zip(turns, clips, strict=True)):
        starts.append(cursor)
        cursor += clip.size
        if index < len(turns) - 1:
            cursor += round(gap_after(index, turn) * SAMPLE_RATE)
    total = cursor + round(TAIL_S * SAMPLE_RATE)

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
        }
        for turn, clip, start in zip(turns, clips, starts, strict=True)
    ]
    return audio, timeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, default=DEFAULT_SCRIPT, help="call script (.txt)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="stereo FLAC to write")
    parser.add_argument(
        "--bits",
        type=int,
        default=DEFAULT_BITS,
        choices=range(8, 17),
        metavar="8-16",
        help=f"significant bits per sample (default {DEFAULT_BITS}; 16 = full resolution)",
    )
    args = parser.parse_args(argv)

    if shutil.which("espeak-ng") is None:
        print("make_demo_call: espeak-ng is not installed", file=sys.stderr)
        return 1
    turns = parse_script(args.script)
    audio, timeline = render(turns, args.bits)

    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16", compression_level=1.0)
    timeline_path = out.with_suffix(".json")
    timeline_path.write_text(
        json.dumps(timeline, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    seconds = audio.shape[0] / SAMPLE_RATE
    print(f"wrote {out} ({len(turns)} turns, {seconds:.1f} s) and {timeline_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
