"""Finding input devices: microphones and line inputs through sounddevice (PortAudio), and
each output device's loopback (what the softphone plays) through soundcard."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from audio.errors import AudioInputError
from audio.loopback import LOOPBACK_RATE, LoopbackDevice, list_loopback_devices


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_samplerate: int
    hostapi: str
    loopback: LoopbackDevice | None = None  # set: what this output device plays
    default: bool = False  # the default input, or the loopback of the default output


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
    default_input = _default_input(sd)
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
                default=index == default_input,
            )
        )
    return devices


def _default_input(sd: Any) -> int | None:
    try:
        device = sd.default.device[0]
        return int(device) if int(device) >= 0 else None
    except Exception:  # no default, or a stand-in module without one
        return None


def list_capture_devices(sd: Any = None, sc: Any = None) -> list[InputDevice]:
    """Everything a side of the call can be recorded from: the inputs, then the loopback of
    each output device, numbered after all of PortAudio's devices."""
    sd = sd or _sounddevice()
    inputs = list_input_devices(sd)
    first = len(sd.query_devices())
    loopbacks = [
        InputDevice(
            first + i, lb.name, lb.channels, LOOPBACK_RATE, "loopback", lb, default=lb.default
        )
        for i, lb in enumerate(list_loopback_devices(sc))
    ]
    return inputs + loopbacks


def find_capture_device(spec: str | int, sd: Any = None, sc: Any = None) -> InputDevice:
    """An input or a loopback by index, exact name, or unique part of its name."""
    return _match(spec, list_capture_devices(sd, sc))


def find_input_device(spec: str | int, sd: Any = None) -> InputDevice:
    """A PortAudio input by index, exact name, or unique case-insensitive part of its name."""
    return _match(spec, list_input_devices(sd))


def _match(spec: str | int, devices: list[InputDevice]) -> InputDevice:
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
