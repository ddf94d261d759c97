"""The input check before a call: the chosen devices are opened, their audio is thrown away,
and only their level is kept — so the agent sees that the headset and the phone line are
live before the client is on the line, and hears about a busy or missing device then."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from audio.errors import AudioInputError
from audio.sides import Side
from audio.sources import AudioSource, DeviceSource

OpenDevice = Callable[[Side, int | str], AudioSource]


class InputMonitor:
    """Opens one capture stream per side; :meth:`levels` reports and discards."""

    def __init__(
        self, devices: Mapping[Side, int | str], open_device: OpenDevice = DeviceSource
    ) -> None:
        self.devices = dict(devices)
        self._sources: dict[Side, AudioSource] = {}
        self.errors: dict[Side, str] = {}
        for side, spec in self.devices.items():
            try:
                source = open_device(side, spec)
                source.start()
            except AudioInputError as exc:
                self.errors[side] = str(exc)
            else:
                self._sources[side] = source

    def levels(self) -> dict[Side, float]:
        """Each open side's latest level in dBFS; queued audio is dropped (not a call)."""
        levels = {}
        for side, source in self._sources.items():
            source.buffer.drain()
            levels[side] = source.stats().level_dbfs
            if source.error:  # lost while checking; it clears when the device is back
                self.errors[side] = source.error
            else:
                self.errors.pop(side, None)
        return levels

    def close(self) -> None:
        sources, self._sources = self._sources, {}
        for source in sources.values():
            source.stop()


def switch_monitor(
    current: InputMonitor | None,
    wanted: Mapping[Side, int | str] | None,
    open_device: OpenDevice = DeviceSource,
) -> InputMonitor | None:
    """Close ``current`` (releasing its devices first), then open ``wanted`` if any."""
    if current is not None:
        current.close()
    return InputMonitor(wanted, open_device) if wanted else None
