"""Finding input devices through sounddevice (PortAudio)."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from audio.errors import AudioInputError


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_samplerate: int
    hostapi: str


def _sounddevice() -> ModuleType:
    try:
        import sounddevice
    except OSError as exc:  # PortAudio library missing
        raise AudioInputError(
            f"PortAudio is not available ({exc}); install it: sudo apt-get install libportaudio2"
        ) from exc
    return sounddevice


def list_input_devices(sd: Any = None) -> list[InputDevice]:
    sd = sd or _sounddevice()
    hostapis = sd.query_hostapis()
    devices = []
    for index, info in enumerate(sd.query_devices()):
        if info["max_input_channels"] <= 0:
            continue
        devices.append(
            InputDevice(
                index=index,
                name=info["name"],
                channels=int(info["max_input_channels"]),
                default_samplerate=int(info["default_samplerate"]),
                hostapi=hostapis[info["hostapi"]]["name"],
            )
        )
    return devices


def find_input_device(spec: str | int, sd: Any = None) -> InputDevice:
    """A device by index, exact name, or unique case-insensitive part of its name."""
    devices = list_input_devices(sd)
    listing = "; ".join(f"{d.index}: {d.name}" for d in devices) or "none"
    text = str(spec).strip()
    if text.isdigit():
        for device in devices:
            if device.index == int(text):
                return device
        raise AudioInputError(
            f"no input device with index {text}. Input devices: {listing}. "
            "Run 'calmline devices' and pass one of those indexes or names."
        )
    exact = [d for d in devices if d.name == text]
    if exact:
        return exact[0]
    partial = [d for d in devices if text.lower() in d.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise AudioInputError(
            f"no input device named '{text}'. Input devices: {listing}. "
            "Run 'calmline devices' and pass one of those indexes or names."
        )
    names = ", ".join(f"{d.index}: {d.name}" for d in partial)
    raise AudioInputError(f"'{text}' matches several input devices ({names}); pass the index.")
