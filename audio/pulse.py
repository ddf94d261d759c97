"""Which sound-server source each of our capture streams really records from.

On a desktop the sound server is PulseAudio or PipeWire (with its PulseAudio interface),
and PortAudio reaches it through ALSA's pulse plugin. When a source disappears — a USB
headset unplugged, a softphone's virtual line torn down — the server does not fail our
stream: it *moves* it to another source (module-rescue-streams). PortAudio keeps
delivering frames at full rate, now from the wrong microphone. Only the server knows, so
:class:`PulseRoutes` asks it (through ``pulsectl``, the ctypes binding of libpulse).

Everything here is best effort: without libpulse or a running server it returns ``None``
or empty answers, and capture works as before, watched only by PortAudio's own signals.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)

# ALSA devices that follow the server's default source on purpose: a move is what the user
# asked for when they picked one of these, not a lost device.
FOLLOWS_DEFAULT = frozenset({"pulse", "default", "sysdefault", "pipewire"})


def follows_default(device_name: str) -> bool:
    return device_name.strip().lower() in FOLLOWS_DEFAULT


class PulseRoutes:
    """One connection to the sound server; use it from one thread at a time."""

    def __init__(self, pulse: Any) -> None:
        self._pulse = pulse
        self._pid = str(os.getpid())

    @classmethod
    def connect(cls, client_name: str = "calmline-input-watch") -> PulseRoutes | None:
        """A connection, or ``None`` when there is no PulseAudio/PipeWire server."""
        try:
            import pulsectl

            return cls(pulsectl.Pulse(client_name))
        except Exception as exc:  # no libpulse (OSError), no server (PulseError), …
            log.debug("no PulseAudio/PipeWire server to watch inputs with: %s", exc)
            return None

    def our_streams(self) -> dict[int, str]:
        """This process's recording streams: stream index → the source it records from."""
        names = {source.index: source.name for source in self._pulse.source_list()}
        return {
            stream.index: names.get(stream.source, "")
            for stream in self._pulse.source_output_list()
            if stream.proplist.get("application.process.id") == self._pid
        }

    def sources(self) -> set[str]:
        """The names of the sources the server has now."""
        return {source.name for source in self._pulse.source_list()}

    def close(self) -> None:
        try:
            self._pulse.close()
        except Exception:  # closing a dead connection
            log.debug("closing the sound-server connection failed", exc_info=True)
